# cython: language_level=3
"""NumPy's summation order, shared by the kernels that must reproduce ``np.sum`` bit for bit."""


cdef inline double pairwise_sum(const double* a, Py_ssize_t n) noexcept nogil:
    """``np.sum`` of ``n`` contiguous float64 numbers, in NumPy's order: one by one from 0.0
    below 8, else 8 accumulators (blocks of at most 128, halved recursively)."""
    cdef double res
    cdef double r[8]
    cdef Py_ssize_t i, j, n2
    if n < 8:
        res = 0.0
        for i in range(n):
            res = res + a[i]
        return res
    if n <= 128:
        for j in range(8):
            r[j] = a[j]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] = r[j] + a[i + j]
            i = i + 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res = res + a[i]
            i = i + 1
        return res
    n2 = n // 2
    n2 = n2 - n2 % 8
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2)

# cython: language_level=3
"""Sums of the rows of an effects matrix that a mask of steps picks, formed in a kernel only
where their order cannot matter.

The engine's products of a 0/1 mask of steps with the steps' effects (``mask @ effects``)
went to BLAS, which adds the terms in an order of its own (it differs with the shapes and
the column). A sum with at most two nonzero terms (the other terms are zeros) is the same in
every order, so a kernel may add the picked rows itself, in their order, where no column
gets more than two; elsewhere the caller asks BLAS for the product, as before. The shock
kernel adds its hits' rows in order whatever their number (docs/model.md, "compiled").
"""

from libc.float cimport DBL_MAX
from libc.string cimport memcpy

from detente.sim.native.rows cimport any_set


cdef inline bint finite(const double* x, Py_ssize_t size) noexcept nogil:
    """Every one of the ``size`` values at ``x`` is finite (BLAS's product of 0 with an
    infinite one is NaN)."""
    cdef Py_ssize_t j
    for j in range(size):
        if not (-DBL_MAX <= x[j] <= DBL_MAX):
            return False
    return True


cdef inline bint finite_rows(const double[:, :, ::1] x) noexcept nogil:
    """:func:`finite` of a C-contiguous ``[m, K, width]`` array."""
    return x.shape[0] * x.shape[1] * x.shape[2] == 0 or finite(
        &x[0, 0, 0], x.shape[0] * x.shape[1] * x.shape[2])


cdef inline bint finite_matrix(const double[:, ::1] x) noexcept nogil:
    """:func:`finite` of a C-contiguous ``[m, K]`` array."""
    return x.shape[0] * x.shape[1] == 0 or finite(&x[0, 0], x.shape[0] * x.shape[1])


cdef inline bint order_free(
    const unsigned char* steps, const double* effects, Py_ssize_t n_k, Py_ssize_t width,
    int* count,
) noexcept nogil:
    """Whether the sum of the rows of ``effects`` (``[n_k, width]``) that ``steps`` picks is
    the same in every order: no column has more than two nonzero terms (``count``: scratch
    of ``width``)."""
    cdef Py_ssize_t k = 0, j, picked = 0
    cdef const double* row
    cdef unsigned long long x
    # the steps picked, eight at a time (0 or 1 each: their sum is the bytes' sum, which
    # one product gathers in the top byte)
    while k + 8 <= n_k:
        memcpy(&x, steps + k, 8)
        picked += <Py_ssize_t>(((x & 0x0101010101010101ULL) * 0x0101010101010101ULL) >> 56)
        k += 8
    while k < n_k:
        picked += steps[k] & 1
        k += 1
    if picked <= 2:
        return True
    for j in range(width):
        count[j] = 0
    for k in range(n_k):
        if steps[k]:
            row = effects + k * width
            for j in range(width):
                count[j] += row[j] != 0.0
    for j in range(width):
        if count[j] > 2:
            return False
    return True


cdef inline void step_sum(
    const unsigned char* steps, const double* effects, Py_ssize_t n_k, Py_ssize_t width,
    double* out,
) noexcept nogil:
    """The rows of ``effects`` (``[n_k, width]``) that ``steps`` picks, added in their order
    (``+0.0`` where none is picked)."""
    cdef Py_ssize_t k = 0, j
    cdef const double* row
    cdef unsigned long long x
    for j in range(width):
        out[j] = 0.0
    while k < n_k:
        # eight steps none picked (the most) passed over at once
        if k + 8 <= n_k:
            memcpy(&x, steps + k, 8)
            if x == 0:
                k += 8
                continue
        if steps[k]:
            row = effects + k * width
            for j in range(width):
                out[j] = out[j] + row[j]
        k += 1


cdef inline double picked_sum(
    const unsigned char* steps, const double* values, Py_ssize_t n_k,
) noexcept nogil:
    """The ``values`` the set ``steps`` pick, added in their order (``+0.0``: none)."""
    cdef Py_ssize_t k
    cdef double acc = 0.0
    for k in range(n_k):
        if steps[k]:
            acc = acc + values[k]
    return acc

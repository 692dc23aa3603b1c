# cython: language_level=3
"""Row helpers shared by the kernels that skip the worlds with nothing to do."""

from libc.string cimport memcpy


cdef inline bint any_set(const unsigned char* row, Py_ssize_t n) noexcept nogil:
    """Whether any of ``n`` contiguous bytes is nonzero (eight at a time)."""
    cdef unsigned long long x
    cdef Py_ssize_t i = 0
    while i + 8 <= n:
        memcpy(&x, row + i, 8)
        if x:
            return True
        i = i + 8
    while i < n:
        if row[i]:
            return True
        i = i + 1
    return False

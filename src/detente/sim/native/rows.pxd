# cython: language_level=3
"""Row helpers shared by the kernels: the row a world reads of a leaf, and the test that
skips the worlds with nothing to do."""

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


cdef extern from *:
    """
    /* a stacked run's row (out of line: the kernels' loops stay as small as without it) */
    static __attribute__((noinline)) Py_ssize_t detente_state_row(
            Py_ssize_t w, Py_ssize_t m, Py_ssize_t n) {
        return w * m / n;
    }
    """
    Py_ssize_t state_row "detente_state_row" (Py_ssize_t w, Py_ssize_t m, Py_ssize_t n) nogil


cdef inline Py_ssize_t row_of(Py_ssize_t w, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """The row world ``w`` of ``n`` reads of a leaf with ``m`` rows: ``w * m // n``.

    ``m = 1``: shared by all worlds (row 0); ``m = n``: one row per world (row ``w``); ``m``
    states of a stacked run, each with ``n / m`` consecutive worlds: its state's row
    (:func:`detente.sim.engine.per_state_rows`). The first two without a division.
    """
    if m == 1:
        return 0
    if m == n:
        return w
    return state_row(w, m, n)

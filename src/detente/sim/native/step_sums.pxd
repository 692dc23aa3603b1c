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
    cdef Py_ssize_t k, j, picked = 0
    cdef const double* row
    if not any_set(steps, n_k):
        return True
    for k in range(n_k):
        picked += steps[k]
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
    cdef Py_ssize_t k, j
    cdef const double* row
    for j in range(width):
        out[j] = 0.0
    for k in range(n_k):
        if steps[k]:
            row = effects + k * width
            for j in range(width):
                out[j] = out[j] + row[j]


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

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Recording of the step metrics (docs/model.md, "Metrics"), one step at a time.

Compiled form of what :meth:`detente.sim.engine.Trajectories.store` keeps of
:func:`~detente.sim.engine.record_metrics`: every metric of a step, cast to float32, written
into the run's staging rows (:func:`record_step`), and the staged steps moved into the result's
world-major layout at the end of the run (:func:`flush`), in one pass that reads each cache
line of the staging rows once.

The values are those NumPy's ``float32`` cast gives (the C conversion of a double, a bool as
0 or 1), and the beliefs' ``1 / (1 + exp(-x))`` is computed in the same float64 operations,
in the same order, as :func:`detente.sim.engine._expit`, from the ``exp(-x)`` NumPy computed
(its SIMD ``exp`` is not the C library's).

A metric's value is read through the buffer protocol, not a typed memoryview: a step hands
over two dozen arrays, and a memoryview's checks cost more than the copy of a metric. The
loops keep the GIL: releasing it around each metric's short loop cost more than the loop.
"""

from cpython.buffer cimport PyBUF_STRIDES, PyBuffer_Release, PyObject_GetBuffer

cdef enum:
    _VECTOR = -1
    _EXPIT = -2
    _ZERO = -3

#: Codes of :func:`record_step` (any code ``>= 0`` is a column of a ``[n, k]`` array).
VECTOR = _VECTOR  # a vector ``[n]`` (float64 or bool)
EXPIT = _EXPIT  # a float64 vector ``[n]`` of ``exp(-x)``: the metric is ``1 / (1 + exp(-x))``
ZERO = _ZERO  # no value: the metric is 0 in every world (the scenario lacks its role)


cdef void _cast(const char* src, Py_ssize_t src_step, Py_ssize_t itemsize, bint expit,
                char* dst, Py_ssize_t dst_step, Py_ssize_t n) noexcept nogil:
    """Write the float32 of ``n`` float64 (``itemsize`` 8) or bool (1) values, ``src_step``
    bytes apart, ``dst_step`` bytes apart from ``dst`` (the beliefs' ``1 / (1 + e)`` with
    ``expit``). The usual case, both contiguous, is a plain loop gcc vectorises."""
    cdef Py_ssize_t w
    cdef const double* s = <const double*>src
    cdef float* d = <float*>dst
    if itemsize == 1:
        for w in range(n):
            (<float*>(dst + w * dst_step))[0] = 1.0 if src[w * src_step] else 0.0
    elif expit:
        for w in range(n):
            (<float*>(dst + w * dst_step))[0] = <float>(
                1.0 / (1.0 + (<const double*>(src + w * src_step))[0]))
    elif src_step == sizeof(double) and dst_step == sizeof(float):
        for w in range(n):
            d[w] = <float>s[w]
    else:
        for w in range(n):
            (<float*>(dst + w * dst_step))[0] = <float>(<const double*>(src + w * src_step))[0]


def record_step(
    float[:, :, :] out, Py_ssize_t slot, tuple values, const long long[::1] codes,
    const long long[::1] rows,
):
    """Write one step's metrics, cast to float32, into ``out[rows[i], slot, :]``.

    Parameters
    ----------
    out : float32 ``[M, S, n]``
        Metric by metric, ``S`` steps of every world (any strides).
    slot : int
        The step's index along ``S``.
    values : tuple
        The metrics in the order of ``codes``: each ``[n]`` (float64 or bool, any stride), a
        ``[n, k]`` array whose column ``codes[i]`` is the metric, or anything for
        :data:`ZERO`.
    codes : int64 ``[len(values)]``
        :data:`VECTOR`, :data:`EXPIT`, :data:`ZERO` or a column.
    rows : int64 ``[len(values)]``
        The row of ``out`` of each value.
    """
    cdef Py_ssize_t n = out.shape[2], i, w, m = len(values), itemsize, col
    cdef long long code
    cdef const char* base
    cdef char* dst
    cdef Py_ssize_t dst_step = out.strides[2]
    cdef Py_buffer view
    if codes.shape[0] != m or rows.shape[0] != m:
        raise ValueError("record_step: one code and one row per value")
    if not 0 <= slot < out.shape[1]:
        raise ValueError(f"record_step: slot {slot} outside [0, {out.shape[1]})")
    for i in range(m):
        if not 0 <= rows[i] < out.shape[0]:
            raise ValueError(f"record_step: row {rows[i]} outside [0, {out.shape[0]})")
        dst = <char*>&out[rows[i], slot, 0]
        code = codes[i]
        if code == _ZERO:
            for w in range(n):
                (<float*>(dst + w * dst_step))[0] = 0.0
            continue
        PyObject_GetBuffer(values[i], &view, PyBUF_STRIDES)
        try:
            itemsize = view.itemsize
            if code >= 0:
                if view.ndim != 2 or view.shape[0] != n or not code < view.shape[1]:
                    raise ValueError(f"record_step: value {i} is not [{n}, > {code}]")
                col = <Py_ssize_t>code
                base = <const char*>view.buf + col * view.strides[1]
            else:
                if view.ndim != 1 or view.shape[0] != n:
                    raise ValueError(f"record_step: value {i} is not [{n}]")
                base = <const char*>view.buf
            if itemsize != 8 and (itemsize != 1 or code == _EXPIT):
                raise ValueError(f"record_step: value {i} is neither float64 nor bool")
            _cast(base, view.strides[0], itemsize, code == _EXPIT, dst, dst_step, n)
        finally:
            PyBuffer_Release(&view)


cdef enum:
    _BLOCK = 16  # worlds moved together by flush: one 64-byte cache line of a staged row


def flush(const float[:, :, ::1] staged, float[:, :, ::1] out, Py_ssize_t first,
          Py_ssize_t count):
    """Copy the first ``count`` steps of ``staged`` (``[M, S, n]``) into steps
    ``[first, first + count)`` of ``out`` (``[M, n, T]``, world-major).

    Sixteen worlds at a time: each step's cache line of those worlds is read once and
    spread over their rows of ``out``. World by world, a world's steps sit ``4 n`` bytes
    apart (16 KB for 4096 worlds), so they all fall in one set of the L1 cache and evict
    each other before the next world reads the same lines (4x the time).
    """
    cdef Py_ssize_t n_m = staged.shape[0], n = staged.shape[2], m, w, j, k, width
    if (out.shape[0] != n_m or out.shape[1] != n or count > staged.shape[1]
            or first < 0 or count < 0 or first + count > out.shape[2]):
        raise ValueError("flush: shapes do not match")
    cdef Py_ssize_t row = out.shape[2]
    cdef const float* src
    cdef float* dst
    for m in range(n_m):
        for w in range(0, n, _BLOCK):
            width = min(_BLOCK, n - w)
            dst = &out[m, w, first]
            for j in range(count):
                src = &staged[m, j, w]
                for k in range(width):
                    dst[k * row + j] = src[k]

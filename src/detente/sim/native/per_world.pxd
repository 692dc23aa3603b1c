# cython: language_level=3, boundscheck=False, wraparound=False
"""What the environment and domestic kernels read per world, taken apart once per call: a
parameter of one value (shared) or one per world, and the step's draws asked for ahead."""


cdef struct Param:
    # a parameter as a kernel's loop reads it (:func:`param`, :func:`at`)
    const char* data
    Py_ssize_t stride  # bytes from one world's value to the next; 0: shared


cdef inline Param param(const double[:] x) noexcept nogil:
    """Parameter ``x`` (length 1: shared, or one per world), so that a loop over worlds
    reads world ``w``'s value without testing the length in every world."""
    cdef Param p
    p.data = <const char*>&x[0]
    p.stride = x.strides[0] if x.shape[0] > 1 else 0
    return p


cdef inline double at(Param p, Py_ssize_t w) noexcept nogil:
    """World ``w``'s value of a :func:`param`."""
    return (<const double*>(p.data + w * p.stride))[0]


cdef extern from *:
    """
    #define detente_prefetch(p) __builtin_prefetch((const void *)(p))
    """
    # ask for the cache line of ``p`` (no fault, whatever the address)
    void prefetch "detente_prefetch" (const void* p) noexcept nogil


cdef enum:
    # how many worlds ahead a loop asks for its world's row of this step's draws: they are
    # ``[n, T, ...]``, so a step's row of each world is a cache line of its own, at a
    # stride the hardware does not prefetch (the loads waited on memory)
    AHEAD = 16

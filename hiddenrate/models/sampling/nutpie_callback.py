"""Where a hand-written log density finds its data in a nutpie model, and how it is checked.

nutpie compiles a PyMC model into a C function ``logp(dim, x, grad, logp, user_data)``; the
model's ``pm.Data`` arrays are reached through ``user_data``, a record holding one data pointer
per array (``CompiledPyMCModel.with_data`` swaps the arrays and rewrites the pointers). The
hand-written kernels (:mod:`hiddenrate.models.sampling.latent_class_kernel`,
:mod:`hiddenrate.models.sampling.reporting_kernel`) replace that function and read the same record.
They are installed only when the record has exactly the layout they expect
(:func:`data_pointer_words`); otherwise the model keeps PyTensor's function, so a future nutpie
falls back to a slower gradient instead of a wrong one.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hiddenrate.models.sampling.jit_cache import cached_jit, file_digest, stamp

__all__ = ["compile_callback", "data_pointer_words", "evaluate", "finish", "is_installed", "kernel_jit", "signature"]

_OWN_DIGEST = file_digest(__file__)

_FINISH: list[Any] = []


def data_pointer_words(user_data: Any, names: Sequence[str]) -> dict[str, int] | None:
    """Position (in 64-bit words) of each named array's data pointer in nutpie's user-data record.

    Returns None unless the record holds exactly these arrays (in any order), as 64-bit pointers
    at 8-byte aligned positions.
    """
    try:
        fields: Any = user_data.dtype.fields
        shared = fields["shared"]
        data = shared[0].fields["data"]
        record = data[0]
        found = set(record.names)
        pointers = {name: record.fields[name] for name in names}
    except (KeyError, TypeError, AttributeError):
        return None
    if found != set(names) or np.dtype(np.uintp).itemsize != 8:
        return None
    words = {}
    for name, (dtype, offset) in pointers.items():
        position = int(shared[1] + data[1] + offset)
        if dtype != np.dtype(np.uintp) or position % 8:
            return None
        words[name] = position // 8
    return words


def signature() -> Any:
    """numba signature of nutpie's log-density callback: ``int64(dim, x*, grad*, logp*, user_data*)``."""
    import numba

    double = numba.types.CPointer(numba.types.double)
    return numba.types.int64(numba.types.uint64, double, double, double, numba.types.voidptr)


def evaluate(compiled: Any, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """Call a nutpie model's log-density function at ``x``, as the sampler does.

    Returns nutpie's status code (0: success), the log density and its gradient. Works for
    PyTensor's generated function and for the hand-written kernels alike, so tests can compare them.
    """
    import ctypes

    x = np.ascontiguousarray(x, dtype=np.float64)
    pointer = ctypes.POINTER(ctypes.c_double)
    grad, value = np.zeros(x.size), np.zeros(1)
    code = compiled.compiled_logp_func.ctypes(x.size, x.ctypes.data_as(pointer), grad.ctypes.data_as(pointer),
                                              value.ctypes.data_as(pointer), ctypes.c_void_p(compiled.user_data.ctypes.data))
    return int(code), float(value[0]), grad


def is_installed(compiled: Any, kernels: Any) -> bool:
    """Whether ``compiled`` evaluates its log density with one of ``kernels`` (a dict of callbacks)."""
    function = getattr(compiled, "compiled_logp_func", None)
    return any(function is kernel for kernel in kernels.values())


def finish() -> Any:
    """A numba function ``(value, grad, logp) -> status`` ending every callback the same way.

    Stores the log density; returns 3 when a gradient entry is not finite, 4 when the log
    density is not (nutpie then treats the point as divergent), 0 otherwise.
    """
    if not _FINISH:

        @cached_jit(stamp((_OWN_DIGEST,), "finish"), nogil=True)  # a fixed identity: callbacks holding it are cached
        def end(value: float, grad: np.ndarray, logp: np.ndarray) -> int:
            logp[0] = value
            for i in range(grad.size):
                if not np.isfinite(grad[i]):
                    return 3
            if not np.isfinite(value):
                return 4
            return 0

        _FINISH.append(end)
    return _FINISH[0]


def kernel_jit(module_digest: str | None, key: Any) -> Callable[[Any], Any]:
    """``numba.njit(nogil=True, error_model="numpy")`` for a hand-written kernel, cached on disk under an
    identity made of the kernel module's source, this module's and ``key`` (the kernel's structure)."""
    return cached_jit(stamp((module_digest, _OWN_DIGEST), repr(key)), nogil=True, error_model="numpy")


def compile_callback(callback: Callable[..., int], module_digest: str | None, key: Any) -> Any:
    """``numba.cfunc(signature())(callback)``, cached on disk like the kernel it calls (:func:`kernel_jit`).

    numba keys a cached closure on its bytecode and its cells; the cells hold the kernel and
    :func:`finish`, whose identities are fixed, so a later process finds the machine code. The copy
    gets a name of its own per structure, so every structure has its own cache files.
    """
    import numba
    from numba.core.errors import NumbaWarning

    identity = stamp((module_digest, _OWN_DIGEST), f"callback {key!r}")
    if identity is not None:
        copy = types.FunctionType(callback.__code__, callback.__globals__, callback.__name__, callback.__defaults__,
                                  callback.__closure__)
        copy.__qualname__ = f"{callback.__qualname__}_{identity}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NumbaWarning)  # "cannot cache": still compiled, in memory
                return numba.cfunc(signature(), cache=True)(copy)
        except (RuntimeError, OSError):  # no cache location numba can use
            pass
    return numba.cfunc(signature())(callback)

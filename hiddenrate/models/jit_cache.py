"""numba compilation cached on disk, for samplers built from closures (the latent-class Gibbs-HMC sweep).

The sweep is generated per structure (number of lists, classes, priors) as closures that call
each other. numba can cache closures on disk (``cache=True``), keying each entry on the
function's bytecode and a hash of its closure's contents; but a closure that holds another
compiled function pickles it with a random identifier, so the key differed in every process and
every run compiled afresh (6-8 s) while adding files to the cache. :func:`cached_jit` gives each
compiled function a fixed identifier instead, made from the structure, the package version and
the source of the modules that build the sampler: the same structure loads from the cache in a
new process, and any change to those sources (or to the version) misses it and compiles anew.

The cache holds machine code for a structure, never data. It lives where numba puts it: a
``__pycache__`` folder beside the module, or under ``NUMBA_CACHE_DIR``. When numba cannot cache
(no writable location, or a numba without the identifier hook), functions are compiled as
before, in memory only.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from hiddenrate._version import __version__

__all__ = ["cached_jit", "stamp"]


def stamp(modules: tuple[ModuleType, ...], key: str) -> str | None:
    """A hash of the package version, the modules' source and ``key`` (the structure compiled).

    None when a module's source cannot be read (then nothing is cached).
    """
    digest = hashlib.sha256(f"{__version__}\n{key}\n".encode())
    try:
        for module in modules:
            digest.update(inspect.getsource(module).encode())
    except (OSError, TypeError):
        return None
    return digest.hexdigest()[:24]


def cached_jit(identity: str | None, **options: Any) -> Callable[[Any], Any]:
    """``numba.njit(**options)`` with an on-disk cache keyed by ``identity`` (see :func:`stamp`).

    Every function compiled through the returned decorator gets the identifier
    ``identity + qualified name``, so two structures (different identities) never share an entry.
    With ``identity`` None, plain ``numba.njit(**options)``.
    """
    import numba

    def jit(function: Any) -> Any:
        if identity is None:
            return numba.njit(**options)(function)
        try:
            dispatcher = numba.njit(cache=True, **options)(function)
            dispatcher._set_uuid(f"hiddenrate-{identity}-{function.__qualname__}")
        except (RuntimeError, AttributeError, AssertionError):
            return numba.njit(**options)(function)
        return dispatcher

    return jit

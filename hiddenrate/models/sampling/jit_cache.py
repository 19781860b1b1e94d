"""numba compilation cached on disk, for samplers built from closures (the latent-class Gibbs-HMC sweep).

The sweep is generated per structure (number of lists, classes, priors) as closures that call
each other. numba can cache closures on disk (``cache=True``), keying each entry on the
function's bytecode and a hash of its closure's contents; but a closure that holds another
compiled function pickles it with a random identifier, so the key differed in every process and
every run compiled afresh (6-8 s) while adding files to the cache. :func:`cached_jit` gives each
compiled function a fixed identity instead, made from:

* the structure and the compile options;
* the package version;
* digests of the source files of the modules that build the sampler *and of this module*, each
  taken when the module is imported (:func:`file_digest`), so that they describe the code that is
  loaded even if a file is edited while a process runs.

The identity goes into each function's cache file name as well as its key, so every structure
(and every version of the source) has files of its own: two processes compiling different
structures at once never write the same file, and edited sources never load old machine code.
numba itself adds the numba version and the CPU to the key.

The cache holds machine code for a structure, never data (data reach the sampler as arguments).
It lives where numba puts it: a ``__pycache__`` folder beside the module, or under
``NUMBA_CACHE_DIR``. When numba cannot cache (no writable location, ``NUMBA_DISABLE_JIT``, or a
numba without the identifier hook), functions are compiled as before, in memory only.

Keep every function the sweep compiles in the modules whose digests are passed in: a helper
called from another module would not be part of the identity.
"""

from __future__ import annotations

import hashlib
import itertools
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hiddenrate._version import __version__

__all__ = ["cached_jit", "file_digest", "stamp"]


def file_digest(path: str) -> str | None:
    """sha256 of a source file; call it at a module's import, with ``__file__``. None if unreadable."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


_OWN_DIGEST = file_digest(__file__)


def stamp(digests: tuple[str | None, ...], key: str) -> str | None:
    """The identity of a compiled structure: version, this module, the modules' digests and ``key``.

    None when a digest is missing (then nothing is cached).
    """
    if _OWN_DIGEST is None or any(digest is None for digest in digests):
        return None
    text = "\n".join([__version__, _OWN_DIGEST, *(str(digest) for digest in digests), key])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_jit(identity: str | None, **options: Any) -> Callable[[Any], Any]:
    """``numba.njit(**options)`` with an on-disk cache of its own for ``identity`` (see :func:`stamp`).

    Each function compiled through the returned decorator is a copy whose qualified name ends in
    a hash of ``identity`` and ``options`` (numba names the cache files after it), with a
    numba identifier made from that name and its place in the build order. With ``identity``
    None, plain ``numba.njit(**options)``.
    """
    import numba

    if identity is None:
        return numba.njit(**options)
    suffix = hashlib.sha256(f"{identity}\n{sorted(options.items())!r}".encode()).hexdigest()[:24]
    order = itertools.count()

    def jit(function: Any) -> Any:
        copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                                  function.__closure__)
        copy.__kwdefaults__ = function.__kwdefaults__
        copy.__qualname__ = f"{function.__qualname__}_{suffix}"
        try:
            dispatcher = numba.njit(cache=True, **options)(copy)
            dispatcher._set_uuid(f"hiddenrate-{copy.__qualname__}-{next(order)}")
        except (RuntimeError, AttributeError, AssertionError):
            return numba.njit(**options)(function)
        return dispatcher

    return jit

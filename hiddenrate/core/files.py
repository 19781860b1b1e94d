"""Writing files whole or not at all.

Every file hiddenrate writes (``--output``, ``--save``, ``--plot``, ``Result.save``) is first written
to a temporary name in the target's own folder (``.NAME.XXXXXX.tmp``) and then renamed over the
target (:func:`os.replace`, atomic on one file system). An interrupted run therefore leaves either
the old file or the new one, never half of one. Temporary files in progress are registered here,
so that the CLI's signal handling (:mod:`hiddenrate.cli.signals`) can remove them before it exits.

Special files (``/dev/null``, ``/dev/stdout``, a FIFO) cannot be replaced by a rename; they are
written directly.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

__all__ = ["Staging", "atomic_write", "discard_pending", "is_special", "lock"]

#: held while a temporary file is created and registered, and while staged files are renamed into
#: place: the signal handler takes it too, so it never sees half of either.
lock = threading.RLock()
_pending: set[str] = set()


def is_special(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` exists and is not a regular file or folder (a device, a FIFO, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _mode() -> int:
    """The permissions a new file gets under the current umask (a temporary file starts at 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary(target: Path) -> str:
    """Create and register an empty temporary file beside ``target``; return its name."""
    with lock:
        fd, name = tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".tmp", dir=target.parent)
        _pending.add(name)
    os.close(fd)
    return name


def _forget(name: str) -> None:
    with lock:
        _pending.discard(name)
    try:
        os.unlink(name)
    except OSError:
        pass


def discard_pending() -> None:
    """Remove every temporary file in progress (called by the signal handler before it exits)."""
    with lock:
        for name in list(_pending):
            try:
                os.unlink(name)
            except OSError:
                pass
        _pending.clear()


class Staging:
    """Several output files written to temporary names, then renamed into place together.

    ``stage(path, writer)`` calls ``writer(temporary_name)``; :meth:`commit` renames every staged
    file under :data:`lock`, so a signal sees either none of them renamed or all. Leaving the
    ``with`` block without committing (an error, an interrupt) removes the temporary files.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[str, Path]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for name, _ in self._staged:
            _forget(name)
        self._staged.clear()

    def stage(self, path: str | os.PathLike[str], writer: Callable[[str], object]) -> None:
        """Write ``path`` through ``writer`` (at once for a special file such as /dev/null)."""
        target = Path(path)
        if is_special(target):
            writer(str(target))
            return
        name = _temporary(target)
        self._staged.append((name, target))
        writer(name)
        os.chmod(name, _mode())

    def commit(self) -> None:
        """Rename every staged file over its target."""
        with lock:
            for name, target in self._staged:
                os.replace(name, target)
                _pending.discard(name)
            self._staged.clear()


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[str]:
    """``with atomic_write(path) as temporary: write(temporary)``: ``path`` is replaced only if the
    block succeeds."""
    with Staging() as staging:
        names: list[str] = []
        staging.stage(path, names.append)
        yield names[0]
        staging.commit()

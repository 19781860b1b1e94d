"""Cache and configuration folders that cannot be written never stop a command.

The libraries hiddenrate uses write to the user's folders: ArviZ creates ``~/.cache/arviz`` when
it is imported (and fails with PermissionError when it cannot), matplotlib keeps its font cache
in ``~/.cache/matplotlib`` and its configuration in ``~/.config/matplotlib`` (``MPLCONFIGDIR``),
and PyTensor compiles into ``~/.pytensor``. With a HOME
that does not exist or is read-only (a service account, a locked-down machine, a container),
every command failed at import.

:func:`prepare` (called first by :func:`hiddenrate.cli.main`, before any of those libraries is
imported) tries each folder; when one cannot be written it points the libraries at a private
temporary folder instead (``XDG_CACHE_HOME``, ``XDG_CONFIG_HOME``, ``MPLCONFIGDIR``,
``PYTENSOR_FLAGS=base_compiledir=...``; a folder the user set is kept) and
says so once on stderr. The folder is ``hiddenrate-UID`` in the system's temporary folder, reused
only when it is a real folder owned by this user and closed to others (compiled machine code is
loaded from it), else a fresh one. (numba caches beside its modules or not at all:
:mod:`hiddenrate.models.sampling.jit_cache` compiles in memory when no folder can be written.)
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


def _writable(folder: Path) -> str | None:
    """None if a file can be created in ``folder`` or, when it does not exist yet, in the nearest
    folder above it that does (nothing is created but a probe file, removed at once); else why not."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():
            return "a broken link"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        fd, name = tempfile.mkstemp(prefix=".hiddenrate-probe-", dir=probe)
    except OSError as err:
        return err.strerror or err.__class__.__name__
    os.close(fd)
    os.unlink(name)
    return None


def _private_folder() -> Path:
    """``$TMPDIR/hiddenrate-UID`` if it is safe to reuse (or to create), else a fresh temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"hiddenrate-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077:
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="hiddenrate-"))


_NAMES = {"XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "MPLCONFIGDIR": "matplotlib",
          "PYTENSOR_FLAGS": "pytensor"}


def _user_folders(home: Path) -> dict[str, Path]:
    """variable -> the folder the libraries would use without it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return {"XDG_CACHE_HOME": cache, "XDG_CONFIG_HOME": config, "MPLCONFIGDIR": config / "matplotlib",
            "PYTENSOR_FLAGS": home / ".pytensor"}


def prepare(quiet: bool = False) -> Path | None:
    """Redirect the folders that cannot be written to a private temporary folder; return it (or None)."""
    home = Path(os.path.expanduser("~"))
    blocked: dict[str, tuple[Path, str]] = {}
    for variable, folder in _user_folders(home).items():
        if variable == "PYTENSOR_FLAGS" and "compiledir" in os.environ.get("PYTENSOR_FLAGS", ""):
            continue
        if variable == "MPLCONFIGDIR" and os.environ.get(variable):
            folder = Path(os.environ[variable])
        reason = _writable(folder)
        if reason is not None:
            blocked[variable] = (folder, reason)
    if not blocked:
        return None
    try:
        private = _private_folder()
    except OSError:
        return None  # no temporary folder either: the libraries will say what fails
    for variable in blocked:
        target = private / _NAMES[variable]
        target.mkdir(exist_ok=True)
        if variable == "PYTENSOR_FLAGS":
            flags = os.environ.get("PYTENSOR_FLAGS", "")
            os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={target}") if f)
        else:
            os.environ[variable] = str(target)
    if not quiet:
        first, reason = next(iter(blocked.values()))
        sys.stderr.write(f"hiddenrate: note: cannot write {first} ({reason}); caches and settings go to "
                         f"{private} for this run\n")
    return private

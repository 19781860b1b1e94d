"""Output paths, checked before any work is done.

Every file a command will write (``-o/--output``, ``--save``, ``--plot``) is checked when the
command starts, before data are read or a model is fitted: its folder exists and a file can be
created in it, its extension fits what is written there, it is not a folder, it is not the same
file as any input (``hiddenrate lists s.csv -o s.csv`` would replace the data) and no two outputs
name the same file. A problem is one line and exit 2, and nothing is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hiddenrate.core.exceptions import DataError
from hiddenrate.core.files import is_special

#: extensions of --save (netCDF) and --plot (matplotlib's formats we promise)
SAVE_EXTENSIONS = (".nc",)
PLOT_EXTENSIONS = (".png", ".svg", ".pdf")
#: files -o/--output (text, JSON, CSV, Markdown or HTML) must not pretend to be
BINARY_EXTENSIONS = (".nc", ".nc4", ".h5", ".png", ".pdf", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp",
                     ".bmp", ".xls", ".xlsx", ".doc", ".docx", ".zip", ".gz", ".bz2", ".xz", ".parquet")


@dataclass(frozen=True)
class Target:
    """One output file: the option that names it, the path, and what is written there."""

    option: str
    path: str
    kind: str  # "text", "save" or "plot"


def _extension_problem(target: Target) -> str | None:
    suffix = Path(target.path).suffix.lower()
    if target.kind == "save" and suffix not in SAVE_EXTENSIONS:
        return f"{target.option} writes a netCDF file: give it a name ending in .nc, e.g. result.nc"
    if target.kind == "plot" and suffix not in PLOT_EXTENSIONS:
        return f"{target.option} writes .png, .svg or .pdf files (from the extension)"
    if target.kind == "text" and suffix in BINARY_EXTENSIONS:
        hint = " (to save the result use --save)" if suffix == ".nc" else " (to draw a figure use --plot)" \
            if suffix in (".png", ".pdf", ".jpg", ".jpeg", ".gif") else ""
        return f"{target.option} writes text ({suffix} is not a text file){hint}"
    return None


def _folder_problem(path: Path) -> str | None:
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    try:  # a real test of creating a file: permissions, read-only mounts, ACLs, root
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=folder)
    except OSError as err:
        return f"cannot write in the folder {folder} ({err.strerror})"
    os.close(fd)
    os.unlink(name)
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_targets(targets: Sequence[Target], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse (:class:`DataError`, exit 2) any output that cannot or must not be written.

    ``inputs`` are every file the command reads; an output that is one of them (by path, link or
    hard link) is refused, so an input is never replaced.
    """
    sources = [Path(p) for p in inputs if p is not None and Path(p).exists()]
    for i, target in enumerate(targets):
        path = Path(target.path)
        where = f"{target.option} {target.path}"
        if path.is_dir():
            raise DataError(f"{where}: is a folder; give a file name")
        if is_special(path):
            continue  # /dev/null, /dev/stdout, a FIFO: written directly
        problem = _extension_problem(target) or _folder_problem(path)
        if problem is not None:
            raise DataError(f"{where}: {problem}; nothing was run")
        for source in sources:
            if path.exists() and _same(path, source):
                raise DataError(f"{where}: is also an input ({source}); write the output to another file")
        for other in targets[:i]:
            if _same(path, Path(other.path)):
                raise DataError(f"{where}: {other.option} names the same file; give each output its own file")


def spec_inputs(spec: str | os.PathLike[str]) -> list[Path]:
    """A TOML spec and the data files it names (``file = ...`` in any section), for
    :func:`check_targets`. Unreadable specs give the spec alone (its reader says what is wrong)."""
    import tomllib

    found = [Path(spec)]
    try:
        if not Path(spec).is_file() or Path(spec).stat().st_size > 1_000_000:
            return found  # not a regular file, or too big for a spec: its reader refuses it
        with open(spec, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError, RecursionError):
        return found
    base = Path(spec).resolve().parent
    for section in data.values():
        if isinstance(section, dict) and isinstance(section.get("file"), str):
            found.append(base / section["file"])
    return found


def input_files(source: str | os.PathLike[str]) -> list[Path]:
    """The files a command reads from ``source`` (a CSV, or a TOML spec and its data files)."""
    if str(source).lower().endswith(".toml"):
        return spec_inputs(source)
    return [Path(source)]

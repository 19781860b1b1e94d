"""What a report records about how it was produced: versions, date, input hash. Never data."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from typing import Any

from hiddenrate._version import __version__

_PACKAGES = ("numpy", "scipy", "pandas", "pymc", "pytensor", "arviz", "nutpie")


def versions() -> dict[str, str]:
    """Versions of hiddenrate, Python and the numerical stack (read from metadata, not imported)."""
    out = {"hiddenrate": __version__, "python": platform.python_version()}
    for package in _PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def provenance(source: str | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Provenance block of a result."""
    return {
        "hiddenrate_version": __version__,
        "versions": versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "input_source": source,
        "input_sha256": sha256,
    }

"""What a report records about how it was produced: versions, date, input hash. Never data."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from typing import Any

from hiddenrate._version import __version__
from hiddenrate.core.exceptions import DataError

_PACKAGES = ("numpy", "scipy", "pandas", "pymc", "pytensor", "arviz", "nutpie")


def _installed(wanted: tuple[str, ...]) -> dict[str, str]:
    """Versions from the names of installed ``{name}-{version}.dist-info`` folders (the wheel standard),
    first match on ``sys.path`` winning as at import. Reading folder names costs milliseconds where
    ``importlib.metadata`` costs a tenth of a second of start-up; a package not found that way is
    looked up through ``importlib.metadata``."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem = name[: -len(".dist-info")]
            if name.endswith(".dist-info") and stem.count("-") == 1:
                package, version = stem.split("-")
                package = package.lower().replace("_", "-")
                if package in wanted and package not in found:
                    found[package] = version
    for package in wanted:
        if package not in found:
            from importlib import metadata

            try:
                found[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                continue
    return found


def versions() -> dict[str, str]:
    """Versions of hiddenrate, Python and the numerical stack (read from installed metadata, not imported)."""
    out = {"hiddenrate": __version__, "python": platform.python_version()}
    installed = _installed(_PACKAGES)
    out.update((package, installed[package]) for package in _PACKAGES if package in installed)
    return out


def created() -> str:
    """The creation time of a result: now (UTC, to the second), or ``SOURCE_DATE_EPOCH`` where set.

    ``SOURCE_DATE_EPOCH`` (seconds since 1970-01-01 UTC, the reproducible-builds convention) fixes
    the timestamp, so that two runs with one seed give byte-identical outputs.

    Raises
    ------
    DataError
        ``SOURCE_DATE_EPOCH`` set to anything but a whole number of seconds.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        moment = _dt.datetime.now(_dt.timezone.utc)
    else:
        try:
            if not epoch.isascii() or not epoch.isdigit():
                raise ValueError(epoch)
            moment = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise DataError(f"SOURCE_DATE_EPOCH={epoch[:30]!r}: not a whole number of seconds since "
                            "1970-01-01 UTC (e.g. 1700000000); unset it to stamp the current time") from None
    return moment.replace(microsecond=0).isoformat()


def provenance(source: str | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Provenance block of a result."""
    return {
        "hiddenrate_version": __version__,
        "versions": versions(),
        "created": created(),
        "input_source": source,
        "input_sha256": sha256,
    }

"""Reports record the versions that produced them; the fast reading of folder names must agree
with ``importlib.metadata`` (the reference reading of the same installed metadata)."""

from __future__ import annotations

from importlib import metadata

from hiddenrate._version import __version__
from hiddenrate.core.provenance import _PACKAGES, versions


def test_versions_agree_with_importlib_metadata() -> None:
    recorded = versions()
    assert recorded["hiddenrate"] == __version__
    for package in _PACKAGES:
        try:
            expected = metadata.version(package)
        except metadata.PackageNotFoundError:
            assert package not in recorded
            continue
        assert recorded[package] == expected, package

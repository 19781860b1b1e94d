"""The installed package carries every bundled example (``pip install .`` is not an editable install).

Tests run from the source tree, where every file exists, so a file missing from
``[tool.setuptools.package-data]`` would pass every other test and still break
``hiddenrate trend --example ...`` for a user who installed the package. This checks the
globs themselves against every file under ``hiddenrate/examples``.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from hiddenrate.data.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = ROOT / "hiddenrate" / "data" / "examples"


def _globs() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["setuptools"]["package-data"]["hiddenrate.data.examples"])


def _packaged(relative: str) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) and relative.count("/") == pattern.count("/") for pattern in _globs())


def test_every_data_and_readme_file_under_examples_is_package_data() -> None:
    """Every non-Python file under hiddenrate/examples (data, specs, READMEs) matches a package-data glob."""
    files = [p.relative_to(EXAMPLE_DIR).as_posix() for p in EXAMPLE_DIR.rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert files, "no example files found"
    missing = [f for f in files if not _packaged(f)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_every_registered_example_file_exists_and_is_packaged() -> None:
    """Each ``--example`` name points at an existing file that the wheel carries."""
    for name, example in EXAMPLES.items():
        assert (EXAMPLE_DIR / example.filename).is_file(), name
        assert _packaged(example.filename), (name, example.filename)

"""The type hints are checked, not decoration: mypy must pass on the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_passes_on_the_package():
    if shutil.which("mypy") is None and subprocess.call([sys.executable, "-c", "import mypy"]) != 0:
        pytest.fail("mypy is not installed; it is part of the [test] extra: pip install '.[test]'")
    result = subprocess.run([sys.executable, "-m", "mypy", "hiddenrate"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

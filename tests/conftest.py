"""Shared fixtures: paths to bundled data and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hiddenrate.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "hiddenrate" / "examples" / "lists"
REFERENCE = Path(__file__).resolve().parent / "reference" / "reference_results.csv"


@pytest.fixture
def run_cli():
    """Invoke the CLI; returns click's Result with separate ``stdout`` and ``stderr``."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def write_csv(tmp_path):
    """Write text (or bytes) to a CSV file under tmp_path and return its path."""

    def write(content: str | bytes, name: str = "data.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write

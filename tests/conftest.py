"""Shared fixtures: paths to bundled data and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hiddenrate.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "hiddenrate" / "data" / "examples" / "lists"
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


@pytest.fixture
def check_bad_input(run_cli, write_csv):
    """Run ``hiddenrate COMMAND`` on bad content and check the house rule for bad input.

    One line on stderr starting ``hiddenrate: error:``, nothing on stdout, exit code 2, no
    traceback, every expected fragment in the message, the file named (unless ``names_file`` is
    False, for option errors) and the input file byte-for-byte unchanged.
    """
    import hashlib

    def check(command: str, content: str | bytes, args: list[str], fragments: list[str], *,
              names_file: bool = True, label: str = "") -> str:
        path = write_csv(content)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        result = run_cli(command, path, *args, "--quiet")
        assert result.exit_code == 2, (label, result.stdout, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        message = lines[0]
        assert message.startswith("hiddenrate: error: ")
        assert "Traceback" not in result.stderr
        if names_file:
            assert str(path) in message  # names the file
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # input untouched
        return message

    return check


def pytest_collection_modifyitems(config, items):
    """Run the slow (statistical) tests first, in their collection order, then the quick ones.

    The suite runs on two workers with xdist's worksteal: a ten-minute study collected late would
    start when the other worker has little left to do, and the run would end with one worker idle.
    Started first, the long ones overlap and the many quick ones fill in behind them.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: keeps the order within each

"""Shared fixtures: paths to bundled data and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hiddenrate.cli import cli

_DURATIONS: dict[str, float] = json.loads((Path(__file__).parent / "durations.json").read_text())

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



def _expected_seconds(item) -> float:
    """Rough seconds a test takes on one core with cold caches (tests/durations.json, from a run's
    ``--durations``; a slow test not listed counts 30 s, a quick one 1 s)."""
    known = _DURATIONS.get(item.nodeid)
    if known is not None:
        return known
    return 30.0 if item.get_closest_marker("slow") is not None else 1.0


def pytest_collection_modifyitems(config, items):
    """Order the tests so that the workers finish together.

    xdist's worksteal gives each of the n workers one contiguous n-th of the list and then moves
    tests from the end of the longest queue to a worker that ran out. A ten-minute study that sits
    near the end of a queue therefore starts late and runs alone. Instead, the tests are dealt into
    n equal-sized queues, longest first to the queue with least expected work (the LPT rule), so
    every queue starts with its long tests and ends with quick ones that can be moved.
    """
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    ranked = sorted(items, key=_expected_seconds, reverse=True)  # stable: ties keep collection order
    size = [len(items) // workers + (k < len(items) % workers) for k in range(workers)]
    queues: list[list] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for item in ranked:
        open_queues = [k for k in range(workers) if len(queues[k]) < size[k]]
        k = min(open_queues, key=lambda q: load[q])
        queues[k].append(item)
        load[k] += _expected_seconds(item)
    items[:] = [item for queue in queues for item in queue]

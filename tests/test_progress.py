"""Progress on stderr: only on a terminal, never with --quiet, forced with --progress; never on stdout."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from hiddenrate.cli import cli
from hiddenrate.core import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def reset():
    yield
    progress.configure(False)


def test_shown_on_a_terminal_unless_quiet_or_forced(monkeypatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    progress.configure(show=True)
    assert not progress.showing()  # stderr is a file or a pipe
    progress.configure(show=True, force=True)
    assert progress.showing()  # --progress
    progress.configure(show=False, force=True)
    assert not progress.showing()  # --quiet wins
    monkeypatch.setattr("sys.stderr", Terminal())
    progress.configure(show=True)
    assert progress.showing()


def test_the_spinner_writes_to_stderr_only(monkeypatch, capsys) -> None:
    progress.configure(show=True, force=True)
    with progress.stage("compiling the model"):
        pass
    captured = capsys.readouterr()
    assert captured.out == ""
    progress.configure(show=False)
    with progress.stage("not shown"):
        pass
    assert capsys.readouterr().err == ""


def test_progress_flag_keeps_json_clean() -> None:
    run = CliRunner().invoke(cli, ["lists", "--example", "spina-bifida", "--format", "json", "--progress"],
                             catch_exceptions=False)
    assert run.exit_code == 0
    json.loads(run.stdout)

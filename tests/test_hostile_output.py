"""Hostile conditions on the output side (issue 22): output paths, damaged saved results.

Every case: one line on stderr, exit 2, no traceback, inputs unchanged, nothing half-written.
The property tests of the saved-result loader live in tests/test_hostile_results.py; signals,
unwritable caches and reproducible timestamps in tests/test_hostile_process.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

DATA = "police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n"


def _listing(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _refused(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hiddenrate: error: "), lines
    assert "Traceback" not in result.stderr and result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder holding s.csv, as the current directory (paths as a user types them)."""
    (tmp_path / "s.csv").write_text(DATA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if a model is fitted: output problems must be found before the fit."""
    import hiddenrate.cli.lists as lists_cli

    def fit(*args, **kwargs):
        raise AssertionError("the model was fitted before the outputs were checked")

    monkeypatch.setattr(lists_cli, "fit_lists", fit)


# ----------------------------------------------------------------------------- output paths


@pytest.mark.parametrize("args, fragments", [
    (["-o", "s.csv"], ["--output s.csv", "is also an input"]),
    (["-o", "./sub/../s.csv"], ["is also an input"]),
    (["--save", "s.csv"], ["--save s.csv", ".nc"]),
    (["-o", "ok.json", "--save", "missing/x.nc"], ["--save missing/x.nc", "does not exist"]),
    (["--plot", "fig.gif"], ["--plot fig.gif", ".png, .svg or .pdf"]),
    (["--plot", "fig"], ["--plot fig", ".png, .svg or .pdf"]),
    (["-o", "report.nc"], ["--output report.nc", "--save"]),
    (["-o", "figure.png"], ["--output figure.png", "--plot"]),
    (["-o", "."], ["--output .", "is a folder"]),
    (["-o", "out.svg", "--plot", "./out.svg"], ["--plot ./out.svg", "--output names the same file"]),
    (["-o", "s.csv/r.json"], ["--output s.csv/r.json", "s.csv is not a folder"]),
    (["-o", "missing/report.html"], ["the folder missing does not exist"]),
], ids=["output-is-input", "output-is-input-other-spelling", "save-csv", "late-save-folder", "plot-gif",
        "plot-no-extension", "output-nc", "output-png", "output-folder", "two-outputs-one-file",
        "folder-is-a-file", "output-folder-missing"])
def test_output_refused_before_the_fit(run_cli, folder, no_fit, args, fragments):
    before = _listing(folder)
    (folder / "sub").mkdir()
    _refused(run_cli("lists", "s.csv", "--model", "chapman", *args), *fragments)
    assert _listing(folder) == before  # input unchanged, nothing written


def test_output_through_a_link_to_the_input_is_refused(run_cli, folder, no_fit):
    os.symlink(folder / "s.csv", folder / "link.csv")
    os.link(folder / "s.csv", folder / "hard.csv")
    before = _listing(folder)
    _refused(run_cli("lists", "s.csv", "-o", "link.csv"), "is also an input")
    _refused(run_cli("lists", "s.csv", "-o", "hard.csv"), "is also an input")
    assert _listing(folder) == before


def test_output_in_a_read_only_folder_is_refused(run_cli, folder, no_fit):
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: a read-only bind mount would be needed
            pytest.skip("running as root: permissions do not stop writing (test_output_under_a_file_is_refused "
                        "checks the same refusal in a way root cannot write through)")
        _refused(run_cli("lists", "s.csv", "-o", locked / "r.json"), "cannot write in the folder")
    finally:
        locked.chmod(0o700)


def test_output_under_a_file_is_refused(run_cli, folder, no_fit):
    """Runs as root too (CI): nobody can create a file inside a regular file, so the check before the
    fit must refuse it in one line, exit 2, with nothing written."""
    (folder / "notadir").write_text("")
    before = _listing(folder)
    _refused(run_cli("lists", "s.csv", "-o", folder / "notadir" / "r.json"), "is not a folder")
    assert _listing(folder) == before


def test_output_that_is_a_spec_data_file_is_refused(run_cli, folder, monkeypatch):
    import hiddenrate.cli.combine as combine_cli

    monkeypatch.setattr(combine_cli, "fit_combined", lambda *a, **k: pytest.fail("fitted"))
    (folder / "spec.toml").write_text('unit = "victims"\n[lists]\nfile = "s.csv"\n', encoding="utf-8")
    before = _listing(folder)
    _refused(run_cli("combine", "spec.toml", "-o", "s.csv"), "is also an input (")
    _refused(run_cli("combine", "spec.toml", "-o", "spec.toml"), "is also an input")
    assert _listing(folder) == before


def test_report_and_claim_refuse_to_overwrite_their_input(run_cli, folder):
    assert run_cli("lists", "s.csv", "--model", "chapman", "--save", "r.nc", "-q").exit_code == 0
    os.symlink(folder / "r.nc", folder / "r.txt")
    before = _listing(folder)
    _refused(run_cli("report", "r.nc", "-o", "r.txt"), "is also an input")
    _refused(run_cli("claim", "r.nc", "--value", "700", "-o", "r.txt"), "is also an input")
    _refused(run_cli("report", "r.nc", "--plot", "r.gif"), ".png, .svg or .pdf")
    _refused(run_cli("simulate", "lists", "--total", "100", "--capture", "0.3,0.3", "-o", "missing/x.csv"),
             "does not exist")
    assert _listing(folder) == before


def test_outputs_are_written_whole_and_special_files_directly(run_cli, folder):
    result = run_cli("lists", "s.csv", "--model", "chapman", "--format", "json", "-o", "r.json", "--save", "r.nc",
                     "--plot", "r.svg", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads((folder / "r.json").read_text())["model"] == "chapman"
    assert sorted(p.name for p in folder.iterdir()) == ["r.json", "r.nc", "r.svg", "s.csv"]  # no temporary left
    assert oct((folder / "r.json").stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # as a plain write gives
    assert run_cli("lists", "s.csv", "--model", "chapman", "-o", os.devnull, "-q").exit_code == 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("failing", ["save", "plot"])
def test_a_failure_while_writing_leaves_no_output_at_all(run_cli, folder, monkeypatch, failing):
    """The text is written, then the netCDF (or the figure) fails half-way: no file appears, the
    earlier version of the text output is kept, no temporary file is left."""
    import hiddenrate.result.io as result_io
    from hiddenrate.cli import common

    (folder / "r.json").write_text("previous\n", encoding="utf-8")

    def half(result, path, *args):
        Path(path).write_bytes(b"\x89HDF half")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(result_io if failing == "save" else common, "write_result" if failing == "save"
                        else "draw_plot", half)
    result = run_cli("lists", "s.csv", "--model", "chapman", "-o", "r.json", "--save", "r.nc", "--plot", "r.png", "-q")
    assert result.exit_code == 1 and "nothing was written" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["r.json", "s.csv"]
    assert (folder / "r.json").read_text() == "previous\n"


def test_an_interrupt_while_saving_leaves_nothing(run_cli, folder, monkeypatch):
    import hiddenrate.result.io as result_io

    def interrupted(result, path):
        Path(path).write_bytes(b"\x89HDF half")
        raise KeyboardInterrupt

    monkeypatch.setattr(result_io, "write_result", interrupted)
    result = run_cli("lists", "s.csv", "--model", "chapman", "-o", "r.json", "--save", "r.nc", "-q")
    assert result.exit_code == 130 and result.stderr.strip() == "hiddenrate: error: interrupted"
    assert sorted(p.name for p in folder.iterdir()) == ["s.csv"]


def test_result_save_is_atomic_for_library_users(tmp_path, monkeypatch):
    from io import StringIO

    import pandas as pd

    import hiddenrate.result.io as result_io
    from hiddenrate import fit_lists

    result = fit_lists(pd.read_csv(StringIO(DATA)), "chapman")
    target = tmp_path / "r.nc"
    result.save(str(target))
    good = target.read_bytes()

    def broken(result, path):
        Path(path).write_bytes(b"half")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(result_io, "write_result", broken)
    with pytest.raises(OSError):
        result.save(str(target))
    assert target.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]

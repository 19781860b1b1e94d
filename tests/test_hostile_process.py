"""The process under hostile conditions (issue 22): signals, unwritable folders, reproducible stamps.

Signals and HOME are tested on the real command (a subprocess: `hiddenrate.cli.main` takes the
signals and prepares the folders; the in-process runner does not). Each signal test sends the
signal at a known moment (a progress line on stderr says the fit or the compilation has begun)
and asks for exit 130 (SIGINT) or 143 (SIGTERM) within seconds, one line on stderr, no traceback,
and no output or temporary file left.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STRATA = "police,ngo,region,count\n1,0,n,100\n0,1,n,200\n1,1,n,50\n1,0,s,30\n0,1,s,40\n1,1,s,12\n"
THREE = "a,b,c,count\n1,0,0,30\n0,1,0,40\n0,0,1,35\n1,1,0,10\n1,0,1,8\n0,1,1,12\n1,1,1,3\n"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("SOURCE_DATE_EPOCH", None)
    env.update(extra)
    return env


def _start(folder: Path, args: list[str], **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hiddenrate", *args], cwd=folder, env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(process: subprocess.Popen, marker: str | None, timeout: float = 120) -> str:
    """stderr up to the line holding ``marker`` (None: return at once)."""
    seen = ""
    if marker is None:
        return seen
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        if selector.select(timeout=1):
            chunk = os.read(process.stderr.fileno(), 4096).decode()
            assert chunk, f"the process ended before {marker!r}: {seen}"
            seen += chunk
    return seen


@pytest.mark.parametrize("moment, args, marker, delay, signum", [
    ("import", ["lists", "three.csv", "--model", "latent-class"], None, 0.8, signal.SIGINT),
    ("fit", ["lists", "strata.csv", "--by", "region", "--model", "stepwise", "--bootstrap", "500000"],
     "fitting stratum", 0.5, signal.SIGINT),
    ("compile", ["lists", "three.csv", "--model", "latent-class", "--draws", "200", "--tune", "200"],
     "sampling the latent-class model", 1.0, signal.SIGINT),
    ("fit-term", ["lists", "strata.csv", "--by", "region", "--model", "stepwise", "--bootstrap", "500000"],
     "fitting stratum", 0.5, signal.SIGTERM),
], ids=["sigint-import", "sigint-fit", "sigint-numba-compile", "sigterm-fit"])
def test_signal_ends_the_run_cleanly(tmp_path, moment, args, marker, delay, signum):
    (tmp_path / "three.csv").write_text(THREE)
    (tmp_path / "strata.csv").write_text(STRATA)
    before = sorted(p.name for p in tmp_path.iterdir())
    cache = tmp_path.parent / f"{tmp_path.name}-numba"  # a cold cache: the latent-class sampler compiles
    process = _start(tmp_path, [*args, "-o", "out.json", "--save", "out.nc"], NUMBA_CACHE_DIR=str(cache))
    try:
        seen = _wait_for(process, marker)
        time.sleep(delay)
        sent = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        process.kill()
    stderr = (seen + err.decode()).strip().splitlines()
    assert process.returncode == 128 + signum, (moment, process.returncode, stderr)
    assert stderr[-1] == f"hiddenrate: error: {'interrupted' if signum == signal.SIGINT else 'terminated'}"
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in stderr), stderr
    assert waited < 10, f"{moment}: the process took {waited:.1f} s to end"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no temporary file


EARLY = """
import os, signal, sys, time
sys.argv[0] = os.path.join("bin", "hiddenrate")  # as the console script runs
import hiddenrate.cli  # the handlers of main() are not installed yet
os.kill(os.getpid(), signal.SIGINT)
time.sleep(10)
"""


def test_interrupt_while_the_command_loads(tmp_path):
    """Ctrl-C after the package is imported but before main() takes the signals (click and the
    command's modules loading): one line and exit 130, no KeyboardInterrupt traceback. A program that
    imports the package keeps Python's own handling."""
    done = subprocess.run([sys.executable, "-c", EARLY], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 130 and done.stderr == "hiddenrate: error: interrupted\n", (done.returncode, done.stderr)
    library = subprocess.run([sys.executable, "-c", EARLY.replace('sys.argv[0] = os.path.join("bin", "hiddenrate")',
                                                                  "pass")],
                             cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=False)
    assert library.returncode == -signal.SIGINT and "KeyboardInterrupt" in library.stderr


def _unwritable_home(tmp_path: Path, kind: str) -> Path:
    if kind == "file":  # even root cannot create folders under a file
        home = tmp_path / "home-is-a-file"
        home.write_text("")
        return home
    home = tmp_path / "read-only-home"
    home.mkdir()
    home.chmod(0o500)
    if os.access(home, os.W_OK):
        pytest.skip("running as root: a read-only folder can still be written")
    return home


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_unwritable_home_does_not_stop_a_command(tmp_path, kind):
    home = _unwritable_home(tmp_path, kind)
    (tmp_path / "strata.csv").write_text(STRATA)
    env = {"HOME": str(home), "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": "", "MPLCONFIGDIR": ""}
    saved = subprocess.run([sys.executable, "-m", "hiddenrate", "lists", "strata.csv", "--model", "chapman", "--by",
                            "region", "--save", "r.nc", "--format", "json", "-o", "r.json"],
                           cwd=tmp_path, env=_env(**env), capture_output=True, text=True, timeout=300, check=False)
    assert saved.returncode == 0, saved.stderr
    notes = [line for line in saved.stderr.splitlines() if line.startswith("hiddenrate: note: cannot write")]
    assert len(notes) == 1 and str(home) in notes[0], saved.stderr
    assert "Traceback" not in saved.stderr and "Warning" not in saved.stderr, saved.stderr
    report = subprocess.run([sys.executable, "-m", "hiddenrate", "report", "r.nc", "--format", "html", "-o", "r.html",
                             "--quiet"], cwd=tmp_path, env=_env(**env), capture_output=True, text=True, timeout=300,
                            check=False)
    assert report.returncode == 0 and report.stderr == "", report.stderr  # --quiet: not even the note
    assert (tmp_path / "r.html").read_text().lstrip().lower().startswith("<!doctype html")


def test_source_date_epoch_gives_byte_identical_outputs(run_cli, tmp_path, monkeypatch):
    """Same data, same seed, same SOURCE_DATE_EPOCH: JSON, CSV, Markdown, HTML and an SVG figure are
    byte-identical (the creation time is the only thing that differed)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = tmp_path / "strata.csv"
    data.write_text(STRATA)
    outputs = []
    for run in (1, 2):
        files = {}
        for fmt, ext in (("json", "json"), ("csv", "csv"), ("markdown", "md"), ("html", "html")):
            target = tmp_path / f"run{run}.{ext}"
            extra = ["--plot", tmp_path / f"run{run}.svg"] if fmt == "json" else []
            result = run_cli("lists", data, "--by", "region", "--model", "bayes-2list", "--seed", "5", "--format", fmt,
                             "-o", target, "-q", *extra)
            assert result.exit_code == 0, result.stderr
            files[ext] = target.read_bytes()
        files["svg"] = (tmp_path / f"run{run}.svg").read_bytes()
        outputs.append(files)
        time.sleep(1.1)  # a clock-based stamp would now differ
    for ext in outputs[0]:
        assert outputs[0][ext] == outputs[1][ext], ext
    assert b"2023-11-14T22:13:20+00:00" in outputs[0]["json"]  # 1700000000 in UTC


@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "9" * 30])
def test_malformed_source_date_epoch_is_refused_before_the_fit(run_cli, tmp_path, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    data = tmp_path / "strata.csv"
    data.write_text(STRATA)
    result = run_cli("lists", data, "--model", "chapman", "--by", "region", "-o", tmp_path / "r.json")
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "SOURCE_DATE_EPOCH" in result.stderr and not (tmp_path / "r.json").exists()

"""Time and peak memory of stratified fits: `python benchmarks/bench_strata.py`.

Issue 22: `lists --by` with 500 strata (3 lists, 7 capture patterns each) and `reporting --by` with
1,000 and 10,000 strata (one recorded count and survey each). Target: 500 list strata and 1,000
reporting strata under 2 GB. Each fit runs in its own process (`hiddenrate ... --format csv`); the
peak memory is that process's maximum resident set size. Data are simulated with a fixed seed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GB = 2**30
#: (label, command and options, file maker, strata, target bytes or None, expected exit code)
CASES = [("lists --by, 500 strata", ["lists"], "lists", 500, 2 * GB, 0),
         ("reporting --by, 1,000 strata", ["reporting"], "reporting", 1_000, 2 * GB, 0),
         ("reporting --by, 10,000 strata", ["reporting"], "reporting", 10_000, None, 2),  # refused: > 2 GB
         ("reporting --by --model exact, 1,000", ["reporting", "--model", "exact"], "reporting", 1_000, 2 * GB, 0),
         ("reporting --by --model exact, 10,000", ["reporting", "--model", "exact"], "reporting", 10_000, None, 0)]


def list_file(path: Path, strata: int, rng: np.random.Generator) -> None:
    with path.open("w") as handle:
        handle.write("region,a,b,c,count\n")
        for s in range(strata):
            for pattern in range(1, 8):
                bits = [(pattern >> j) & 1 for j in range(3)]
                handle.write(f"r{s},{bits[0]},{bits[1]},{bits[2]},{rng.integers(1, 51)}\n")


def reporting_file(path: Path, strata: int, rng: np.random.Generator) -> None:
    with path.open("w") as handle:
        handle.write("area,recorded,surveyed,reported\n")
        for s in range(strata):
            surveyed = int(rng.integers(100, 1000))
            handle.write(f"a{s},{rng.integers(10, 500)},{surveyed},{rng.binomial(surveyed, 0.3)}\n")


def run(command: list[str], path: Path, by: str) -> tuple[float, float, int]:
    """Seconds, peak resident bytes and exit code of one fit in a fresh process."""
    args = [sys.executable, "-m", "hiddenrate", command[0], str(path), *command[1:], "--by", by, "--quiet",
            "--format", "csv"]
    if command[0] == "reporting":
        args += ["--unit", "victims"]
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(process.pid, 0)  # this child's own resource use
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss * 1024.0, process.returncode  # ru_maxrss is in KB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="run only the cases whose label contains this text")
    args = parser.parse_args()
    rng = np.random.default_rng(22)
    failed = 0
    print(f"{'case':<38} {'seconds':>8} {'peak GB':>8} {'target':>8} {'exit':>5}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for label, command, kind, strata, target, expected in CASES:
            if args.only and args.only not in label:
                continue
            path = Path(folder) / f"{kind}_{strata}.csv"
            (list_file if kind == "lists" else reporting_file)(path, strata, rng)
            seconds, peak, code = run(command, path, "region" if kind == "lists" else "area")
            ok = code == expected and (target is None or peak < target)
            failed += not ok
            print(f"{label:<38} {seconds:8.1f} {peak / GB:8.2f} {'< 2' if target else '-':>8} {code:>5}"
                  f"{'' if ok else '  ✗'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

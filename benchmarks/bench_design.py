"""Benchmark ``hiddenrate design`` and the Dask path: serial against a local cluster, same numbers.

Run as ``python benchmarks/bench_design.py [--replicates 200] [--workers 2] [--strata 1000]``.

* **Design study.** ``design reporting`` with a change target (two periods, four candidate survey
  sizes: eight exact fits and four incidence comparisons per replicate), run in this process and
  on a local Dask cluster of ``--workers`` processes. The cluster is started and its workers
  have imported hiddenrate before the clock starts (its start-up is shown on its own line); the
  replicates' numbers must be identical.
* **reporting --by.** The exact reporting model on ``--strata`` simulated strata, serially and
  on the cluster (fresh subprocesses each; peak memory of the parent process, and of the
  parent plus workers, from ``getrusage``). Identical JSON apart from the creation time.

The machine's load average is printed: on a shared machine the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def design_study(replicates: int, workers: int) -> list[tuple[str, float, str]]:
    from hiddenrate.analysis.design.reporting import ReportingPlan, simulate
    from hiddenrate.core.parallel import Parallel, dask_client

    plan = ReportingPlan(recorded=100, rate=0.3, surveys=(100, 200, 400, 800), change=-0.3, replicates=replicates, seed=1)
    started = time.perf_counter()
    serial = simulate(plan)
    serial_s = time.perf_counter() - started
    rows = [("design reporting, in this process", serial_s, "reference")]
    started = time.perf_counter()
    with dask_client(Parallel(workers=workers)) as client:
        simulate(ReportingPlan(100, 0.3, (100,), change=-0.3, replicates=2 * workers, seed=2), client=client)  # warm up
        rows.append((f"local cluster start + imports ({workers} workers)", time.perf_counter() - started, ""))
        started = time.perf_counter()
        clustered = simulate(plan, client=client)
        cluster_s = time.perf_counter() - started
    same = all(np.array_equal(serial[k], clustered[k], equal_nan=True) for k in serial)
    rows.append((f"design reporting, {workers}-worker cluster", cluster_s,
                 f"{serial_s / cluster_s:.2f}x faster; identical: {same}"))
    return rows


def by_strata(strata: int, workers: int) -> list[tuple[str, float, str]]:
    rng = np.random.default_rng(1)
    lines = ["area,recorded,surveyed,reported"]
    lines += [f"a{i},{rng.poisson(50)},200,{rng.binomial(200, 0.3)}" for i in range(strata)]
    rows = []
    outputs = []
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "strata.csv"
        data.write_text("\n".join(lines) + "\n")
        for w in (0, workers):
            out = Path(folder) / f"out{w}.json"
            code = ("import resource, sys, time; from hiddenrate.cli import cli; t = time.perf_counter()\n"
                    "try:\n    cli(sys.argv[1:], standalone_mode=False)\nfinally:\n"
                    "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                    "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
                    "    print(time.perf_counter() - t, own, kids, file=sys.stderr)\n")
            args = [sys.executable, "-c", code, "reporting", str(data), "--unit", "incidents", "--by", "area",
                    "--model", "exact", "--workers", str(w), "--format", "json", "-q", "-o", str(out)]
            done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                  check=True)
            seconds, own, kids = done.stderr.strip().splitlines()[-1].split()
            document = json.loads(out.read_text())
            document.get("provenance", {}).pop("created", None)
            outputs.append(json.dumps(document, sort_keys=True))
            where = "in this process" if w == 0 else f"{w}-worker cluster (incl. start-up)"
            rows.append((f"reporting --by, {strata:,} strata, {where}", float(seconds),
                         f"peak {int(own) / 1024:.0f} MB (largest worker {int(kids) / 1024:.0f} MB)"))
    rows[-1] = (*rows[-1][:2], rows[-1][2] + f"; identical: {outputs[0] == outputs[1]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--strata", type=int, default=1000, help="0 skips the reporting --by run")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; peak memory of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB before")
    rows = design_study(args.replicates, args.workers)
    if args.strata:
        rows += by_strata(args.strata, args.workers)
    width = max(len(r[0]) for r in rows)
    print(f"{'run':<{width}}  {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {note}")
    print(f"load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()

"""Benchmark the reporting-rate models: time and peak memory for 10, 100 and 1,000 strata.

Run as ``python benchmarks/bench_reporting.py [--sizes 10 100 1000] [--draws 1000] [--chains 4]
[--gradient kernel|pytensor]``.
Each size runs in a fresh subprocess (so peak memory is that run's alone, measured with
``resource.getrusage(RUSAGE_SELF).ru_maxrss``), on strata simulated from the pooled model
(:func:`hiddenrate.models.reporting.pooled.simulate`; 30% of strata without a survey, some
with nothing recorded). For each size it prints:

* ``pooled``: :func:`hiddenrate.models.reporting.model.fit_reporting` with ``model="pooled"``, as a
  user calls it (4 chains x 1000 tuning + 1000 kept draws by default): compiling the nutpie
  model (once per number of strata and priors; cached within a process), sampling, drawing the
  unrecorded counts, diagnostics and the Result; the time to compile is shown separately;
* ``exact``: the exact model on the same strata (each stratum on its own, no MCMC);
* peak resident memory of the subprocess, and the pooled fit's R-hat, ESS and divergences.

``--gradient pytensor`` makes the pooled model evaluate PyTensor's generated log density and
gradient instead of the hand-written kernel (:mod:`hiddenrate.models.sampling.reporting_kernel`), to
measure what the kernel gains in the same conditions.

Timings depend on the machine's load (``uptime`` is printed): on a shared machine they can be
several times slower than on an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import pandas as pd
from hiddenrate.models.reporting.model import fit_reporting
from hiddenrate.models.reporting.pooled import _compiled, DEFAULT_PRIORS, simulate

size, draws, chains = (int(x) for x in sys.argv[1:4])
if sys.argv[4] == "pytensor":
    import hiddenrate.models.reporting.pooled as pooled_module
    pooled_module.install_kernel = lambda compiled, *_: compiled
rng = np.random.default_rng(size)
surveyed = rng.integers(50, 500, size)
surveyed[rng.random(size) < 0.3] = 0
data = simulate(size, rng, surveyed=surveyed)
frame = pd.DataFrame({"stratum": [f"s{i}" for i in range(size)], "recorded": data["recorded"],
                      "surveyed": data["surveyed"], "reported": data["reported"]})
started = time.perf_counter()
_compiled(size, DEFAULT_PRIORS)
compile_seconds = time.perf_counter() - started
started = time.perf_counter()
pooled = fit_reporting(frame, "pooled", by=["stratum"], unit="incidents", seed=1,
                       sampling={"draws": draws, "tune": draws, "chains": chains})
pooled_seconds = time.perf_counter() - started
started = time.perf_counter()
fit_reporting(frame, "exact", by=["stratum"], unit="incidents", seed=1)
exact_seconds = time.perf_counter() - started
d = pooled.overall.diagnostics
print(json.dumps({
    "size": size, "compile": compile_seconds, "pooled": pooled_seconds, "exact": exact_seconds,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rhat": d.rhat_max, "ess_bulk": d.ess_bulk_min, "ess_tail": d.ess_tail_min, "divergences": d.divergences,
    "zero": int((data["recorded"] == 0).sum()), "no_survey": int((data["surveyed"] == 0).sum()),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--draws", type=int, default=1000, help="tuning and kept draws per chain")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--gradient", choices=["kernel", "pytensor"], default="kernel",
                        help="log density of the pooled model: the hand-written kernel (default, what users get) "
                             "or PyTensor's generated one (to measure what the kernel gains)")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} cores; "
          f"{args.chains} chains x ({args.draws} tuning + {args.draws} kept) draws; log density: {args.gradient}")
    header = (f"{'strata':>7} {'no survey':>9} {'zero':>5} {'compile s':>9} {'pooled s':>9} {'exact s':>8} "
              f"{'peak MB':>8} {'R-hat':>6} {'ESS bulk':>8} {'ESS tail':>8} {'diverg.':>7}")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, str(size), str(args.draws), str(args.chains), args.gradient],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{size:>7} failed after {time.perf_counter() - started:.0f} s: {done.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['size']:>7} {r['no_survey']:>9} {r['zero']:>5} {r['compile']:>9.1f} {r['pooled']:>9.1f} {r['exact']:>8.1f} "
              f"{r['peak_mb']:>8.0f} {r['rhat']:>6.3f} {r['ess_bulk']:>8.0f} {r['ess_tail']:>8.0f} {r['divergences']:>7}")
    print("pooled s includes drawing the unrecorded counts, diagnostics and the Result; not the compile time.")


if __name__ == "__main__":
    main()

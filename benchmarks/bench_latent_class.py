"""Benchmark the latent-class model (hiddenrate.models.lists.latent_class_core) against LCMCR.

Run as ``python benchmarks/bench_latent_class.py [--seed 1 | --seeds 1-6] [--draws 1000] [--only NAME]
[--tempering auto|always|never]``. For every data set with an ``LCMCR,lcmCR K=10`` row in
``tests/reference/reference_results.csv`` it fits the model at its default settings (K = 10,
LCMCR's priors, Gibbs-HMC, 4 chains x 1,000 draws kept from 5,000 sweeps after 1,000 warm-up
sweeps; as :class:`~hiddenrate.models.lists.latent_class.LatentClassModel` does by default, a fit whose
chains disagree is sampled again with parallel tempering, both runs timed, column ``T``) and prints:

* posterior median and 95% equal-tailed interval of N beside LCMCR's row, the ratio of medians
  and the share of the longer interval covered by the overlap;
* R-hat (rank-normalised, split) and bulk ESS of N over all chains, divergences, and the median
  of N in each chain (chains that sit in different modes of the posterior show up as medians
  that differ by more than their Monte Carlo error, e.g. one chain of four far from the others);
* effective samples of N per second (``--gradient pytensor`` measures the same with PyTensor's
  generated log density instead of the hand-written kernel of
  :mod:`hiddenrate.models.sampling.latent_class_kernel`): sampling time only (``ESS/s``); with the compile
  time of the model structure added (``ESS/s+c``: the first fit on a machine, numba's disk cache
  empty); and with the time a new process takes to load the compiled structure from that cache
  added (``ESS/s+l``: every later run, e.g. each ``hiddenrate lists`` call). The benchmark
  compiles into a temporary cache folder of its own (``NUMBA_CACHE_DIR``), so the compile column
  is always a cold compile, and measures the load in a child process.

With ``--seeds``, every data set is fitted at each seed and a summary follows: the range of R-hat,
on how many seeds it is at most 1.01, and the median ESS/s (one seed's timing is noisy, and a
seed can put one chain in a minor mode).

LCMCR at its documented settings (one chain, burn-in 10^4, 10^5 iterations thinned by 100, a
2-core machine) gives about 110-250 effective samples of N per second on the UK 5-list set and
870-930 on Western (issue 7). Timings depend on the machine's load; compare within one run.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# a cache folder of the benchmark's own, set before numba is imported: compiles are always cold
CACHE = tempfile.mkdtemp(prefix="hiddenrate-bench-numba-")
os.environ["NUMBA_CACHE_DIR"] = CACHE

import arviz as az
import numpy as np

from hiddenrate.data.lists import read_lists
from hiddenrate.models.lists import latent_class_core as core
from hiddenrate.models.lists.latent_class import sample_tempered_if_needed
from hiddenrate.models.sampling.latent_class_gibbs import TARGET_ACCEPT

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"
LCMCR_ESS_PER_SECOND = {"uk_modern_slavery_2013_5lists": "110-250", "western_us_sex_trafficking": "870-930"}


def lcmcr_rows() -> dict[str, tuple[float, float, float]]:
    with open(REFERENCE, newline="") as handle:
        return {r["dataset"]: (float(r["estimate"]), float(r["lower95"]), float(r["upper95"]))
                for r in csv.DictReader(handle) if r["package"] == "LCMCR" and r["model"] == "lcmCR K=10"}


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Length of the intersection over the length of the longer interval."""
    inner = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inner / max(a[1] - a[0], b[1] - b[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", default=None, help="several seeds, e.g. 1-6 or 1,4,9 (overrides --seed)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=core.DEFAULT_CLASSES)
    parser.add_argument("--only", default=None, help="comma-separated data set names")
    parser.add_argument("--sampler", choices=list(core.SAMPLERS), default=core.DEFAULT_SAMPLER)
    parser.add_argument("--thin", type=int, default=core.THIN)
    parser.add_argument("--target-accept", type=float, default=None,
                        help=f"HMC move's target acceptance (default: the sampler's, {TARGET_ACCEPT} for gibbs-hmc)")
    parser.add_argument("--tempering", choices=["auto", "always", "never"], default="auto",
                        help="auto (default, as the model): sample again with tempering when R-hat of N > 1.01")
    parser.add_argument("--gradient", choices=["kernel", "pytensor"], default="kernel",
                        help="log density: the hand-written kernel (default, what users get) or PyTensor's "
                             "generated one (to measure what the kernel gains)")
    args = parser.parse_args()
    if args.gradient == "pytensor":
        core.install_kernel = lambda compiled, *_: compiled  # type: ignore[assignment]
    print(f"sampler: {args.sampler}" + (f" (every {args.thin}th sweep kept)" if args.sampler == "gibbs-hmc" else
                                         f"; log density and gradient: {args.gradient}"))
    reference = lcmcr_rows()
    names = sorted(reference) if args.only is None else args.only.split(",")
    seeds = [args.seed] if args.seeds is None else parse_seeds(args.seeds)
    header = (f"{'data set':32s} {'seed':>4s} {'K':>2s} {'median':>8s} {'95% interval':>17s} {'LCMCR':>8s} {'LCMCR 95%':>17s} "
              f"{'ratio':>5s} {'ovl':>4s} {'T':>1s} {'R-hat':>6s} {'ESS':>6s} {'div':>5s} {'comp s':>6s} {'samp s':>6s} "
              f"{'ESS/s':>6s} {'ESS/s+c':>7s} {'load s':>6s} {'ESS/s+l':>7s} {'LCMCR ESS/s':>11s}  median of N per chain")
    print(header)
    print("-" * len(header))
    compiled: dict[int, float] = {}
    loaded: dict[int, float] = {}
    summary: dict[str, list[tuple[float, float, int]]] = {}
    for name, seed in ((name, seed) for name in names for seed in seeds):
        table = read_lists(LISTS / f"{name}.csv").tables[0]
        k = table.k
        sampler = core.LatentClassSampler(k, args.classes)
        if k not in compiled:
            start = time.perf_counter()
            if args.sampler == "nuts":
                core._compiled(k, args.classes, sampler.priors)
            else:
                sampler.sample(table.counts, draws=1, tune=1, chains=1, thin=1)
            compiled[k] = time.perf_counter() - start
            if args.sampler == "gibbs-hmc":
                loaded[k] = load_seconds(LISTS / f"{name}.csv", args.classes)
        start = time.perf_counter()

        def draw(ladder: tuple[float, ...] | None) -> az.InferenceData:
            return sampler.sample(table.counts, draws=args.draws, tune=args.tune, chains=4, seed=seed,
                                  sampler=args.sampler, thin=args.thin, tempering=ladder,
                                  target_accept=args.target_accept)

        if args.sampler == "gibbs-hmc":  # the model's own rule (auto: again with tempering if chains disagree)
            idata, tempering = sample_tempered_if_needed(draw, 4, args.tempering)
        else:
            idata, tempering = draw(None), None
        tempered = "y" if tempering else "-"
        seconds = time.perf_counter() - start
        rhat = _rhat(idata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ess = float(az.ess(idata, var_names=["total"])["total"])
        total = idata.posterior["total"].values.ravel()
        lower, median, upper = np.quantile(total, [0.025, 0.5, 0.975])
        ref = reference[name]
        divergences = int(idata.sample_stats["diverging"].values.sum())
        chain_medians = ", ".join(f"{m:.0f}" for m in np.median(idata.posterior["total"].values, axis=1))
        summary.setdefault(name, []).append((rhat, ess / seconds, divergences))
        print(f"{name:32s} {seed:4d} {k:2d} {median:8.0f} {f'[{lower:.0f}, {upper:.0f}]':>17s} {ref[0]:8.0f} "
              f"{f'[{ref[1]:.0f}, {ref[2]:.0f}]':>17s} {median / ref[0]:5.2f} {overlap((lower, upper), ref[1:]):4.2f} "
              f"{tempered:>1s} {rhat:6.3f} {ess:6.0f} {divergences:5d} {compiled[k]:6.1f} {seconds:6.1f} {ess / seconds:6.0f} "
              f"{ess / (seconds + compiled[k]):7.1f} {loaded.get(k, float('nan')):6.2f} "
              f"{ess / (seconds + loaded.get(k, float('nan'))):7.0f} {LCMCR_ESS_PER_SECOND.get(name, '-'):>11s}  "
              f"[{chain_medians}]", flush=True)
    print("\nESS/s: effective samples of N (4 chains pooled) per second of sampling; ESS/s+c adds the compile time "
          "of the structure (comp s: once per structure on a machine, numba's cache empty); ESS/s+l adds the time "
          "a new process takes to load it from the cache (load s: every later run). ovl: overlap of the 95% intervals over the longer one. "
          "T: y when the fit was sampled with tempering (after a first run whose chains disagreed, timed too).")
    if len(seeds) > 1:
        print(f"\n{'data set':32s} {'R-hat range':>13s} {'seeds R-hat <= 1.01':>20s} {'median ESS/s':>12s} "
              f"{'LCMCR ESS/s':>11s} {'seeds with divergences':>22s}")
        for name, rows in summary.items():
            rhats = [r for r, _, _ in rows]
            print(f"{name:32s} {f'{min(rhats):.3f}-{max(rhats):.3f}':>13s} "
                  f"{f'{sum(r <= 1.01 for r in rhats)} of {len(rhats)}':>20s} "
                  f"{float(np.median([e for _, e, _ in rows])):12.0f} {LCMCR_ESS_PER_SECOND.get(name, '-'):>11s} "
                  f"{f'{sum(d > 0 for _, _, d in rows)} (max {max(d for _, _, d in rows)})':>22s}")


LOAD = """
import sys, time
import numpy as np
from hiddenrate.data.lists import read_lists
from hiddenrate.models.lists.latent_class_core import LatentClassSampler
table = read_lists(sys.argv[1]).tables[0]
sampler = LatentClassSampler(table.k, int(sys.argv[2]))
start = time.perf_counter()
sampler.sample(table.counts, draws=1, tune=1, chains=1, thin=1)
print(time.perf_counter() - start)
"""


def load_seconds(path: Path, classes: int) -> float:
    """Seconds a new process takes for its first (one-sweep) fit of this structure, from the warm cache."""
    done = subprocess.run([sys.executable, "-c", LOAD, str(path), str(classes)], capture_output=True, text=True,
                          check=True, env={**os.environ, "NUMBA_CACHE_DIR": CACHE})
    return float(done.stdout.strip().splitlines()[-1])


def _rhat(idata: az.InferenceData) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(az.rhat(idata, var_names=["total"])["total"])


def parse_seeds(text: str) -> list[int]:
    """``1-6`` or ``1,4,9``."""
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(CACHE, ignore_errors=True)

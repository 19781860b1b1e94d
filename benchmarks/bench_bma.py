"""Benchmark exact Bayesian model averaging (hiddenrate.models.lists.bma_core) against dga.

Run as ``python benchmarks/bench_bma.py [--repeats 15]``. For every data set with a
``dga,bma.cr delta=2^-p`` row in ``tests/reference/reference_results.csv`` it prints:

* ``auto``: :func:`bma_posterior` as a user calls it (automatic grid whose tail beyond the end
  is below 1e-6, pmf on every integer), median over ``--repeats`` runs;
* ``17k``: :func:`bma_posterior` with ``n_max`` set so that the grid has 17,000 values, the
  size of the grids dga was timed on (16,000-17,500);
* ``dga grid``: :func:`joint_log_posterior` on dga's own grid (17,000 values of ``Nmissing``,
  with the step that reproduces the reference row to the unit: 5 for UK and spina bifida, 4
  for Western and HIV, 1000 for the artificial table, 1 otherwise) plus the normalisation,
  i.e. exactly what one ``bma.cr`` call computes;
* dga's seconds: the CSV's ``seconds`` (the estimator call including dga's widening of the
  grid) and, for the three 5-list sets where it was measured, one ``bma.cr`` call on the
  final grid (0.55-0.65 s per data/README.md; 0.6 s is used).

Speed-ups are dga's seconds over ours. Timings depend on the machine's load; OpenBLAS
threads are left as configured (``OPENBLAS_NUM_THREADS=1`` is often faster for these small
matrix products).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hiddenrate.models.lists.bma_core import bma_posterior, joint_log_posterior
from hiddenrate.core.design import cell_index

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"
DGA_GRID_STEP = {
    "uk_modern_slavery_2013_5lists": 5,
    "spina_bifida_new_york": 5,
    "western_us_sex_trafficking": 4,
    "hiv_rome": 4,
    "artificial_sparse_3lists": 1000,
}
DGA_CALL_SECONDS = {  # one bma.cr call on the final grid (data/README.md: 0.55-0.65 s)
    "uk_modern_slavery_2013_5lists": 0.6,
    "western_us_sex_trafficking": 0.6,
    "new_orleans_trafficking_5lists": 0.6,
}
GRID_VALUES = 17_000


def load_counts(name: str) -> tuple[np.ndarray, int]:
    """Counts vector (cell i: list j iff bit j) and number of lists of an example file."""
    with open(LISTS / f"{name}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lists = [column for column in rows[0] if column != "count"]
    counts = np.zeros(1 << len(lists))
    for row in rows:
        counts[cell_index([int(row[column]) for column in lists])] += float(row["count"])
    return counts, len(lists)


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up (graph enumeration is cached)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dga_call(counts: np.ndarray, k: int, missing: np.ndarray) -> np.ndarray:
    """What one ``bma.cr(Y, Nmissing, 2^-k, graphsk)`` returns: the normalised matrix."""
    log_weights = joint_log_posterior(counts, k, missing)
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per cell (median reported)")
    args = parser.parse_args()
    with open(REFERENCE, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["package"] == "dga" and r["model"] == "bma.cr delta=2^-p"]
    header = (
        f"{'data set':32s} {'K':>2s} {'graphs':>6s} {'grid':>9s} {'auto ms':>8s} {'17k ms':>7s} "
        f"{'dga-grid ms':>11s} {'dga s (csv)':>11s} {'dga call s':>10s} {'speed-up csv':>12s} "
        f"{'speed-up call':>13s} {'median [95%]':>22s}"
    )
    print(header)
    print("-" * len(header))
    for row in sorted(rows, key=lambda r: r["dataset"]):
        name = row["dataset"]
        counts, k = load_counts(name)
        n = int(counts.sum())
        posterior = bma_posterior(counts, k)
        auto = median_seconds(lambda: bma_posterior(counts, k), args.repeats)
        sized = median_seconds(lambda: bma_posterior(counts, k, n_max=n + GRID_VALUES - 1), args.repeats)
        missing = np.arange(GRID_VALUES, dtype=float) * DGA_GRID_STEP.get(name, 1)
        same_grid = median_seconds(lambda: dga_call(counts, k, missing), max(3, args.repeats // 3))
        csv_seconds = float(row["seconds"])
        call = DGA_CALL_SECONDS.get(name)
        lower, upper = posterior.interval(0.95)
        print(
            f"{name:32s} {k:2d} {posterior.n_graphs:6d} {len(posterior.totals):9d} {auto * 1e3:8.1f} "
            f"{sized * 1e3:7.1f} {same_grid * 1e3:11.1f} {csv_seconds:11.3f} "
            f"{(f'{call:.2f}' if call else '-'):>10s} {csv_seconds / auto:11.1f}x "
            f"{(f'{call / sized:.1f}x' if call else '-'):>13s} "
            f"{f'{posterior.median} [{lower}, {upper}]':>22s}"
        )
    print(
        "\nspeed-up csv = dga's whole estimator call (with grid widening) / ours (auto grid); "
        "speed-up call = one bma.cr call on a 16,000-17,500-value grid / ours on 17,000 values."
    )


if __name__ == "__main__":
    main()

"""Time Rcapture's eight heterogeneity models (Mh, Mth x Chao, Poisson2, Darroch, Gamma3.5) on the bundled lists.

Run with ``python benchmarks/bench_heterogeneity.py``. For each list data set it fits the eight
models (Poisson MLE, then the multinomial profile-likelihood estimate and 95% interval) and
prints the CPU seconds for all eight, the slowest model, and Rcapture's seconds for its
``closedpCI.t`` calls where tests/reference/reference_results.csv records them (Mth Chao and Mth
Darroch), plus the extra time the sensitivity table spends on them (the best model's profile at
every report level and the other seven's estimates).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from hiddenrate.analysis.sensitivity import _heterogeneity
from hiddenrate.data.lists import ListTable
from hiddenrate.models.lists.heterogeneity_core import HETEROGENEITY_MODELS, heterogeneity_profile
from hiddenrate.result.table import report_levels

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"


def read_lists(path: Path) -> tuple[np.ndarray, int]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    k = len(rows[0]) - 1
    counts = np.zeros(1 << k)
    for row in rows[1:]:
        counts[sum(int(bit) << j for j, bit in enumerate(row[:k]))] += float(row[k])
    return counts, k


def rcapture_seconds() -> dict[str, float]:
    with open(REFERENCE, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["package"] == "Rcapture" and r["model"] in ("MthChao", "MthDarroch")]
    totals: dict[str, float] = {}
    for row in rows:
        if row["seconds"]:
            totals[row["dataset"]] = totals.get(row["dataset"], 0.0) + float(row["seconds"])
    return totals


def main() -> None:
    reference = rcapture_seconds()
    ladder = report_levels((0.95,))
    print(f"{'data set':34s} {'K':>2s} {'8 models':>9s} {'slowest':>22s} {'table rows':>10s} {'Rcapture MthC+MthD':>19s}")
    for path in sorted(EXAMPLES.glob("*.csv")):
        if path.stem == "illegal_immigrants_capture_counts":
            continue
        counts, k = read_lists(path)
        times = {}
        for name in HETEROGENEITY_MODELS:
            start = time.process_time()
            heterogeneity_profile(counts, k, name)
            times[name] = time.process_time() - start
        slowest = max(times, key=lambda name: times[name])
        table = ListTable(names=tuple(f"L{j}" for j in range(k)), counts=counts.astype(np.int64))
        start = time.process_time()
        _heterogeneity(table, 0.95, None, ladder)
        rows = time.process_time() - start
        ours = sum(times.values())
        theirs = f"{reference[path.stem]:.2f} s" if path.stem in reference else "-"
        print(f"{path.stem:34s} {k:2d} {ours:8.2f}s {slowest:>13s} {times[slowest]:.2f} s {rows:9.2f}s {theirs:>19s}")


if __name__ == "__main__":
    main()

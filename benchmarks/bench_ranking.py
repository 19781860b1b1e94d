"""Time the ranking of every hierarchical log-linear model (two-way terms) on the bundled lists.

Run with ``python benchmarks/bench_ranking.py``. For each list data set it fits and ranks all
``2 ** (K (K - 1) / 2)`` models by BIC (32,768 for six lists; Rcapture's ``closedpMS.t``
takes minutes for that), or, where that exceeds 200,000 models (New Orleans, 8 lists), runs
the stepwise search. It prints one row per data set: K, number of models, seconds, the best
model, its Poisson MLE of N and the profile-likelihood estimate and interval, next to
Rcapture's best-BIC (``MSBIC``) estimate from tests/reference/reference_results.csv where
there is one.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from hiddenrate.core.design import model_label
from hiddenrate.models.lists.loglinear_profile import profile_likelihood
from hiddenrate.models.lists.ranking import count_models, rank_models, stepwise

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"
MAX_MODELS = 200_000


def read_lists(path: Path) -> tuple[np.ndarray, int, list[str]]:
    """Counts by capture pattern (cell i has list j iff (i >> j) & 1) and the list names."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    names = rows[0][:-1]
    k = len(names)
    counts = np.zeros(1 << k)
    for row in rows[1:]:
        counts[sum(int(bit) << j for j, bit in enumerate(row[:k]))] += float(row[k])
    return counts, k, names


def rcapture_best_bic() -> dict[str, str]:
    with open(REFERENCE, newline="", encoding="utf-8") as handle:
        return {
            row["dataset"]: (f"{float(row['estimate']):,.1f}" if row["estimate"] else "none fitted")
            for row in csv.DictReader(handle)
            if row["package"] == "Rcapture" and row["model"] == "MSBIC"
        }


def main() -> None:
    reference = rcapture_best_bic()
    header = ("data set", "K", "models", "seconds", "best model (BIC)", "status", "N (Poisson)",
              "N profile [95%]", "Rcapture MSBIC")
    rows = []
    for path in sorted(EXAMPLES.glob("*.csv")):
        if path.stem == "illegal_immigrants_capture_counts":
            continue
        counts, k, names = read_lists(path)
        n_models = count_models(k, 2, limit=MAX_MODELS)
        start = time.perf_counter()
        if n_models <= MAX_MODELS:
            best = rank_models(counts, k, max_models=MAX_MODELS, names=names)[0]
            searched = f"{n_models:,}"
        else:
            best = stepwise(counts, k, names=names)
            searched = f"stepwise (2^{k * (k - 1) // 2} models)"
        seconds = time.perf_counter() - start
        profile = profile_likelihood(counts, k, best.terms, names=names)
        upper = "none" if profile.upper is None else f"{profile.upper:,.0f}"
        interval = (
            f"{profile.total:,.1f} [{profile.lower:,.0f}, {upper}]" if profile.total is not None else "none"
        )
        rows.append((
            path.stem, str(k), searched, f"{seconds:.2f}", model_label(best.terms, names), best.status,
            f"{best.total:,.1f}" if best.total is not None else "none", interval,
            reference.get(path.stem, "not run"),
        ))
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


if __name__ == "__main__":
    main()

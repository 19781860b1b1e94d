"""Selection-aware bootstrap (hiddenrate.models.lists.bootstrap) against SparseMSE 2.0.1.

Reference values: ``tests/reference/reference_results.csv``, rows ``SparseMSE,stepwise + BCa``,
produced by ``SparseMSE::estimatepopulation(zdat, nboot = 1000, pthresh = 0.02, iseed = 1234)``
(R 4.2.2). The point estimate and the selected model are deterministic and must agree to
rounding; the BCa ends depend on R's random numbers, so they are compared at hiddenrate's
default seed (1, not chosen to pass) within 5% where the issue asks for it (Western, New
Orleans 5 lists).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from hiddenrate.api import fit_lists
from hiddenrate.data.lists import read_lists
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.lists.bootstrap import bca_interval, selection_bootstrap

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"

# Selected models as SparseMSE reports them (estimatepopulation(...)$MSEfit; 0-based pairs here).
SELECTED = {
    "western_us_sex_trafficking": ((0, 4),),
    "new_orleans_trafficking_5lists": (),
    "new_orleans_trafficking": ((3, 4),),
    "spina_bifida_new_york": ((1, 2),),
}


def _sparsemse_rows() -> dict[str, dict[str, float]]:
    with open(REFERENCE, newline="") as handle:
        return {row["dataset"]: {"estimate": float(row["estimate"]), "lower": float(row["lower95"]),
                                 "upper": float(row["upper95"])}
                for row in csv.DictReader(handle) if row["package"] == "SparseMSE" and row["estimate"]}


def _table(name: str):
    return read_lists(EXAMPLES / f"{name}.csv").tables[0]


@pytest.mark.parametrize("name", sorted(_sparsemse_rows()))
def test_point_estimate_matches_sparsemse(name: str) -> None:
    table = _table(name)
    result = selection_bootstrap(table.counts, table.k, replicates=100, seed=1)
    assert result.estimate == pytest.approx(_sparsemse_rows()[name]["estimate"], rel=1e-5)
    if name in SELECTED:
        assert result.terms == SELECTED[name]


@pytest.mark.parametrize("name", ["western_us_sex_trafficking", "new_orleans_trafficking_5lists"])
def test_bca_within_five_percent_of_published(name: str) -> None:
    reference = _sparsemse_rows()[name]
    table = _table(name)
    result = selection_bootstrap(table.counts, table.k, replicates=1000, seed=1)
    lower, upper = result.intervals[0.95]
    assert lower == pytest.approx(reference["lower"], rel=0.05)
    assert upper == pytest.approx(reference["upper"], rel=0.05)


def test_bca_interval_formula() -> None:
    # brute force: z0 from the share below, adjusted levels, R's type-8 quantiles
    rng = np.random.default_rng(3)
    replicates = np.exp(rng.normal(7.0, 0.3, size=999))
    estimate, acceleration = 1000.0, -0.04
    z0 = norm.ppf(np.mean(replicates < estimate))
    expected = []
    for alpha in (0.025, 0.975):
        z = norm.ppf(alpha) + z0
        expected.append(np.quantile(replicates, norm.cdf(z0 + z / (1 - acceleration * z)), method="median_unbiased"))
    assert bca_interval(replicates, estimate, acceleration, 0.95) == pytest.approx(tuple(expected))


def test_bca_without_bias_or_acceleration_is_the_percentile_interval() -> None:
    replicates = np.arange(1.0, 2001.0)  # half of them below 1000.5: z0 = 0
    lower, upper = bca_interval(replicates, 1000.5, 0.0, 0.9)
    assert lower == pytest.approx(np.quantile(replicates, 0.05, method="median_unbiased"), rel=1e-12)
    assert upper == pytest.approx(np.quantile(replicates, 0.95, method="median_unbiased"), rel=1e-12)


def test_same_seed_same_numbers_and_seeds_differ() -> None:
    table = _table("western_us_sex_trafficking")
    first = selection_bootstrap(table.counts, table.k, replicates=200, seed=5)
    again = selection_bootstrap(table.counts, table.k, replicates=200, seed=5)
    other = selection_bootstrap(table.counts, table.k, replicates=200, seed=6)
    np.testing.assert_array_equal(first.replicates, again.replicates)
    assert not np.array_equal(first.replicates, other.replicates)


def test_acceleration_is_the_weighted_jackknife_skewness() -> None:
    table = _table("new_orleans_trafficking_5lists")
    result = selection_bootstrap(table.counts, table.k, replicates=100, seed=1)
    weights = table.counts[1:][table.counts[1:] > 0].astype(float)
    mean = np.sum(weights * result.jackknife) / weights.sum()
    deviation = mean - result.jackknife
    expected = np.sum(weights * deviation**3) / (6 * np.sum(weights * deviation**2) ** 1.5)
    assert result.acceleration == pytest.approx(expected)


def test_threshold_zero_is_main_effects() -> None:
    table = _table("western_us_sex_trafficking")
    result = selection_bootstrap(table.counts, table.k, replicates=100, pthresh=0.0, seed=1)
    assert result.terms == ()
    assert result.estimate == pytest.approx(2000.0, rel=0.01)  # Rcapture Mt Poisson MLE is 2000.005 (profile)


def test_bad_settings() -> None:
    table = _table("western_us_sex_trafficking")
    with pytest.raises(ModelError, match="at least 100 replicates"):
        selection_bootstrap(table.counts, table.k, replicates=10)
    with pytest.raises(ModelError, match="pthresh"):
        selection_bootstrap(table.counts, table.k, pthresh=2.0)


def test_stepwise_model_through_the_api() -> None:
    result = fit_lists(EXAMPLES / "western_us_sex_trafficking.csv", "stepwise", bootstrap=200, sensitivity=False)
    assert isinstance(result.overall.total, PointEstimate)
    assert result.overall.total.point == pytest.approx(2483.384, rel=1e-5)
    assert result.overall.details["terms"] == "A:E"
    lower, upper = result.interval(0.95)
    assert lower is not None and upper is not None and lower < 2483.384 < upper
    assert result.options["bootstrap"] == 200


def test_stepwise_cli(run_cli) -> None:
    output = run_cli("lists", "--example", "western-us", "--model", "stepwise", "--bootstrap", "200",
                     "--no-sensitivity", "--format", "json", "-q")
    assert output.exit_code == 0
    assert '"model": "stepwise"' in output.stdout

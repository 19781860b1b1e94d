"""The latent-class model against LCMCR on every shared list data set (issue 7).

Reference: ``tests/reference/reference_results.csv``, rows ``LCMCR,lcmCR K=10``:
``LCMCR::lcmCR(data, K = 10, a_alpha = 0.25, b_alpha = 0.25, seed = ...)`` then
``lcmCR_PostSampl(sampler, burnin = 10000, samples = 1000, thinning = 100)`` (LCMCR 0.4.14,
R 4.2.2); median and 95% equal-tailed interval of N. The rows ``seed=1..3`` show LCMCR's own
spread (UK 5 lists: medians 12,918 to 22,385).

Same model and priors here (K = 10, Gamma(0.25, 0.25), Beta(1, 1), p(N) ∝ 1/N), default
settings (Gibbs-HMC, 4 chains x 1,000 draws kept from 5,000 sweeps after 1,000 warm-up sweeps),
seed 1 (hiddenrate's default). Checked: the median within 15% of LCMCR's, and the two 95%
intervals overlapping over at least half of the longer one. Chain agreement (R-hat of N <= 1.01)
is checked separately: at seed 1 it holds on ten of the eleven sets (NUTS: seven) and fails on UK
6 lists (value in NOT_MIXING). The UK posterior has a minor mode (three occupied classes, N about
12,000; about 1% of the mass in 4 x 100,000-sweep runs) that chains enter and leave rarely, and
UK 6 lists mixes slowly besides (ESS of N 123 of 40,000 draws in that long run); LCMCR's own
answer moves between seeds there (UK 5 lists: medians 12,918 to 22,385). On that set the test
asserts what hiddenrate promises instead: the fit is reported as not converged, with the chains'
disagreement in plain words. This is an unmet target of issue 7, not a passing one.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pytest

from hiddenrate.data.lists import read_lists
from hiddenrate.models.latent_class_core import LatentClassSampler

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"

# R-hat of N at seed 1, default settings (benchmarks/bench_latent_class.py), where above 1.01.
# With NUTS (sampler="nuts") the four were New Orleans 8 lists (1.024), spina bifida (1.011) and
# the two UK sets (1.078, 1.017).
NOT_MIXING = {
    "uk_modern_slavery_2013": 1.027,
}


def _lcmcr() -> dict[str, tuple[float, float, float]]:
    with open(REFERENCE, newline="") as handle:
        return {r["dataset"]: (float(r["estimate"]), float(r["lower95"]), float(r["upper95"]))
                for r in csv.DictReader(handle) if r["package"] == "LCMCR" and r["model"] == "lcmCR K=10"}


_FITS: dict[str, object] = {}


def _fit(name: str):
    if name not in _FITS:
        table = read_lists(EXAMPLES / f"{name}.csv").tables[0]
        _FITS[name] = LatentClassSampler(table.k).sample(table.counts, seed=1)
    return _FITS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_lcmcr()))
def test_posterior_matches_lcmcr(name: str) -> None:
    reference = _lcmcr()[name]
    total = _fit(name).posterior["total"].values.ravel()
    lower, median, upper = np.quantile(total, [0.025, 0.5, 0.975])
    assert median == pytest.approx(reference[0], rel=0.15)
    overlap = max(0.0, min(upper, reference[2]) - max(lower, reference[1]))
    assert overlap >= 0.5 * max(upper - lower, reference[2] - reference[1])


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in sorted(_lcmcr()) if name not in NOT_MIXING])
def test_chains_agree(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = float(az.rhat(_fit(name), var_names=["total"])["total"])
    assert rhat <= 1.01


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOT_MIXING))
def test_chains_that_disagree_are_reported_not_hidden(name: str) -> None:
    """Where the chains do not agree, the result says so: R-hat above 1.01 if and only if the
    diagnostics carry "chains disagree", and then the fit is not 'converged'."""
    from hiddenrate.diagnostics import RHAT_MAX, mcmc

    diagnostics = mcmc(_fit(name), ["total"], "Gibbs-HMC")
    disagree = any(m.startswith("chains disagree") for m in diagnostics.messages)
    assert disagree == (diagnostics.rhat_max is not None and diagnostics.rhat_max > RHAT_MAX)
    if disagree:
        assert diagnostics.converged is False

"""The latent-class model against LCMCR on every shared list data set (issue 7).

Reference: ``tests/reference/reference_results.csv``, rows ``LCMCR,lcmCR K=10``:
``LCMCR::lcmCR(data, K = 10, a_alpha = 0.25, b_alpha = 0.25, seed = ...)`` then
``lcmCR_PostSampl(sampler, burnin = 10000, samples = 1000, thinning = 100)`` (LCMCR 0.4.14,
R 4.2.2); median and 95% equal-tailed interval of N. The rows ``seed=1..3`` show LCMCR's own
spread (UK 5 lists: medians 12,918 to 22,385).

Same model and priors here (K = 10, Gamma(0.25, 0.25), Beta(1, 1), p(N) ∝ 1/N), default
settings (Gibbs-HMC, 4 chains x 1,000 draws kept from 5,000 sweeps after 1,000 warm-up sweeps),
seed 1 (hiddenrate's default). Checked: the median within 15% of LCMCR's, the two 95% intervals
overlapping over at least half of the longer one, and the 4 chains agreeing (R-hat of N <= 1.01)
on every set. Measured with benchmarks/bench_latent_class.py --seeds 1-6: R-hat 0.999-1.005 on
all eleven sets at all six seeds (one UK 5-list seed after a tempered second run, which this test,
calling the sampler directly, does not do; seed 1 needs none).

Why UK 2013 (6 lists) is compared with the median of LCMCR's four runs, not with its first row:
LCMCR's answer there moves between seeds (medians 19,742, 20,193, 22,528 and 22,616), and
hiddenrate's (22,890 at seed 1; 22,700-23,200 at seeds 1-26, interval about [17,000, 34,500])
agrees with its last two runs (intervals [17,051, 33,714] and [16,409, 36,607]) and is 1.16 times
the first row. Before the sampler had its relabelling move, hiddenrate's chains did what LCMCR's
lower runs suggest: a chain that started with the large class at a high label kept it there for
tens of thousands of sweeps, with two or three small classes in front of it, a larger
concentration and a median of N of 20,300-21,300 (against about 22,900 for the others); R-hat was
1.002-1.044 over seeds 1-6. LCMCR's blocked Gibbs sampler (Manrique-Vallier 2016) has no move that
changes the order of the classes either. On UK 5 lists LCMCR's runs spread further (12,918 to
22,385) and hiddenrate is 1.06 times the first row.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pytest

from hiddenrate.data.lists import read_lists
from hiddenrate.models.lists.latent_class_core import LatentClassSampler

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"

# where LCMCR's runs at different seeds disagree by more than the 15% checked, the median of its runs
# (see the module docstring)
LCMCR_SPREAD = ("uk_modern_slavery_2013",)


def _lcmcr() -> dict[str, tuple[float, float, float]]:
    with open(REFERENCE, newline="") as handle:
        return {r["dataset"]: (float(r["estimate"]), float(r["lower95"]), float(r["upper95"]))
                for r in csv.DictReader(handle) if r["package"] == "LCMCR" and r["model"] == "lcmCR K=10"}


def _lcmcr_runs(name: str) -> list[float]:
    """Medians of N from every LCMCR run on this data set (the first row and the ``seed=`` rows)."""
    with open(REFERENCE, newline="") as handle:
        return [float(r["estimate"]) for r in csv.DictReader(handle)
                if r["dataset"] == name and r["package"] == "LCMCR" and r["model"].startswith("lcmCR K=10")]


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
    target = float(np.median(_lcmcr_runs(name))) if name in LCMCR_SPREAD else reference[0]
    assert median == pytest.approx(target, rel=0.15)
    overlap = max(0.0, min(upper, reference[2]) - max(lower, reference[1]))
    assert overlap >= 0.5 * max(upper - lower, reference[2] - reference[1])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_lcmcr()))
def test_chains_agree(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = float(az.rhat(_fit(name), var_names=["total"])["total"])
    assert rhat <= 1.01


@pytest.mark.slow
def test_chains_that_disagree_are_reported_not_hidden() -> None:
    """A run too short for its chains to agree (UK 6 lists, 100 sweeps of warm-up and 100 kept:
    R-hat of N 1.610 at seed 1) is reported as not converged, with the disagreement in plain words."""
    from hiddenrate.core.diagnostics import RHAT_MAX
    from hiddenrate.models.sampling.diagnostics import mcmc

    table = read_lists(EXAMPLES / "uk_modern_slavery_2013.csv").tables[0]
    idata = LatentClassSampler(table.k).sample(table.counts, draws=100, tune=100, thin=1, seed=1)
    diagnostics = mcmc(idata, ["total"], "Gibbs-HMC")
    assert diagnostics.rhat_max is not None and diagnostics.rhat_max > RHAT_MAX
    assert any(m.startswith("chains disagree") for m in diagnostics.messages)
    assert diagnostics.converged is False

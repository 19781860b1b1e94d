"""The pooled reporting model (NUTS via nutpie): borrowing, zeros, joint totals, diagnostics.

All fits use four strata so the nutpie model is compiled once per session (about 15 s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.reporting.model import fit_reporting
from hiddenrate.models.reporting.pooled import PooledSampler, sampler_inputs

FRAME = pd.DataFrame(
    {
        "area": ["A", "B", "C", "D"],
        "recorded": [100, 100, 60, 0],
        "surveyed": [711, 0, 600, 200],
        "reported": [195, 0, 160, 50],
    }
)


@pytest.fixture(scope="module")
def pooled():
    return fit_reporting(FRAME, "pooled", by=["area"], unit="incidents", seed=11)


def test_stratum_without_survey_borrows_the_pooled_rate_with_a_wider_interval(pooled) -> None:
    strata = {s.stratum["area"]: s for s in pooled.strata}
    a, b = strata["A"], strata["B"]  # same recorded count; B has no survey
    rate_a, rate_b = a.quantities["reporting_rate"], b.quantities["reporting_rate"]
    surveyed = FRAME[FRAME.surveyed > 0]
    pooled_rate = surveyed.reported.sum() / surveyed.surveyed.sum()
    assert rate_b.median() == pytest.approx(pooled_rate, abs=0.03)
    width = {k: s.total.interval(0.95)[1] - s.total.interval(0.95)[0] for k, s in strata.items()}
    rate_width = {k: s.quantities["reporting_rate"].interval(0.95)[1] - s.quantities["reporting_rate"].interval(0.95)[0]
                  for k, s in strata.items()}
    assert width["B"] > 1.5 * width["A"]
    assert rate_width["B"] > 2 * rate_width["A"]
    assert any("borrowed from the other strata" in w for w in b.warnings)
    print(f"\nA (survey 195/711): total {a.total.median():.0f} {a.total.interval(0.95)}, rate {rate_a.median():.3f}; "
          f"B (no survey): total {b.total.median():.0f} {b.total.interval(0.95)}, rate {rate_b.median():.3f}")


def test_zero_recorded_stratum_is_estimated(pooled) -> None:
    d = next(s for s in pooled.strata if s.stratum["area"] == "D")
    assert d.observed == 0 and d.total is not None
    lower, upper = d.total.interval(0.95)
    assert lower == 0 and 0 < upper < 30


def test_total_over_strata_is_the_sum_of_joint_draws(pooled) -> None:
    idata = pooled.overall.idata
    summed = idata.posterior["total"].values.sum(axis=2).ravel()
    np.testing.assert_array_equal(np.sort(pooled.overall.total.draws), np.sort(summed))
    assert pooled.overall.observed == 260
    assert pooled.unit == "incidents" and "reporting_rate" in pooled.overall.quantities


def test_diagnostics_are_recorded(pooled) -> None:
    diagnostics = pooled.overall.diagnostics
    assert diagnostics.rhat_max is not None and diagnostics.rhat_max < 1.01
    assert diagnostics.ess_bulk_min is not None and diagnostics.ess_bulk_min > 400
    assert diagnostics.divergences is not None and diagnostics.divergences <= 5  # of 4000 draws
    assert pooled.converged == (diagnostics.divergences == 0)  # any divergence is reported, never hidden
    assert all(s.diagnostics.rhat_max is not None for s in pooled.strata)
    assert pooled.options["target_accept"] == 0.99


def test_same_seed_same_numbers(pooled) -> None:
    again = fit_reporting(FRAME, "pooled", by=["area"], unit="incidents", seed=11)
    assert again.interval(0.95) == pooled.interval(0.95)


def test_every_count_zero_needs_a_proper_prior() -> None:
    with pytest.raises(ModelError, match="every recorded count is 0"):
        PooledSampler(4).sample(np.zeros(4), np.array([10, 10, 0, 0]), np.array([2, 3, 0, 0]))


def test_parameterisation_weights() -> None:
    inputs = sampler_inputs(np.array([1000, 2, 0, 50]), np.array([5000, 20, 0, 0]), np.array([1200, 5, 0, 0]))
    assert inputs["weight_rate"][2] == 0 and inputs["weight_rate"][3] == 0  # no survey: non-centred
    assert inputs["weight_incidence"][2] == 0  # nothing recorded: non-centred
    assert inputs["weight_rate"][0] > inputs["weight_rate"][1]  # bigger survey: more centred
    assert inputs["weight_incidence"][0] > inputs["weight_incidence"][3]
    assert np.all((inputs["weight_rate"] >= 0) & (inputs["weight_rate"] <= 1))

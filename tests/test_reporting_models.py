"""Reporting-rate models against closed forms and brute-force references (fast; no MCMC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hiddenrate.render.tables import lay_out
from hiddenrate import load_result
from hiddenrate.data.reporting import PopulationRoute, read_reporting
from hiddenrate.core.distributions import GridDistribution, PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.reporting.model import EXACT_PRIORS, choose_model, fit_reporting
from hiddenrate.models.reporting.base import reporting_priors
from hiddenrate.models.reporting.classical import wilson
from hiddenrate.models.reporting.exact import PopulationEvidence, SourceEvidence, combine, posterior_grid

VANCOUVER = pd.DataFrame({"recorded": [100], "surveyed": [711], "reported": [195]})


def test_reference_total_and_rate() -> None:
    """shared/data/reporting/README.md: 100 recorded, 195 of 711 reported, uniform prior on the rate,
    p(lambda) ∝ 1/lambda: total 363 [296, 446]; the rate's posterior is Beta(196, 517)."""
    result = fit_reporting(VANCOUVER, unit="incidents")
    assert result.command == "reporting" and result.unit == "incidents" and result.model == "exact"
    total = result.overall.total
    assert isinstance(total, GridDistribution)  # exact, no Monte Carlo error
    assert total.median() == pytest.approx(363, rel=0.02)
    lower, upper = result.interval(0.95)
    assert lower == pytest.approx(296, rel=0.02) and upper == pytest.approx(446, rel=0.02)
    # brute force: unrecorded ~ beta-negative-binomial(y, 196, 517) (docs/methods.md#thinning)
    reference = stats.betanbinom(100, 196, 517)
    assert total.median() == 100 + reference.median()
    assert (lower, upper) == (100 + reference.ppf(0.025), 100 + reference.ppf(0.975))
    grid = np.asarray(total.values, dtype=int)
    np.testing.assert_allclose(total.pmf, reference.pmf(grid - 100), atol=1e-9)
    rate = result.overall.quantities["reporting_rate"]
    assert stats.kstest(rate.draws, stats.beta(196, 517).cdf).pvalue > 0.01
    np.testing.assert_allclose(np.quantile(rate.draws, [0.025, 0.5, 0.975]), stats.beta(196, 517).ppf([0.025, 0.5, 0.975]), atol=0.002)


def test_classical_multiplier_closed_form() -> None:
    """711/195 x 100 = 364.6; interval = 100 / Wilson ends; Wilson 95% [0.2427, 0.3082] (README)."""
    assert wilson(195, 711, 0.95) == pytest.approx((0.2427, 0.3082), abs=5e-5)
    result = fit_reporting(VANCOUVER, "multiplier", unit="incidents")
    total = result.overall.total
    assert isinstance(total, PointEstimate)
    assert total.point == pytest.approx(100 * 711 / 195)
    low, high = wilson(195, 711, 0.95)
    assert total.interval(0.95) == pytest.approx((100 / high, 100 / low))
    assert result.interval(0.95) == pytest.approx((324.5, 412.0), abs=0.5)  # README: [324, 412]
    bayes = fit_reporting(VANCOUVER, unit="incidents").interval(0.95)
    classical_width, bayes_width = 100 / low - 100 / high, bayes[1] - bayes[0]
    # README: "about 70% wider". Both intervals are deterministic (exact grid posterior, closed form):
    # [296, 446] against [324.5, 412.0], widths 150 / 87.5 = 1.71. The band only rounds "about 70%";
    # the Bayesian interval adds the count's own Poisson noise that the multiplier leaves out.
    assert 1.5 < bayes_width / classical_width < 1.9


def test_classical_total_over_strata_delta_method() -> None:
    frame = pd.DataFrame({"area": ["A", "B"], "recorded": [100, 50], "surveyed": [711, 400], "reported": [195, 100]})
    result = fit_reporting(frame, "multiplier", by=["area"], unit="incidents")
    points = [100 * 711 / 195, 50 * 400 / 100]
    assert result.overall.total.median() == pytest.approx(sum(points))
    # independent surveys: Var = sum of N^2 (1 - p) / r
    sd = np.sqrt(points[0] ** 2 * (1 - 195 / 711) / 195 + points[1] ** 2 * (1 - 100 / 400) / 100)
    spread = np.exp(1.959964 * sd / sum(points))
    assert result.interval(0.95) == pytest.approx((sum(points) / spread, sum(points) * spread), rel=1e-5)


def test_zero_recorded_uses_flat_prior_on_incidence() -> None:
    """y = 0: p(lambda) ∝ 1 gives U | p ~ NegBin(1, p) = geometric and p ~ Beta(alpha + r - 1, beta + m - r)."""
    frame = pd.DataFrame({"recorded": [0], "surveyed": [711], "reported": [195]})
    result = fit_reporting(frame, unit="incidents")
    reference = stats.betanbinom(1, 195, 517)
    grid = np.asarray(result.overall.total.values, dtype=int)
    np.testing.assert_allclose(result.overall.total.pmf, reference.pmf(grid), atol=1e-9)
    assert result.interval(0.95) == (0.0, reference.ppf(0.975))
    assert any("nothing was recorded" in w for w in result.all_warnings())


def test_no_estimate_when_nothing_bounds_the_total() -> None:
    frame = pd.DataFrame({"recorded": [0], "surveyed": [None], "reported": [None]})
    result = fit_reporting(frame, unit="incidents")
    assert not result.estimated and "bound nothing" in result.overall.reason


def test_heavy_tail_without_survey_is_flagged() -> None:
    """One count and no survey: p(N) ∝ 1/(N (N + 1)), so P(N <= n) = 1 - y/(n+1) ... has no finite mean."""
    result = fit_reporting(pd.DataFrame({"recorded": [100], "surveyed": [0], "reported": [0]}), unit="incidents")
    assert any("no finite mean" in w for w in result.all_warnings())
    # p(N) ∝ 1/(N(N+1)) for N >= 100: P(N >= n) = 100/n, so the median is 200 (within the grid's cell)
    assert result.overall.total.median() == pytest.approx(199, abs=1)


def test_several_sources_combine_and_check_agreement() -> None:
    agree = pd.DataFrame({"source": ["police", "ngo"], "recorded": [100, 140], "surveyed": [711, 400], "reported": [195, 150]})
    result = fit_reporting(agree, unit="incidents")
    table = next(t for t in result.extra["tables"] if t["title"].startswith("Routes"))
    rows = {row[1]: row for row in lay_out(table, 0.95).rows}
    width = {name: row[4] - row[3] for name, row in rows.items()}
    assert width["combined"] < min(width["police (multiplier)"], width["ngo (multiplier)"])
    assert not any("disagree" in w for w in result.all_warnings())
    assert set(result.overall.quantities) == {"reporting_rate", "reporting_rate[ngo]"}
    assert result.overall.observed == 140  # the largest source: records are not matched
    conflict = agree.assign(recorded=[100, 300])
    result = fit_reporting(conflict, unit="incidents")
    warning = next(w for w in result.all_warnings() if "disagree" in w)
    assert "police (multiplier) gives 363 [296, 446]" in warning and "conflict p" in warning


def test_three_routes_each_against_the_rest() -> None:
    frame = pd.DataFrame({"source": ["police", "ngo", "clinic"], "recorded": [100, 140, 900],
                          "surveyed": [711, 400, 300], "reported": [195, 150, 100]})
    result = fit_reporting(frame, unit="incidents")
    conflicts = result.overall.details["conflicts"]
    assert [c["versus"] for c in conflicts] == ["the other routes"] * 3
    flagged = [w for w in result.all_warnings() if "disagree" in w]
    assert any(w.startswith("clinic (multiplier)") for w in flagged)


def test_population_route_matches_simulation() -> None:
    """Population alone: N ~ Binomial(P, q), P log-normal with 95% interval [1500, 3000], q ~ Beta(41, 111)."""
    route = PopulationRoute(1500, 3000, 40, 150)
    evidence = PopulationEvidence.from_route(route, 1.0, 1.0)
    grid = posterior_grid(evidence.log_prior, 0, evidence.upper)
    rng = np.random.default_rng(7)
    sigma = np.log(2) / (2 * 1.959964)
    sizes = np.round(np.exp(rng.normal(np.log(np.sqrt(1500 * 3000)), sigma, 400_000)))
    simulated = rng.binomial(sizes.astype(np.int64), rng.beta(41, 111, sizes.size))
    assert grid.median() == pytest.approx(np.median(simulated), rel=0.01)
    for q, end in zip((0.025, 0.975), grid.interval(0.95), strict=True):
        assert end == pytest.approx(np.quantile(simulated, q), rel=0.02)


def test_population_route_carries_zero_counts() -> None:
    data = read_reporting(pd.DataFrame({"recorded": [0], "surveyed": [None], "reported": [None]}), unit="victims",
                          population=(1500, 3000), prevalence=(40, 150))
    result = fit_reporting(data)
    assert result.unit == "victims" and result.estimated
    table = next(t for t in result.extra["tables"] if t["title"].startswith("Routes"))
    rows = {row[1]: row for row in lay_out(table, 0.95).rows}
    assert rows["records (multiplier)"][2] is None  # the zero alone bounds nothing
    assert 450 < result.overall.total.median() < rows["population route"][2]  # the zero pulls it down a little
    rate = result.overall.quantities["reporting_rate"]
    assert rate.interval(0.95)[1] < 0.01  # nothing recorded among hundreds: reporting is near zero
    assert "victimization_prevalence" in result.overall.quantities


def test_population_route_below_recorded_count_is_an_error() -> None:
    with pytest.raises(Exception, match="allows at most"):
        combine([SourceEvidence("police", 5000, 2, 2)], PopulationEvidence.from_route(PopulationRoute(100, 200, 10, 20), 1, 1), 0, 1)


def test_priors_merge_and_errors() -> None:
    merged = reporting_priors(EXACT_PRIORS, {"reporting_rate": (0.5, 0.5)}, "exact")
    assert merged["reporting_rate"] == {"dist": "beta", "alpha": 0.5, "beta": 0.5}
    assert merged["incidence"] == EXACT_PRIORS["incidence"]
    result = fit_reporting(VANCOUVER, unit="incidents", priors={"reporting_rate": {"alpha": 0.5, "beta": 0.5}})
    assert result.priors["reporting_rate"]["alpha"] == 0.5
    assert result.overall.total.median() == 100 + stats.betanbinom(100, 195.5, 516.5).median()
    with pytest.raises(ModelError, match=r"unknown prior name\(s\) 'rate'.*valid names for the exact model: reporting_rate, incidence"):
        fit_reporting(VANCOUVER, unit="incidents", priors={"rate": (1, 1)})
    with pytest.raises(ModelError, match="alpha = -1 is not allowed.*; prior 'incidence': shape"):
        fit_reporting(VANCOUVER, unit="incidents", priors={"reporting_rate": (-1, 1), "incidence": -2})
    pooled = reporting_priors({"log_incidence_mean": {"dist": "flat"}}, {"log_incidence_mean": (0, 3)}, "pooled")
    assert pooled["log_incidence_mean"] == {"dist": "normal", "mu": 0.0, "sigma": 3.0}


def test_auto_model_choice() -> None:
    one = read_reporting(VANCOUVER, unit="incidents")
    strata = read_reporting(pd.DataFrame({"a": ["x", "y"], "recorded": [1, 2], "surveyed": [10, 0], "reported": [3, 0]}),
                            by=["a"], unit="incidents")
    assert choose_model(one) == "exact" and choose_model(strata) == "pooled"


def test_exact_strata_total_is_the_sum_of_draws() -> None:
    frame = pd.DataFrame({"area": ["A", "B"], "recorded": [100, 40], "surveyed": [711, 300], "reported": [195, 90]})
    result = fit_reporting(frame, "exact", by=["area"], unit="incidents", seed=3)
    medians = [s.total.median() for s in result.strata]
    assert result.overall.total.median() == pytest.approx(sum(medians), rel=0.02)
    width = result.interval(0.95)[1] - result.interval(0.95)[0]
    summed = sum(s.total.interval(0.95)[1] - s.total.interval(0.95)[0] for s in result.strata)
    assert width < summed  # joint uncertainty, not a sum of intervals
    again = fit_reporting(frame, "exact", by=["area"], unit="incidents", seed=3)
    assert again.interval(0.95) == result.interval(0.95)  # same seed, same numbers


def test_save_and_load_keep_unit_and_rates(tmp_path) -> None:
    result = fit_reporting(VANCOUVER, unit="incidents")
    path = tmp_path / "result.nc"
    result.save(str(path))
    loaded = load_result(str(path))
    assert loaded.unit == "incidents" and loaded.command == "reporting"
    assert loaded.interval(0.95) == result.interval(0.95)
    assert loaded.overall.quantities["reporting_rate"].median() == pytest.approx(result.overall.quantities["reporting_rate"].median())

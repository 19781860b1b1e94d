"""The trend model from Python: a period without a survey, seeds, compiling once, the decomposition.

Every fit here has 1 series x 9 periods and the default process and priors, the structure of the
``vancouver-trend`` example, so the nutpie model is compiled once per session (about 25 s) and
each further fit takes about a second (few draws).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hiddenrate import example_path, fit_trend
from hiddenrate.data.periods import PeriodAxis
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.trend import core as trend_core
from hiddenrate.models.trend.changes import SeriesDraws, change, default_pairs
from hiddenrate.models.trend.core import TrendSampler
from hiddenrate.render.changes import change_sentence

SMALL = {"draws": 500, "tune": 500, "chains": 4}
YEARS = list(range(2009, 2018))


def _widths(result, index: int) -> tuple[float, float]:
    estimate = result.strata[index]
    low, high = estimate.total.interval(0.95)
    rate_low, rate_high = estimate.quantities["reporting_rate"].interval(0.95)
    return high - low, rate_high - rate_low


def test_period_without_a_survey_is_wider_than_its_neighbours_but_finite() -> None:
    """Issue 5: a period without a survey borrows its reporting rate from its neighbours, with a
    wider (but finite) interval.

    Design: 9 years, 1,000 recorded and a survey of 1,000 (300 reported) every year, except 2013
    which has no survey. The series is flat, so the neighbours differ from 2013 only by having a
    survey (a flat series is the hardest case: the middle period is the one the smoothing helps
    most). A survey of 1,000 pins the logit rate to about 1/sqrt(1000 x 0.3 x 0.7) = 0.069, less than
    the typical step of the process, so losing it matters; the measured widths (seed 13) were about
    1.15-1.2 x the neighbours' for the total and 1.3 x for the rate with the rate's step prior at
    scale 0.1, and 1.3 x and 1.4-1.5 x at its present 0.2; the test asks for 1.1 x. With surveys of
    about 80 a year the gap is smaller: test_example_without_its_2013_survey. Finite: the interval of the total has an upper end below twice
    its median (the flat prior on the incidence level would give no upper end without borrowing).
    """
    frame = pd.DataFrame({"year": YEARS, "recorded": 1000, "surveyed": pd.array([1000] * 9, dtype="Int64"),
                          "reported": pd.array([300] * 9, dtype="Int64")})
    frame.loc[4, ["surveyed", "reported"]] = pd.NA
    result = fit_trend(frame, unit="incidents", seed=13, sampling=SMALL)
    total_width, rate_width = zip(*(_widths(result, t) for t in range(9)), strict=True)
    print(f"\n95% widths, total: {[round(w) for w in total_width]}; rate: {[round(w, 3) for w in rate_width]}")
    for neighbour in (3, 5):
        assert total_width[4] >= 1.1 * total_width[neighbour], (total_width[4], total_width[neighbour])
        assert rate_width[4] >= 1.1 * rate_width[neighbour], (rate_width[4], rate_width[neighbour])
    no_survey = result.strata[4]
    low, high = no_survey.total.interval(0.95)
    assert high is not None and np.isfinite(high) and high < 2 * no_survey.total.median()
    assert low > no_survey.observed  # a rate of about 0.3: far more than the recorded 1,000
    assert any("no survey in this period" in w for w in no_survey.warnings)
    assert not any("no survey" in w for s in result.strata if s is not no_survey for w in s.warnings)
    # the figure marks it: no survey circle in 2013, and a "no survey" note at 2013 in the lower panel
    lower = result.plot().figure.axes[1]
    notes = [(text.get_text(), text.xy[0]) for text in lower.texts]
    assert notes == [("no survey", 2013.0)]  # periods sit at their times (years)
    surveys = {line.get_label(): line for line in lower.get_lines()}["survey"]
    assert 2013 not in surveys.get_xdata() and len(surveys.get_xdata()) == 8



def test_example_without_its_2013_survey() -> None:
    """Issue 5 audit: the done-when item on the bundled example, whose surveys are small (about 80
    a year) and whose rate falls steadily -- the case where the smoothing matters most.

    Design: `vancouver-trend` with the 2013 survey removed, default model and priors, 4 chains x
    1,000 draws (the command's default), seed 1. What a period without a survey lacks is its own
    measurement of the reporting rate, so the rate's interval is what must be wider: on the
    log-odds scale, where a survey of m at rate p gives about the same width whatever p, and on
    the probability scale the table shows. The total's interval is *not* compared: it grows from
    year to year here with or without the gap (fewer recorded, a lower rate), which the note does
    not claim otherwise. Finite: the total's upper end is below twice its median.

    With the step prior of the reporting rate at scale 0.1 (before this test) the 2013 rate was
    not wider than 2014's (log-odds widths 0.453, 0.468, 0.470 for 2012-2014): the trend, not any
    one survey of 80, set every rate, and the note claimed a wider interval regardless. At scale
    0.2 (trend_core's docstring has why) a survey of 80 counts for its own year. The note now
    states the measured ratio, which the test checks against the draws.
    """
    frame = pd.read_csv(example_path("vancouver-trend"))
    frame[["surveyed", "reported"]] = frame[["surveyed", "reported"]].astype("Int64")
    frame.loc[frame.year == 2013, ["surveyed", "reported"]] = pd.NA
    result = fit_trend(frame, seed=1)
    assert result.overall.diagnostics.converged
    rates = [s.quantities["reporting_rate"].draws for s in result.strata]
    log_odds = [np.subtract(*np.quantile(np.log(r / (1 - r)), [0.975, 0.025])) for r in rates]
    probability = [np.subtract(*np.quantile(r, [0.975, 0.025])) for r in rates]
    print(f"\n95% widths 2012-2014, log-odds {np.round(log_odds[3:6], 3)}, probability {np.round(probability[3:6], 4)}, "
          f"total {[round(w) for w in (_widths(result, t)[0] for t in (3, 4, 5))]}")
    for neighbour in (3, 5):
        assert log_odds[4] > log_odds[neighbour], (log_odds[4], log_odds[neighbour])
        assert probability[4] > probability[neighbour], (probability[4], probability[neighbour])
    gap = result.strata[4]
    ratio = gap.details["rate_interval_vs_neighbours"]
    assert ratio == pytest.approx(log_odds[4] / np.mean([log_odds[3], log_odds[5]]))
    # 1.07 times as wide (0.576 against 0.519 and 0.553): within what Monte Carlo error and the trend's smoothing
    # give, below NO_SURVEY_WIDER (1.25), so a note that says "about as wide", not a warning (issue 23)
    assert ratio < 1.25
    [note] = [w for w in gap.warnings if "no survey" in w]
    assert note == (f"no survey in this period: its reporting rate is borrowed from the neighbouring periods; its 95% "
                    f"interval for the rate is about as wide as theirs ({ratio:.2f} times, on the log-odds scale): the "
                    "trend carries what their surveys say to this period")
    assert (note.code, note.severity) == ("no-survey-period", "note")
    low, high = gap.total.interval(0.95)
    assert high is not None and np.isfinite(high) and high < 2 * gap.total.median() and low > gap.observed

def test_no_survey_with_a_stated_prior_is_estimated_and_says_so():
    """The way on that the message offers: a prior on the rate the user states. Then there is an
    estimate, and its first warning says that it rests on that prior, not on data; no period
    claims to borrow from neighbours that have no survey either (tests/test_trend_bad_input.py has
    the refusal without it). Another prior means another compiled model (about 25 s)."""
    frame = pd.DataFrame({"year": YEARS, "recorded": 100, "surveyed": pd.array([pd.NA] * 9, dtype="Int64"),
                          "reported": pd.array([pd.NA] * 9, dtype="Int64")})
    result = fit_trend(frame, unit="incidents", priors={"logit_rate_level": [-0.85, 0.5]}, seed=1,
                       sampling={"draws": 200, "tune": 200, "chains": 2})
    warnings = result.all_warnings()
    stated = [w for w in warnings if w.startswith("NO SURVEY")]
    assert stated == ["NO SURVEY in any period: every reporting rate and total there rests on the prior you gave, "
                      "logit_rate_level = Normal(-0.85, 0.5), not on data"]
    # first, or second after a failed convergence check (this short run may not converge: prior and
    # counts alone barely separate incidence from reporting)
    assert warnings.index(stated[0]) <= (0 if result.overall.diagnostics.converged else 1)
    assert not any("borrowed from the neighbouring periods" in w for w in warnings)


def test_same_seed_gives_the_same_numbers() -> None:
    """STYLE.md: the same data and seed give the same numbers (NUTS and the drawn unrecorded counts
    both come from the seed); another seed gives other draws."""
    path = example_path("vancouver-trend")
    settings = {"draws": 200, "tune": 200, "chains": 2}
    first = fit_trend(path, seed=21, sampling=settings)
    again = fit_trend(path, seed=21, sampling=settings)
    other = fit_trend(path, seed=22, sampling=settings)
    np.testing.assert_array_equal(first.overall.total.draws, again.overall.total.draws)
    for a, b in zip(first.strata, again.strata, strict=True):
        np.testing.assert_array_equal(a.total.draws, b.total.draws)
        np.testing.assert_array_equal(a.quantities["reporting_rate"].draws, b.quantities["reporting_rate"].draws)
    assert first.extra["changes"] == again.extra["changes"]
    assert first.seed == again.seed == 21
    assert not np.array_equal(first.overall.total.draws, other.overall.total.draws)


def test_the_compiled_model_is_reused_with_new_data() -> None:
    """Issue 5 asks for cheap simulation studies: one compile per structure, data swapped in."""
    sampler = TrendSampler(1, 9, "rw-drift")
    recorded = np.full((1, 9), 200)
    surveyed = np.full((1, 9), 300)
    sampler.sample(recorded, surveyed, np.full((1, 9), 90), draws=100, tune=100, chains=1, seed=1)
    cached = dict(trend_core._COMPILED)
    idata = sampler.sample(recorded * 2, surveyed, np.full((1, 9), 150), draws=100, tune=100, chains=1, seed=2)
    assert trend_core._COMPILED.keys() == cached.keys()
    assert all(trend_core._COMPILED[key] is cached[key] for key in cached)
    # the new data are the ones sampled: 400 recorded at a rate near 0.5 gives totals near 800
    assert 650 < float(np.median(idata.posterior["total"].values)) < 1000


def test_sampler_refuses_wrong_shapes_and_a_series_of_zeros() -> None:
    """A compiled model fits one structure; with all counts 0 the flat level prior has no lower
    bound on the incidence (the posterior is improper), so the sampler refuses and says why."""
    sampler = TrendSampler(1, 9, "rw-drift")
    with pytest.raises(ModelError, match="built for 1 series x 9 periods"):
        sampler.sample(np.ones((1, 8)), np.ones((1, 8)), np.ones((1, 8)))
    with pytest.raises(ModelError, match="recorded 0 in every period"):
        sampler.sample(np.zeros((1, 9)), np.full((1, 9), 10), np.full((1, 9), 3))
    with pytest.raises(ModelError, match="two periods"):
        TrendSampler(1, 1)


def test_changes_come_from_the_joint_draws() -> None:
    """The decomposition is exact draw by draw: recorded change = incidence change x reporting change
    (docs/methods.md#change-over-time); intervals are the equal-tailed quantiles of the ratio draws and
    P(decrease) the share of draws where the later total is smaller (checked by brute force)."""
    rng = np.random.default_rng(5)
    n = 4000
    incidence = np.column_stack([rng.gamma(400, 1, n), rng.gamma(400, 1, n)])
    rate = np.column_stack([rng.beta(40, 60, n), rng.beta(20, 80, n)])
    total = rng.poisson(incidence).astype(float)
    axis = PeriodAxis(column="year", kind="year", labels=("2015", "2016"), times=(2015, 2016))
    series = SeriesDraws(label="all", recorded=np.array([160, 80]), total=total, rate=rate, incidence=incidence)
    out = change(series, axis, 0, 1, "first to last", (0.8, 0.95), "equal-tailed", 0.95)
    ratio = total[:, 1] / total[:, 0]
    for level in (0.8, 0.95):
        expected = np.quantile(ratio, [(1 - level) / 2, (1 + level) / 2])
        np.testing.assert_allclose(out["total_ratio"]["intervals"][f"{level:g}"], expected)
    product = (incidence[:, 1] / incidence[:, 0]) * (rate[:, 1] / rate[:, 0])
    np.testing.assert_allclose(out["expected_recorded_ratio"]["intervals"]["0.95"], np.quantile(product, [0.025, 0.975]))
    assert out["prob_decrease"] == pytest.approx(np.mean(total[:, 1] < total[:, 0]))
    assert out["recorded_ratio"] == 0.5
    # incidence truly unchanged, reporting halved (0.4 -> 0.2): the fall is put on reporting
    assert out["attribution"] == "reporting"
    assert out["reporting_ratio"]["intervals"]["0.95"][1] < 1 < out["incidence_ratio"]["intervals"]["0.95"][1]
    assert "reflects a change in the reporting rate" in change_sentence(out, 0.95, "the incidence", "reporting rate")


def test_default_pairs_are_first_to_last_then_each_consecutive_pair() -> None:
    """Issue 5's default changes; with two periods the consecutive pair is first to last, once."""
    assert default_pairs(4) == [(0, 3, "first to last"), (0, 1, "consecutive"), (1, 2, "consecutive"),
                                (2, 3, "consecutive")]
    assert default_pairs(2) == [(0, 1, "first to last")]

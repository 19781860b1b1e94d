"""Claim checks agree with the posterior exactly, and their words follow the fixed bands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists
from hiddenrate.analysis.claims import (
    VERDICT_BANDS,
    ClaimCheck,
    check_claim,
    parse_claim,
    probability_of_claim,
    verdict,
)
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.render.claims import (
    claim_dict,
    claim_lines,
    claim_sentence,
    format_probability,
    rate_sentence,
    verdict_bands_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
FRAME = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [100, 200, 50]})


@pytest.fixture(scope="module")
def draws_result():
    result = fit_lists(FRAME, "bayes-2list", seed=3)
    assert isinstance(result.overall.total, DrawsDistribution)
    return result


def test_probability_is_the_fraction_of_posterior_draws(draws_result):
    draws = draws_result.overall.total.draws
    for value in [draws.min(), np.median(draws), np.quantile(draws, 0.9), float(np.round(np.mean(draws))), draws.max() + 1]:
        at_least = check_claim(draws_result, float(value))
        at_most = check_claim(draws_result, float(value), direction="at most")
        # the definition, draw by draw: (1/S) sum_s [N_s >= c] and [N_s <= c]
        assert at_least.probability == np.count_nonzero(draws >= value) / draws.size
        assert at_most.probability == np.count_nonzero(draws <= value) / draws.size
        assert at_least.draws == draws.size and "draws" in at_least.method


def test_probability_on_a_grid_is_the_exact_posterior_sum():
    result = fit_lists(FRAME.assign(third=[1, 0, 0]).loc[:, ["police", "ngo", "third", "count"]], "bma")
    grid = result.overall.total
    assert isinstance(grid, GridDistribution)
    for value in [grid.quantile(0.1), grid.median(), grid.quantile(0.975)]:
        expected = sum(p for v, p in zip(grid.values, grid.pmf, strict=True) if v >= value)
        assert check_claim(result, value).probability == pytest.approx(expected, abs=1e-12)
        assert probability_of_claim(grid, value, "at most") == pytest.approx(grid.pmf[grid.values <= value].sum(), abs=1e-12)


def test_verdict_wording_and_the_example_in_the_issue(draws_result):
    # a posterior with exactly 2% of its mass at 15,000 or more
    grid = GridDistribution(np.array([10_000.0, 12_000.0, 15_000.0, 16_000.0]), np.array([0.5, 0.48, 0.01, 0.01]))
    result = replace(draws_result, overall=replace(draws_result.overall, total=grid))
    check = check_claim(result, 15_000)
    assert check.probability == pytest.approx(0.02)
    assert claim_sentence(check) == "The data make a total of 15,000 or more very unlikely (probability 0.02)."
    assert claim_sentence(check_claim(result, 12_000, direction="at most")) == (
        "The data make a total of 12,000 or fewer very likely (probability 0.98)."
    )


def test_bands_cover_zero_to_one_without_gaps_and_are_symmetric():
    for lower, upper in zip(VERDICT_BANDS, VERDICT_BANDS[1:], strict=False):
        assert lower.upper == upper.lower and lower.upper_closed != upper.lower_closed
    assert VERDICT_BANDS[0].lower == 0 and VERDICT_BANDS[-1].upper == 1
    mirror = {"extremely unlikely": "extremely likely", "very unlikely": "very likely", "unlikely": "likely",
              "about as likely as not": "about as likely as not"}
    mirror.update({v: k for k, v in mirror.items()})
    for p in np.round(np.linspace(0, 1, 1001), 3):
        assert mirror[verdict(float(p))] == verdict(round(1 - float(p), 6)), p
    assert [verdict(p) for p in (0.0, 0.0099, 0.01, 0.0999, 0.10, 0.3299, 0.33, 0.67, 0.6701, 0.90, 0.9001, 0.99, 0.9901, 1.0)] == [
        "extremely unlikely", "extremely unlikely", "very unlikely", "very unlikely", "unlikely", "unlikely",
        "about as likely as not", "about as likely as not", "likely", "likely", "very likely", "very likely",
        "extremely likely", "extremely likely"]
    with pytest.raises(ModelError):
        verdict(1.2)


def test_the_docs_state_the_bands_the_code_uses():
    assert verdict_bands_markdown() in (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")


def test_a_probability_is_never_printed_in_another_band_than_its_verdict():
    for p in np.linspace(0, 1, 20_001):
        text = format_probability(float(p))
        if text.startswith(("below", "above")):
            continue
        assert verdict(float(text)) == verdict(float(p)), (p, text)
    assert format_probability(0.0, draws=4000) == "below 1 in 4,000: no posterior draw reached it"
    # every one of 20,000 draws: 1 - 1/20,000 = 0.99995, not rounded to "above 1"
    assert format_probability(1.0, draws=20_000) == "above 0.99995: every posterior draw reached it"
    assert format_probability(1.0, draws=4000) == "above 0.99975: every posterior draw reached it"


def test_maximum_likelihood_results_give_no_probability():
    result = fit_lists(FRAME, "chapman")
    lower, upper = result.interval(0.95)
    above = check_claim(result, upper * 2)
    inside = check_claim(result, (lower + upper) / 2)
    assert above.probability is None and above.verdict is None
    assert above.position == "above" and inside.position == "inside"
    assert "confidence interval" in claim_sentence(above) and "not a probability" in claim_sentence(above)
    assert "do not support a total that large" in claim_sentence(above)


def test_rates_per_100000_people(draws_result):
    check = check_claim(draws_result, 1_000, population=2_000_000)
    assert check.claim_rate == pytest.approx(50.0)
    assert check.estimate_rate is not None
    assert check.estimate_rate[0] == pytest.approx(draws_result.overall.total.median() / 2_000_000 * 100_000)
    assert (rates := rate_sentence(check)) is not None and "Per 100,000 people" in rates
    assert claim_dict(check)["rate_per"] == 100_000


def test_parse_claim_and_bad_values():
    assert parse_claim("15,000") == (15000.0, "at least")
    assert parse_claim(">=15000") == (15000.0, "at least")
    assert parse_claim("<= 2500") == (2500.0, "at most")
    assert parse_claim(">15000") == (15000.0, "more than")  # rejected before issue 23
    assert parse_claim("< 2,500") == (2500.0, "fewer than")
    for bad in ["lots", "-3", "nan", "=>15000"]:
        with pytest.raises(ModelError):
            parse_claim(bad)


def test_claim_against_no_estimate_says_so(draws_result):
    result = replace(draws_result, overall=replace(draws_result.overall, total=None, reason="no upper bound"))
    check = check_claim(result, 500)
    assert check.probability is None and "cannot be checked" in claim_sentence(check)


# ----------------------------------------------------------------------------- issue 23: claims carry their uncertainty


def test_strict_claims_leave_out_the_claimed_value_itself():
    grid = GridDistribution(np.array([10.0, 11.0, 12.0]), np.array([0.2, 0.5, 0.3]))
    assert probability_of_claim(grid, 11, "at least") == pytest.approx(0.8)
    assert probability_of_claim(grid, 11, "more than") == pytest.approx(0.3)
    assert probability_of_claim(grid, 11, "at most") == pytest.approx(0.7)
    assert probability_of_claim(grid, 11, "fewer than") == pytest.approx(0.2)
    draws = DrawsDistribution(np.array([10.0, 11.0, 11.0, 12.0]))
    assert probability_of_claim(draws, 11, "more than") == 0.25 and probability_of_claim(draws, 11, "fewer than") == 0.25


def test_the_bracket_from_a_rows_intervals_holds_the_exact_probability():
    """A sensitivity row keeps its median and equal-tailed ends at 50/80/90/95/99%: eleven quantiles. For any
    claimed value the exact probability (from the draws the quantiles came from) lies in the bracket."""
    from hiddenrate.analysis.claim_rows import bracket
    from hiddenrate.core.settings import REPORT_LEVELS
    from hiddenrate.result.table import interval_cell

    dist = DrawsDistribution(np.exp(np.random.default_rng(7).normal(np.log(5000), 0.3, 20_000)))
    cell = interval_cell(dist.median(), lambda x: dist.interval(x, "equal-tailed"), REPORT_LEVELS)
    for value in np.linspace(1500, 15_000, 60):
        for direction in ("at least", "more than", "at most", "fewer than"):
            low, high = bracket(cell, float(value), direction)
            exact = probability_of_claim(dist, float(value), direction)
            assert low - 1e-3 <= exact <= high + 1e-3, (value, direction, low, exact, high)
    assert bracket(cell, 100_000, "at least") == (0.0, 0.005)  # beyond the 99% upper end
    assert bracket({"median": None, "intervals": {"0.95": [1, 2]}}, 1.5, "at least") is None  # a range, no quantiles


def test_a_claim_on_two_lists_carries_the_serious_warnings(draws_result):
    check = check_claim(draws_result, 500)
    assert any("two lists cannot show whether they are independent" in c for c in check.caveats)
    lines = claim_lines(check)
    assert lines[0] == claim_sentence(check)
    assert "Read it with the result's serious warning:" in lines
    again = ClaimCheck.from_dict(check.to_dict())
    assert again.caveats == check.caveats and again.rows == check.rows


@pytest.mark.slow
def test_uk_2013_claim_changes_verdict_under_the_other_prior_weight(tmp_path):
    """Issue 23's reproduction: 15,000 or more on UK 2013 is "unlikely (0.20)" at the default delta = 2^-6 but
    "extremely unlikely" at delta = 1 (median 2,774: 15,000 lies beyond the 99% interval, so the probability is
    below 0.005), and the independence and log-linear rows say the same. The check lists them, and the result's
    serious warnings (delta decides, two modes, lists that never overlap). From a saved file, as the CLI does."""
    from hiddenrate.api.lists import example_path
    from hiddenrate.result.io import load_result

    path = tmp_path / "uk.nc"
    fit_lists(example_path("uk-2013")).save(str(path))
    check = check_claim(load_result(str(path)), 15_000)
    assert (check.verdict, format_probability(check.probability)) == ("unlikely", "0.20")
    delta = next(r for r in check.rows if r.row == "delta = 1")
    assert delta.posterior and not delta.agrees and delta.verdicts == ("extremely unlikely",) and delta.high == 0.005
    assert {r.row.split(":")[0] for r in check.disagreeing} >= {"delta = 1", "independence (log-linear)", "best BIC"}
    assert {c.split(":")[0] for c in check.caveats} >= {
        "the prior weight delta decides this answer",
        "the posterior of the total has 2 separate modes (near 12,031 and 22,243)",
        "2 pair(s) of lists never overlap (LA-GP, LA-NCA)"}
    words = "\n".join(claim_lines(check))
    assert "Under delta = 1 (prior weight): extremely unlikely (probability below 0.005" in words
    assert "The verdict depends on the assumptions" in words and "SERIOUS: the prior weight delta decides" in words
    assert claim_dict(check)["verdict_depends_on_assumptions"] is True


def test_claim_command_accepts_every_operator(run_cli, draws_result, tmp_path):
    """`>`, `>=`, `<`, `<=` on the command line (`'>15000'` exited 2 before issue 23); the JSON carries the
    rows, whether the verdict depends on them, and the serious warnings."""
    target = tmp_path / "r.nc"
    draws_result.save(str(target))
    draws = draws_result.overall.total.draws
    for text, expected in ((">500", np.mean(draws > 500)), (">=500", np.mean(draws >= 500)),
                           ("<500", np.mean(draws < 500)), ("<=500", np.mean(draws <= 500))):
        result = run_cli("claim", target, "--value", text, "--format", "json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["probability"] == expected and isinstance(data["rows"], list)
        assert any("independent" in c for c in data["caveats"]) and "verdict_depends_on_assumptions" in data
    text = run_cli("claim", target, "--value", ">500").stdout
    assert text.startswith("The data make a total of more than 500 ") and "SERIOUS: two lists cannot show" in text

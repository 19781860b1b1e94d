"""Claim checks agree with the posterior exactly, and their words follow the fixed bands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists
from hiddenrate.analysis.claims import (
    VERDICT_BANDS,
    check_claim,
    parse_claim,
    probability_of_claim,
    verdict,
)
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.render.claims import (
    claim_dict,
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
    for bad in ["lots", "-3", "nan"]:
        with pytest.raises(ModelError):
            parse_claim(bad)


def test_claim_against_no_estimate_says_so(draws_result):
    result = replace(draws_result, overall=replace(draws_result.overall, total=None, reason="no upper bound"))
    check = check_claim(result, 500)
    assert check.probability is None and "cannot be checked" in claim_sentence(check)

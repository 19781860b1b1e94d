"""A trend answers its question first, and a claim on a trend is about the change or a period.

The example is fitted once (4 chains x 300 draws, seed 4: the structure, not the precision, is
tested; the compiled model is shared with tests/test_trend_cli.py in one process).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hiddenrate import fit_lists, fit_trend
from hiddenrate.analysis.trend_claims import (
    check_trend_claim,
    is_targeted,
    parse_targeted,
)
from hiddenrate.cli import cli
from hiddenrate.core.exceptions import ModelError
from hiddenrate.data.examples import get_example
from hiddenrate.render import render
from hiddenrate.render.figures import expected_figures


@pytest.fixture(scope="module")
def trend():
    return fit_trend(get_example("vancouver-trend").path(), sampling={"draws": 300, "tune": 300, "chains": 4}, seed=4)


def _period_draws(result, year: str) -> np.ndarray:
    return next(np.asarray(s.total.draws, dtype=float) for s in result.strata if s.stratum.get("year") == year)


def test_the_headline_is_the_change_and_the_sum_comes_last(trend) -> None:
    change = trend.extra["changes"][0]
    assert change["kind"] == "first to last"
    text = render(trend, "text")
    paragraphs = [p for p in text.split("\n\n") if not p.startswith("!!!")]  # (a convergence banner may come first)
    lead = " ".join(paragraphs[1].split())
    assert lead.startswith("From 2009 to 2017 the estimated total changed by x")
    assert f"probability that it fell: {change['prob_decrease']:.2f}" in lead
    assert "times the reporting rate" in lead  # recorded change = incidence x reporting
    table = paragraphs[2].splitlines()
    labels = [line[2:36].strip() for line in table[2:]]
    assert labels[:2] == ["Total in 2009", "Total in 2017"]
    assert labels[2].startswith("Change in the total, 2017 / 2009") and labels[-1] == "Sum over the 9 periods"
    assert expected_figures(trend)[0] == "trend"  # the first figure shows the periods


def test_json_keeps_the_sum_and_adds_the_change(trend) -> None:
    payload = json.loads(render(trend, "json"))
    assert payload["total"]["median"] == trend.overall.total.median()  # backward compatible: the sum
    change = payload["change"]
    first = payload["details"]["changes"][0]
    for key in ("from", "to", "total_ratio", "incidence_ratio", "reporting_ratio", "prob_decrease", "attribution"):
        assert change[key] == first[key]
    assert change["sentence"].startswith("From 2009 to 2017")


def test_a_claim_on_the_change_uses_the_same_joint_draws_as_the_changes_table(trend) -> None:
    """P(N_2017 / N_2009 < 1) is the share of joint draws with N_2017 < N_2009: the changes table's
    P(decrease), exactly (same draws, strict inequality)."""
    check = check_trend_claim(trend, "change<1")
    assert check.probability == trend.extra["changes"][0]["prob_decrease"]
    assert check.target == {"kind": "change", "from": "2009", "to": "2017", "operator": "<"}
    ratio = _period_draws(trend, "2017") / _period_draws(trend, "2009")
    assert check_trend_claim(trend, "change<=0.8").probability == np.mean(ratio <= 0.8)
    assert check_trend_claim(trend, "2013:2017>1").probability == np.mean(
        _period_draws(trend, "2017") / _period_draws(trend, "2013") > 1)


def test_a_claim_on_a_period_and_a_plain_number_on_the_sum(trend) -> None:
    draws = _period_draws(trend, "2017")
    check = check_trend_claim(trend, "2017>=450")
    assert check.probability == np.mean(draws >= 450) and check.direction == "at least"
    assert "in 2017" in render(trend, "text", claims=["2017>=450"])
    text = " ".join(render(trend, "text", claims=["3000"]).split())
    assert "a total of 3,000 or more incidents over all 9 periods together" in text


def test_targeted_claims_are_checked_and_explained(trend) -> None:
    assert parse_targeted(" change <= 0.8 ") == ("change", "<=", 0.8)
    assert parse_targeted("2017≥1,500") == ("2017", ">=", 1500.0)
    assert not is_targeted("15000") and not is_targeted("<=15000") and not is_targeted(" >=15000")
    with pytest.raises(ModelError, match="the periods are 2009, 2010"):
        check_trend_claim(trend, "2019>=5")
    with pytest.raises(ModelError, match="above 0"):
        check_trend_claim(trend, "change<0")
    lists = fit_lists(get_example("spina-bifida").path())
    with pytest.raises(ModelError, match="has no periods"):
        check_trend_claim(lists, "change<1")


def test_claim_command_takes_a_targeted_claim(trend, tmp_path) -> None:
    saved = tmp_path / "trend.nc"
    trend.save(saved)
    run = CliRunner().invoke(cli, ["claim", str(saved), "--value", "change<1"], catch_exceptions=False)
    assert run.exit_code == 0
    assert "a fall in the total from 2009 to 2017 (ratio 2017/2009 below 1)" in " ".join(run.stdout.split())
    bad = CliRunner().invoke(cli, ["claim", str(saved), "--value", "2030>=5"])
    assert bad.exit_code == 2 and "not a period" in bad.stderr

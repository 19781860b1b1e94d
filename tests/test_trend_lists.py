"""List data with a period column: each period fitted with a list model, changes from the draws."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists, fit_trend
from hiddenrate.models.trend.lists import NOT_POOLED
from hiddenrate.render.jsonfmt import payload
from hiddenrate.render.tables import lay_out

# two lists, three years; 2019 and 2020 identical, 2021 a larger total (see test_changes_use_the_share_recorded)
FRAME = pd.DataFrame({"police": [1, 0, 1] * 3, "ngo": [0, 1, 1] * 3, "year": [2019] * 3 + [2020] * 3 + [2021] * 3,
                      "count": [150, 200, 50, 150, 200, 50, 300, 400, 50]})


@pytest.fixture(scope="module")
def trend():
    return fit_trend(FRAME, seed=2)


def test_each_period_is_the_list_model_fitted_alone(trend) -> None:
    """Periods are fitted separately (NOT_POOLED says so): each period's estimate is exactly what
    `hiddenrate lists` gives for that year's rows, with the same model and seed."""
    assert trend.command == "trend" and trend.model == "bayes-2list"
    assert [s.stratum for s in trend.strata] == [{"year": "2019"}, {"year": "2020"}, {"year": "2021"}]
    assert [s.observed for s in trend.strata] == [400, 400, 750]
    alone = fit_lists(FRAME, "bayes-2list", by=["year"], seed=2)
    for period, single in zip(trend.strata, alone.strata, strict=True):
        assert period.total.median() == single.total.median()
        assert period.total.interval(0.95) == single.total.interval(0.95)
    assert NOT_POOLED in trend.assumptions
    assert trend.extra["capture_structure"] == "not pooled across periods"


def test_changes_use_the_share_recorded(trend) -> None:
    """Lincoln-Petersen (n1 n2 / n11) gives 200 x 250 / 50 = 1,000 in 2019 and 2020 (identical
    tables) and 350 x 450 / 50 = 3,150 in 2021: the first-to-last ratio of totals is about 3.2,
    clearly an increase, while recorded counts rose only 750 / 400 = 1.875 (the share on a list
    fell from about 0.4 to 0.24). Identical years: the ratio 2019 -> 2020 has an interval around 1."""
    changes = trend.extra["changes"]
    assert [(c["from"], c["to"], c["kind"]) for c in changes] == [
        ("2019", "2021", "first to last"), ("2019", "2020", "consecutive"), ("2020", "2021", "consecutive")]
    first, same = changes[0], changes[1]
    assert 2.5 < first["total_ratio"]["median"] < 4
    assert first["total_ratio"]["intervals"]["0.95"][0] > 1 and first["prob_decrease"] < 0.01
    assert first["recorded_ratio"] == pytest.approx(750 / 400)
    assert first["reporting_ratio"]["intervals"]["0.95"][1] < 1  # the share recorded fell
    assert first["attribution"] == "both"
    sentence = payload(trend)["details"]["changes"][0]["sentence"]  # worded by the renderer
    assert "share recorded" in sentence and "The total changed" in sentence
    low, high = same["total_ratio"]["intervals"]["0.95"]
    assert low < 1 < high and 0.3 < same["prob_decrease"] < 0.7
    table = trend.extra["tables"][-1]
    assert table["title"] == "Change between periods" and "share recorded x (95%)" in lay_out(table, 0.95).columns


def test_list_trend_from_the_cli_with_its_figure(run_cli, write_csv, tmp_path) -> None:
    """The same through the CLI: JSON with periods and changes, and the two-panel figure with the
    share recorded (no survey, so no survey marks) below the totals."""
    from hiddenrate import load_result

    path = write_csv(FRAME.to_csv(index=False))
    saved, figure = tmp_path / "lists.nc", tmp_path / "lists.png"
    result = run_cli("trend", path, "--format", "json", "--save", saved, "--plot", figure, "--quiet")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["strata"]) == 3 and len(payload["details"]["changes"]) == 3
    assert payload["details"]["periods"]["labels"] == ["2019", "2020", "2021"]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    upper = load_result(saved).plot()
    lower = upper.figure.axes[1]
    assert lower.get_ylabel() == "share recorded"
    assert [line.get_label() for line in lower.get_lines()] == ["share recorded"]
    np.testing.assert_array_equal({line.get_label(): line for line in upper.get_lines()}["recorded"].get_ydata(),
                                  [400, 400, 750])


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_change_table_in_every_report(fmt, run_cli, write_csv) -> None:
    """Issue 5 audit: with list data fitted period by period the change between periods (the main
    answer) was in JSON and CSV but not in the reports people read, because the list model's own
    tables (sensitivity) replaced it. Every report now shows both, the changes first; the
    2019-to-2021 row carries the recorded counts 400 and 750 (FRAME)."""
    path = write_csv(FRAME.to_csv(index=False))
    result = run_cli("trend", path, "--format", fmt, "--quiet")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "Change between periods" in text and "Model sensitivity" in text
    assert text.index("Change between periods") < text.index("Model sensitivity")
    changes = text[text.index("Change between periods"):text.index("Model sensitivity")]
    assert "share recorded x" in changes and "2019" in changes and "2021" in changes and "750" in changes


def test_maximum_likelihood_models_are_refused(run_cli, write_csv) -> None:
    """Chapman gives a point estimate and an interval, no draws: no ratio of totals can be drawn."""
    path = write_csv(FRAME.to_csv(index=False))
    result = run_cli("trend", path, "--model", "chapman", "--quiet")
    assert result.exit_code == 2
    assert "changes between periods need a posterior" in result.stderr and "--model bma" in result.stderr


def test_list_trend_with_a_stratum_column() -> None:
    """Two areas over two years: one series per area plus their sum ("all")."""
    frame = pd.concat([FRAME[FRAME.year < 2021].assign(area="north"), FRAME[FRAME.year < 2021].assign(area="south")])
    result = fit_trend(frame, by=["area"], seed=3)
    assert [s.stratum for s in result.strata] == [{"area": a, "year": y} for a in ("north", "south")
                                                  for y in ("2019", "2020")]
    assert [c["series"] for c in result.extra["changes"]] == ["area=north", "area=south", "all"]
    assert [c["recorded_from"] for c in result.extra["changes"]] == [400, 400, 800]

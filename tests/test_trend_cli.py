"""`hiddenrate trend` from the command line: the example, the JSON contract, every format, the
figure (two panels, in --plot files and HTML reports) and save/load.

The example is fitted once per module (4 chains x 500 draws); the format tests refit it with few
draws, reusing the compiled model (same structure: 1 series x 9 periods).
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from hiddenrate.render.jsonfmt import render_json
from hiddenrate import Result, fit_trend, load_result
from hiddenrate.cli import cli
from hiddenrate.data.examples import get_example
from hiddenrate.render.figures import expected_figures

YEARS = [str(y) for y in range(2009, 2018)]
RECORDED = [144, 136, 127, 118, 110, 102, 93, 84, 76]
FEW = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "4"]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The example through the CLI: JSON on stdout, the result saved, the figure drawn."""
    directory = tmp_path_factory.mktemp("trend")
    saved, figure = directory / "trend.nc", directory / "trend.png"
    run = CliRunner().invoke(cli, ["trend", "--example", "vancouver-trend", "--format", "json", "--save", str(saved),
                                   "--plot", str(figure), "--draws", "500", "--tune", "500", "--seed", "3", "--quiet"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout), saved, figure


def test_example_json_has_periods_and_changes(example_run) -> None:
    """The example holds the true incidence at 400 a year while reporting falls from 36% to 19%
    (examples/trend/README.md): every period's interval must contain 400, the first-to-last ratio
    of totals must contain 1, and the fall in recorded counts (144 to 76) must be put on reporting."""
    payload, _, _ = example_run
    assert payload["command"] == "trend" and payload["model"] == "rw-drift"
    assert [s["stratum"] for s in payload["strata"]] == [{"year": y} for y in YEARS]
    assert [s["observed"] for s in payload["strata"]] == RECORDED
    for stratum in payload["strata"]:
        for name in ("total", "hidden", "observed_share", "reporting_rate", "incidence"):
            low, high = stratum[name]["intervals"]["0.95"]
            assert low <= stratum[name]["median"] <= high, (stratum["stratum"], name)
        low, high = stratum["total"]["intervals"]["0.95"]
        assert low <= 400 <= high, stratum
    details = payload["details"]
    assert details["periods"]["labels"] == YEARS and details["periods"]["column"] == "year"
    changes = details["changes"]
    assert [(c["from"], c["to"], c["kind"]) for c in changes] == [("2009", "2017", "first to last")] + [
        (a, b, "consecutive") for a, b in zip(YEARS, YEARS[1:], strict=False)]
    first = changes[0]
    for name in ("total_ratio", "incidence_ratio", "reporting_ratio", "expected_recorded_ratio"):
        assert set(first[name]) == {"median", "mean", "intervals"}
    low, high = first["total_ratio"]["intervals"]["0.95"]
    assert low < 1 < high
    assert 0 <= first["prob_decrease"] <= 1 and 0.2 < first["prob_decrease"] < 0.8
    assert first["recorded_ratio"] == pytest.approx(76 / 144)
    assert first["reporting_ratio"]["intervals"]["0.95"][1] < 1
    assert first["attribution"] == "reporting"
    assert first["sentence"].startswith("Recorded counts fell 47% from 2009 to 2017 (144 to 76).")
    assert [t["title"] for t in details["tables"]] == ["By period: reporting rate and total", "Change between periods"]
    # its yearly counts are invented (examples/trend/README.md): the output says so first
    assert payload["warnings"][0].startswith("example with illustrative numbers, not a real estimate: published: the "
                                             "195/711 aggregate and the downward direction; illustrative: every yearly")
    assert payload["warnings"][0].endswith("(see examples/trend/README.md)")


def test_plot_draws_recorded_and_estimated_totals_above_the_reporting_rate(example_run) -> None:
    """Issue 5's figure: recorded vs estimated total per period with interval bands, and the
    reporting rate in a panel below; the lines carry exactly the result's numbers."""
    _, saved, figure = example_run
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = load_result(saved)
    upper = result.plot()
    axes = upper.figure.axes
    assert len(axes) == 2
    lower = axes[1]
    lines = {line.get_label(): line for line in upper.get_lines()}
    np.testing.assert_array_equal(lines["recorded"].get_ydata(), RECORDED)
    np.testing.assert_allclose(lines["estimated total"].get_ydata(), [s.total.median() for s in result.strata])
    assert len(upper.collections) == 1  # the interval band
    band = upper.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(min(s.total.interval(0.95)[0] for s in result.strata))
    assert band.max() == pytest.approx(max(s.total.interval(0.95)[1] for s in result.strata))
    rates = {line.get_label(): line for line in lower.get_lines()}
    np.testing.assert_allclose(rates["reporting rate"].get_ydata(),
                               [s.quantities["reporting_rate"].median() for s in result.strata])
    surveys = get_example("vancouver-trend").path().read_text().splitlines()[1:]
    np.testing.assert_allclose(rates["survey"].get_ydata(),
                               [int(row.split(",")[4]) / int(row.split(",")[3]) for row in surveys])
    assert lower.get_ylabel() == "reporting rate"
    assert [t.get_text() for t in lower.get_xticklabels()] == YEARS


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "markdown", "html"])
def test_every_format(fmt, run_cli, tmp_path) -> None:
    """Every output format carries the periods and the changes (html: with the two-panel figure)."""
    path = tmp_path / f"trend.{fmt}"
    result = run_cli("trend", "--example", "vancouver-trend", *FEW, "--format", fmt, "-o", path, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        payload = json.loads(text)
        assert len(payload["strata"]) == 9 and len(payload["details"]["changes"]) == 9
    elif fmt == "csv":
        rows = text.strip().splitlines()
        assert len(rows) == 11  # header, 9 periods, the total over periods
        assert "reporting_rate_median" in rows[0] and rows[1].startswith("year=2009,") and rows[-1].startswith("total,")
    else:
        assert "Change between periods" in text and "By period: reporting rate and total" in text
        assert "2009" in text and "2017" in text
        assert "illustrative numbers, not a real estimate" in " ".join(text.split())
    if fmt == "html":
        assert re.findall(r'data-figure="(\w+)"', text) == ["trend", "posterior", "bar"]
        trend = text.split('data-figure="trend"')[1]
        svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', trend).group(1)).decode()
        assert "Recorded and estimated total by year" in svg and "reporting rate" in svg
        assert "circles are each survey" in trend and "a period without a survey borrows" in trend


def test_plot_writes_svg(run_cli, tmp_path) -> None:
    """--plot FILE.svg writes SVG (format from the extension) with the two panels' text."""
    figure = tmp_path / "trend.svg"
    result = run_cli("trend", "--example", "vancouver-trend", *FEW, "--plot", figure, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert figure.read_text().lstrip().startswith("<?xml") and "reporting rate" in figure.read_text()


def test_save_load_round_trip_is_exact(example_run, tmp_path) -> None:
    """A saved trend result re-renders without the input: its JSON is the fitted result's, exactly,
    and its report figures are those of a trend result."""
    payload, saved, _ = example_run
    loaded = Result.load(str(saved))
    assert json.loads(render_json(loaded)) == payload  # the JSON renderer words each change's sentence
    assert expected_figures(loaded) == ["trend", "posterior", "bar"]
    fresh = fit_trend(get_example("vancouver-trend").path(), seed=5, sampling={"draws": 200, "tune": 200, "chains": 2})
    path = tmp_path / "fresh.nc"
    fresh.save(str(path))
    again = Result.load(str(path))
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(fresh.to_dict(), sort_keys=True)
    assert again.extra["changes"] == json.loads(json.dumps(fresh.to_dict()))["details"]["changes"]


def test_report_of_a_saved_result_matches_the_command(example_run, run_cli) -> None:
    """`hiddenrate report saved.nc --format json` needs no input file and prints the same JSON."""
    payload, saved, _ = example_run
    result = run_cli("report", saved, "--format", "json", "--quiet")
    assert result.exit_code == 0 and json.loads(result.stdout) == payload


def test_compare_and_only_compare(run_cli) -> None:
    """--compare adds a pair; --only-compare reports only the pairs asked for (to / from)."""
    result = run_cli("trend", "--example", "vancouver-trend", *FEW, "--compare", "2013:2015", "--only-compare",
                     "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["details"]["changes"]
    assert [(c["from"], c["to"], c["kind"]) for c in changes] == [("2013", "2015", "requested")]
    assert changes[0]["recorded_ratio"] == pytest.approx(93 / 110)


def test_plot_and_report_of_a_suppressed_result(run_cli, tmp_path) -> None:
    """--suppress-below hides small counts in the figure too (the survey counts become "<100"
    strings in the input summary; they are not drawn, and the run does not fail)."""
    figure, page = tmp_path / "suppressed.png", tmp_path / "suppressed.html"
    result = run_cli("trend", "--example", "vancouver-trend", *FEW, "--suppress-below", "100", "--plot", figure,
                     "--format", "html", "-o", page, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.findall(r'data-figure="(\w+)"', page.read_text()) == ["trend", "posterior", "bar"]

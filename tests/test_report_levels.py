"""`hiddenrate report --level`: every model table is shown at the level asked for.

Issue "One house" (models return numbers): a result saved at the default 95% and reported at
80% once showed the headline at 80% but the delta-sensitivity and model-sensitivity tables at
95%. The tables now hold their intervals at every report level; the renderers choose one.
"""

from __future__ import annotations

import re

import pytest

from hiddenrate import load_result
from hiddenrate.render import numbers as fmt
from hiddenrate.render.tables import lay_out
from hiddenrate.result.table import Table


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """uk-2013 (model averaging, exact: about a second) saved with the default levels."""
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    path = tmp_path_factory.mktemp("levels") / "uk.nc"
    run = CliRunner().invoke(cli, ["lists", "--example", "uk-2013", "--save", str(path), "--quiet"])
    assert run.exit_code == 0, run.output
    return path


@pytest.mark.parametrize("fmt_name", ["text", "markdown", "html"])
def test_report_at_80_shows_every_table_at_80(run_cli, saved, tmp_path, fmt_name) -> None:
    """No 95% anywhere; both interval tables (delta and model sensitivity) labelled 80%, with the
    80% interval of the fitted posterior itself in the delta table."""
    target = tmp_path / f"report.{fmt_name}"
    run = run_cli("report", saved, "--level", "0.8", "--format", fmt_name, "-o", target, "--quiet")
    assert run.exit_code == 0, run.stderr
    page = target.read_text(encoding="utf-8")
    assert "95%" not in page
    assert page.count("80% lower") == 2 and page.count("80% upper") == 2
    lower, upper = load_result(str(saved)).overall.total.interval(0.8)
    assert re.search(rf"{re.escape(fmt.number(float(lower)))}\D+{re.escape(fmt.number(float(upper)))}", page)


def test_tables_hold_every_report_level_and_say_when_one_is_missing(saved) -> None:
    """The stored delta table has the ladder's levels; a level outside it is said, not guessed."""
    result = load_result(str(saved))
    stored = next(t for t in result.model_tables() if t["title"].startswith("Sensitivity to the prior"))
    cell = Table.from_dict(stored).rows[0][1]
    assert set(cell["intervals"]) == {"0.5", "0.8", "0.9", "0.95", "0.99"}
    assert cell["intervals"]["0.95"] == list(result.overall.total.interval(0.95))
    shown = lay_out(stored, 0.85)
    assert shown.columns[-2:] == ["85% lower", "85% upper"] and shown.rows[0][2:] == [None, None]
    assert shown.note.endswith("Not computed at 85%: refit with --level 0.85.")


def test_an_old_table_of_strings_still_lays_out() -> None:
    """A table saved before tables held numbers (columns as strings) reads as plain columns."""
    old = {"title": "Old", "columns": ["model", "estimate", "95% lower"], "rows": [["a", 1.0, 0.5]], "note": "n"}
    shown = lay_out(old, 0.8)
    assert shown.columns == ["model", "estimate", "95% lower"] and shown.rows == [["a", 1.0, 0.5]]
    assert shown.note == "n"


def test_suppression_hides_small_counts_inside_interval_cells() -> None:
    """An estimate column's median and ends below k are hidden at every level; an inline ratio
    (never a count) is left alone, as its text cell always was."""
    from hiddenrate.analysis.suppression import suppress_table
    from hiddenrate.result.table import Column, build

    table = build("t", [Column("model"), Column("estimate", "count", "split"), Column("r ({level})", "number", "inline")],
                  [["a", {"median": 3.0, "intervals": {"0.8": [2.0, 40.0], "0.95": [1.0, 60.0]}},
                    {"median": 0.5, "intervals": {"0.95": [0.2, 0.9]}}]])
    (row,) = suppress_table(table, 5)["rows"]
    assert row[1] == {"median": "<5", "intervals": {"0.8": ["<5", 40.0], "0.95": ["<5", 60.0]}}
    assert row[2] == {"median": 0.5, "intervals": {"0.95": [0.2, 0.9]}}


def test_profile_ends_at_several_levels_match_one_profile_per_level() -> None:
    """One fit, one root-finding per level and end: the same ends as profile_likelihood at each
    level (Cormack 1992 profile interval; agreement to root-finding tolerance)."""
    from hiddenrate.data.examples import get_example
    from hiddenrate.data.lists import read_lists
    from hiddenrate.models.lists.loglinear_profile import profile_ends, profile_likelihood

    table = read_lists(get_example("spina-bifida").path()).tables[0]
    ends = profile_ends(table.counts, table.k, (), (0.5, 0.8, 0.99))
    for level, (lower, upper) in ends.items():
        one = profile_likelihood(table.counts, table.k, (), level)
        assert lower == pytest.approx(one.lower, rel=1e-10) and upper == pytest.approx(one.upper, rel=1e-10)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """A reporting result (exact, two sources: about a second) and a combine result (unlinked
    counts, exact: no MCMC), saved with the default levels."""
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    folder = tmp_path_factory.mktemp("models")
    paths = {"reporting": folder / "reporting.nc", "combine": folder / "combine.nc"}
    for command, example in (("reporting", "two-sources"), ("combine", "police-ngo-counts")):
        run = CliRunner().invoke(cli, [command, "--example", example, "--save", str(paths[command]), "--quiet"])
        assert run.exit_code == 0, run.output
    return paths


@pytest.mark.parametrize("fmt_name", ["text", "markdown", "html"])
@pytest.mark.parametrize("command", ["reporting", "combine"])
def test_reporting_and_combine_tables_at_80(run_cli, saved_models, tmp_path, command, fmt_name) -> None:
    """Every interval table of a reporting and a combine result is at 80%: no 95% left, the 80%
    total of the routes (reporting) or of all evidence (combine) shown in its table."""
    target = tmp_path / f"report.{fmt_name}"
    run = run_cli("report", saved_models[command], "--level", "0.8", "--format", fmt_name, "-o", target, "--quiet")
    assert run.exit_code == 0, run.stderr
    page = target.read_text(encoding="utf-8")
    assert "95%" not in page
    result = load_result(str(saved_models[command]))
    interval_tables = [t for t in result.model_tables() if any(c.layout for c in Table.from_dict(t).columns)]
    assert len(interval_tables) == (2 if command == "reporting" else 4)
    for stored in interval_tables:
        shown = lay_out(stored, 0.8)
        assert shown.title in page and any("80%" in label for label in shown.columns)
        assert not any("95%" in label for label in shown.columns) and "95%" not in shown.note
    lower, upper = result.overall.total.interval(0.8)
    assert re.search(rf"{re.escape(fmt.number(float(lower)))}\D+{re.escape(fmt.number(float(upper)))}", page)


def _change_table(incidence_80: list[float], incidence_95: list[float]) -> dict:
    """A one-row changes table laid out as models/trend/changes.py builds it: reporting steady,
    the incidence's interval excluding 1 only at 80%."""
    from hiddenrate.result.table import Column, build

    incidence = {"median": 0.7, "intervals": {"0.8": incidence_80, "0.95": incidence_95}}
    reporting = {"median": 1.0, "intervals": {"0.8": [0.9, 1.1], "0.95": [0.8, 1.2]}}
    total = {"median": 0.7, "intervals": {"0.8": [0.5, 0.95], "0.95": [0.4, 1.1]}}
    first = {"series": "all", "stratum": {}, "from": "2009", "to": "2017", "recorded_from": 100, "recorded_to": 70,
             "recorded_ratio": 0.7, "prob_decrease": 0.9, "total_ratio": total, "incidence_ratio": incidence,
             "reporting_ratio": reporting, "rate_name": "reporting rate", "noun": "the incidence"}
    columns = [Column("from"), Column("to"), Column("recorded from", "count"), Column("recorded to", "count"),
               Column("ratio of totals ({level})", "number", "inline"), Column("P(decrease)", "probability"),
               Column("incidence x ({level})", "number", "inline"), Column("reporting rate x ({level})", "number", "inline"),
               Column("change due to")]
    row = ["2009", "2017", 100, 70, total, 0.9, incidence, reporting, "neither"]  # stored at the fit's 95%
    return build("Change between periods", columns, [row], "note", key="changes",
                 facts={"rate_name": "reporting rate", "noun": "the incidence", "first": first})


def test_change_due_to_follows_the_report_level() -> None:
    """'change due to' names the factors whose interval at the shown level excludes 1 (the note's
    sentence says the same); at the fit's level it is the stored attribution."""
    table = _change_table([0.55, 0.9], [0.45, 1.05])
    at_95, at_80 = lay_out(table, 0.95), lay_out(table, 0.8)
    assert at_95.rows[0][-1] == "neither" and "neither the incidence nor the reporting rate changed" in at_95.note
    assert at_80.rows[0][-1] == "incidence" and "the change reflects a change in the incidence" in at_80.note
    assert lay_out(table, 0.9).rows[0][-1] == "neither"  # not computed at 90%: the stored words stay


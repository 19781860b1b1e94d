"""The exact joint model of unlinked counts, and the conflict-check arithmetic (fast: no MCMC)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hiddenrate.render.tables import lay_out
from hiddenrate import fit_combined, load_result
from hiddenrate.data.spec import Survey
from hiddenrate.models.combine.checks import draws_conflict_p_value, survey_conflict_p_value
from hiddenrate.render import render

POLICE = {"count": 100, "surveyed": 711, "reported": 195}


def conflict_rows(result) -> list[list]:
    return [row for t in result.extra["tables"] if t["title"].startswith("Conflict check") for row in lay_out(t, 0.95).rows]


def test_one_source_reproduces_the_reference_multiplier() -> None:
    """docs/methods.md#thinning / shared/data/reporting/README.md: 100 recorded, 195 of 711 reported, uniform prior on
    the rate and p(lambda) ~ 1/lambda: total 363 [296, 446] (exact; the negative binomial mixture). One
    source with a survey cannot be checked against anything."""
    result = fit_combined({"sources": {"police": POLICE}})
    assert result.command == "combine" and result.model == "joint-counts"
    assert result.overall.total.median() == 363
    assert result.interval(0.95) == (296, 446)
    rate = result.overall.quantities["capture_probability[police]"]
    assert rate.median() == pytest.approx(195 / 711, abs=0.005)  # Beta(196, 517): the count adds nothing
    (row,) = conflict_rows(result)
    assert row[-2] is None and row[-1].startswith("cannot be checked")


def test_two_counts_that_cannot_both_hold_fire_the_conflict_check() -> None:
    """Issue 4: police alone says about 363 (100 / 0.274), the NGO alone about 1,060 (400 / 0.375):
    both cannot describe the same total, so both checks fire (p far below 0.05) with a warning."""
    result = fit_combined({"sources": {"police": POLICE, "ngo": {"count": 400, "surveyed": 400, "reported": 150}}})
    rows = conflict_rows(result)
    assert [r[:2] for r in rows] == [["survey of police", "195/711"], ["survey of ngo", "150/400"]]
    assert all(r[-2] < 1e-4 and r[-1] == "CONFLICT" for r in rows)
    assert any("disagree beyond their uncertainty" in w and "do not use the combined estimate" in w
               for w in result.all_warnings())
    sources = lay_out(next(t for t in result.extra["tables"] if t["title"] == "What each source says alone"), 0.95).rows
    assert sources[0][6] == 363 and 950 < sources[1][6] < 1200


def test_consistent_counts_do_not_fire_and_narrow_the_interval() -> None:
    """275 / 0.274 and 350 / 0.35 both say about 1,000: no conflict, and two sources give a narrower
    interval than the police alone."""
    result = fit_combined({"sources": {"police": {"count": 275, "surveyed": 711, "reported": 195},
                                       "ngo": {"count": 350, "surveyed": 400, "reported": 140}}})
    assert all(r[-1] == "agree" and r[-2] > 0.05 for r in conflict_rows(result))
    assert not result.all_warnings()
    alone = fit_combined({"sources": {"police": {"count": 275, "surveyed": 711, "reported": 195}}})
    low, high = result.interval(0.95)
    low_alone, high_alone = alone.interval(0.95)
    assert low is not None and high is not None and low_alone is not None and high_alone is not None
    assert high - low < high_alone - low_alone
    assert 900 < result.overall.total.median() < 1100


def test_population_route_is_split_on_the_total() -> None:
    """The route alone reproduces `hiddenrate reporting --example jakarta` (same exact grid code); with a
    survey too, both the survey and the route are checked against the rest."""
    spec = {"sources": {"police": {"count": 0}},
            "population": {"low": 1500, "high": 3000, "victimized": 40, "respondents": 150}}
    result = fit_combined(spec)
    # as `hiddenrate reporting --example jakarta` (shared exact grid code): 540 [343, 834]
    assert result.overall.total.median() == pytest.approx(540, abs=3)
    assert "victimization_prevalence" in result.overall.quantities
    (row,) = conflict_rows(result)
    assert row[0].startswith("population route") and row[-1].startswith("cannot be checked")
    spec["sources"] = {"police": {"count": 150, "surveyed": 367, "reported": 140}}
    clash = fit_combined(spec)  # a 38% reporting rate and 150 recorded imply ~390, the route ~570
    rows = {r[0].split(" (")[0]: r for r in conflict_rows(clash)}
    assert set(rows) == {"survey of police", "population route"}
    assert rows["population route"][-2] is not None


def test_every_format_shows_the_tables_and_the_result_round_trips(tmp_path) -> None:
    """Every table in text, Markdown and HTML; JSON and CSV carry the capture probabilities; a saved
    result reloads with the same numbers."""
    result = fit_combined({"sources": {"police": POLICE, "ngo": {"count": 140, "surveyed": 400, "reported": 150}}}, seed=3)
    for fmt in ("text", "markdown", "html"):
        page = render(result, fmt)
        for title in ("What each source says alone", "Joint posterior: capture probabilities and dependence",
                      "Conflict check: each survey against the rest of the evidence", "Posterior predictive check"):
            assert title in page, (fmt, title)
    payload = json.loads(render(result, "json"))
    assert payload["command"] == "combine" and payload["unit"] == "victims"
    assert set(payload["capture_probability[police]"]) == {"median", "mean", "intervals"}
    assert [t["title"] for t in payload["details"]["tables"]][0] == "What each source says alone"
    assert "total_median" in render(result, "csv")
    path = tmp_path / "r.nc"
    result.save(str(path))
    loaded = load_result(str(path))
    assert loaded.overall.total.median() == result.overall.total.median()
    assert loaded.extra["tables"][0]["rows"] == json.loads(json.dumps(result.to_dict()))["details"]["tables"][0]["rows"]


def test_strata_add_up_and_pool_the_capture_probability(tmp_path) -> None:
    """The total over strata is the sum of the strata's totals draw by draw (so the medians add up to
    within a few percent); the pooled capture probability lies between the strata's (0.274 and 0.3)."""
    counts = tmp_path / "counts.csv"
    counts.write_text("source,count,surveyed,reported,area\npolice,100,711,195,A\npolice,50,300,90,B\n", encoding="utf-8")
    result = fit_combined({"by": ["area"], "evidence": {"file": "counts.csv"}}, base_dir=tmp_path)
    assert [s.label for s in result.strata] == ["area=A", "area=B"]
    medians = [s.total.median() for s in result.strata]
    assert result.overall.total.median() == pytest.approx(sum(medians), rel=0.03)
    pooled = result.overall.quantities["capture_probability[police]"].median()
    assert 0.274 < pooled < 0.3
    assert all(row[0] in ("area=A", "area=B") for row in result.extra["tables"][0]["rows"])


def test_no_survey_means_no_estimate_and_exit_1(run_cli, tmp_path) -> None:
    """A count without any survey or route does not bound the total: no estimate, exit code 1."""
    spec = tmp_path / "spec.toml"
    spec.write_text("[sources.police]\ncount = 100\n", encoding="utf-8")
    result = run_cli("combine", spec, "--quiet")
    assert result.exit_code == 1
    assert "No estimate of the total: the evidence does not bound the total" in result.stdout


def test_counts_example_runs_from_the_cli(run_cli) -> None:
    """The bundled example is built around 1,000 incidents (275 / 0.274, 350 / 0.35)."""
    result = run_cli("combine", "--example", "police-ngo-counts", "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == "joint-counts" and 850 < payload["total"]["median"] < 1150


def test_counts_example_in_every_format_is_labelled_and_shows_each_source(run_cli, tmp_path) -> None:
    """Issue 4, output: every format carries the per-source capture probabilities and (text, Markdown, HTML,
    JSON) the table of what each source says alone; the bundled example is labelled as illustrative, and
    --save / report, --plot and --suppress-below work. The example is 275 police-recorded incidents with
    195 of 711 reported and 350 NGO incidents with 140 of 400 known: each alone gives about 1,000
    (275 / 0.274, 350 / 0.35)."""
    pages = {}
    for fmt in ("text", "json", "csv", "markdown", "html"):
        run = run_cli("combine", "--example", "police-ngo-counts", "--format", fmt, "--quiet")
        assert run.exit_code == 0, (fmt, run.stderr)
        pages[fmt] = run.stdout
    for fmt in ("text", "markdown", "html"):
        page = pages[fmt]
        for needle in ("Hidden-population estimate: example police-ngo-counts" if fmt != "text" else
                       "combine · example police-ngo-counts (police_ngo_counts.toml)", "What each source says alone",
                       "police (count / survey)", "ngo (count / survey)", "capture probability of police",
                       "illustrative example, not a real estimate"):
            assert needle in page, (fmt, needle)
    payload = json.loads(pages["json"])
    sources = payload["details"]["tables"][0]
    assert sources["title"] == "What each source says alone"
    assert [row[:3] for row in sources["rows"][:2]] == [["police (count / survey)", 275, "195/711"],
                                                        ["ngo (count / survey)", 350, "140/400"]]
    assert all(900 < row[6] < 1100 for row in lay_out(sources, 0.95).rows[:2])
    assert payload["warnings"][0].startswith("illustrative example, not a real estimate")
    header = pages["csv"].splitlines()[0].split(",")
    for name in ("capture_probability[police]", "capture_probability[ngo]"):
        assert {f"{name}_median", f"{name}_lower_0.95", f"{name}_upper_0.95"} <= set(header)
    saved, figure = tmp_path / "c.nc", tmp_path / "c.svg"
    run = run_cli("combine", "--example", "police-ngo-counts", "--quiet", "--save", saved, "--plot", figure)
    assert run.exit_code == 0 and figure.stat().st_size > 1000
    report = run_cli("report", saved, "--format", "text", "--suppress-below", "300")
    assert report.exit_code == 0, report.stderr
    assert "police (count / survey)  <300      <300" in report.stdout  # 275 and 195/711 hidden, 350 shown
    assert "ngo (count / survey)          350  <300" in report.stdout


def test_no_checks_still_shows_what_each_source_says_alone() -> None:
    """--no-checks drops the conflict and predictive checks, not the table of each source alone (a
    closed form per source: recorded / Beta(1 + r, 1 + m - r), the exact multiplier posterior)."""
    result = fit_combined({"sources": {"police": POLICE, "ngo": {"count": 140, "surveyed": 400, "reported": 150}}},
                          checks=False)
    titles = [t["title"] for t in result.extra["tables"]]
    assert titles == ["What each source says alone", "Joint posterior: capture probabilities and dependence"]
    rows = lay_out(result.extra["tables"][0], 0.95).rows
    assert [r[0] for r in rows] == ["police (count / survey)", "ngo (count / survey)", "all evidence combined"]
    assert rows[0][6] == 363  # the reference multiplier posterior of the first test


def test_conflict_p_values() -> None:
    """The conflict p-value against closed forms: a rest equal to the survey's own Beta gives p near 1;
    a normal rest 2 combined sd away gives 2 (1 - Phi(2)) = 0.0455 on either side."""
    rng = np.random.default_rng(7)
    # the rest says exactly what the survey says: no conflict
    same = rng.beta(196, 517, 20_000)
    assert survey_conflict_p_value(same, Survey(711, 195)) > 0.9
    # two-sided and symmetric: a rest centred one combined sd above or below gives the same p
    sd = np.sqrt(2) * np.sqrt(0.274 * 0.726 / 711)
    up = survey_conflict_p_value(rng.normal(195 / 711 + 2 * sd, sd / np.sqrt(2), 50_000), Survey(711, 195))
    down = survey_conflict_p_value(rng.normal(195 / 711 - 2 * sd, sd / np.sqrt(2), 50_000), Survey(711, 195))
    assert up == pytest.approx(down, abs=0.01) and up == pytest.approx(0.0455, abs=0.01)  # 2 (1 - Phi(2))
    assert draws_conflict_p_value(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == pytest.approx(1.0)
    assert draws_conflict_p_value(np.arange(10.0), np.arange(10.0) + 100) == 0.0


@pytest.mark.parametrize("command", ["combine", "reporting"])
def test_unlinked_counts_do_not_claim_to_know_who_was_never_recorded(run_cli, command) -> None:
    """Unmatched counts from several sources: their overlap is unknown, so the observed count is the
    largest source's (350 police/NGO incidents; 140 in the reporting example) and 1 - that share is
    only an upper bound on the share recorded by no source. The words must say "at most" and
    name the largest source, never "about X% were never recorded"."""
    example = "police-ngo-counts" if command == "combine" else "two-sources"
    result = run_cli(command, "--example", example, "--quiet")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())  # the sentence is wrapped; compare words
    assert "The largest source recorded" in text and "how many are on more than one is unknown" in text
    assert "at most about" in text and "recorded by no source" in text
    assert "were never recorded" not in text
    assert "Not in the largest source's count" in text

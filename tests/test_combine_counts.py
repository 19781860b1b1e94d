"""The exact joint model of unlinked counts, and the conflict-check arithmetic (fast: no MCMC)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hiddenrate import fit_combined, load_result
from hiddenrate.data.spec import Survey
from hiddenrate.models.combine_checks import draws_conflict_p_value, survey_conflict_p_value
from hiddenrate.render import render

POLICE = {"count": 100, "surveyed": 711, "reported": 195}


def conflict_rows(result) -> list[list]:
    return [row for t in result.extra["tables"] if t["title"].startswith("Conflict check") for row in t["rows"]]


def test_one_source_reproduces_the_reference_multiplier() -> None:
    # METHODS.md / shared/data/reporting/README.md: 100 recorded, 195 of 711 reported, uniform prior on the
    # rate and p(lambda) ~ 1/lambda: total 363 [296, 446] (exact; the negative binomial mixture).
    result = fit_combined({"sources": {"police": POLICE}})
    assert result.command == "combine" and result.model == "joint-counts"
    assert result.overall.total.median() == 363
    assert result.interval(0.95) == (296, 446)
    rate = result.overall.quantities["capture_probability[police]"]
    assert rate.median() == pytest.approx(195 / 711, abs=0.005)  # Beta(196, 517): the count adds nothing
    (row,) = conflict_rows(result)
    assert row[-2] is None and row[-1].startswith("cannot be checked")


def test_two_counts_that_cannot_both_hold_fire_the_conflict_check() -> None:
    # police alone says about 363, the NGO alone about 1,060: both cannot describe the same total
    result = fit_combined({"sources": {"police": POLICE, "ngo": {"count": 400, "surveyed": 400, "reported": 150}}})
    rows = conflict_rows(result)
    assert [r[:2] for r in rows] == [["survey of police", "195/711"], ["survey of ngo", "150/400"]]
    assert all(r[-2] < 1e-4 and r[-1] == "CONFLICT" for r in rows)
    assert any("disagree beyond their uncertainty" in w and "do not use the combined estimate" in w
               for w in result.all_warnings())
    sources = next(t for t in result.extra["tables"] if t["title"] == "What each source says alone")["rows"]
    assert sources[0][6] == 363 and 950 < sources[1][6] < 1200


def test_consistent_counts_do_not_fire_and_narrow_the_interval() -> None:
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
    spec = tmp_path / "spec.toml"
    spec.write_text("[sources.police]\ncount = 100\n", encoding="utf-8")
    result = run_cli("combine", spec, "--quiet")
    assert result.exit_code == 1
    assert "No estimate of the total: the evidence does not bound the total" in result.stdout


def test_counts_example_runs_from_the_cli(run_cli) -> None:
    result = run_cli("combine", "--example", "police-ngo-counts", "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == "joint-counts" and 850 < payload["total"]["median"] < 1150


def test_conflict_p_values() -> None:
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

"""`hiddenrate reporting`: examples, the JSON contract, formats, exit codes."""

from __future__ import annotations

import json

import pytest

from hiddenrate import load_result
from hiddenrate.data.examples import EXAMPLES


def run_json(run_cli, *args: str) -> dict:
    result = run_cli("reporting", *args, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_vancouver_json_contract(run_cli) -> None:
    data = run_json(run_cli, "--example", "vancouver")
    assert data["command"] == "reporting" and data["unit"] == "incidents" and data["model"] == "exact"
    for key in ("total", "hidden", "observed_share", "reporting_rate"):
        assert set(data[key]) == {"median", "mean", "intervals"}
    assert data["observed"] == 100
    assert data["total"]["median"] == 363 and data["total"]["intervals"]["0.95"] == [296, 446]
    assert data["hidden"]["median"] == 263
    assert data["reporting_rate"]["intervals"]["0.95"] == pytest.approx([0.2430, 0.3084], abs=0.002)
    assert data["diagnostics"]["converged"] is True and data["strata"] == []
    # the only warning: its 100 recorded incidents are illustrative (test_example_output_says_what_is_invented)
    assert len(data["warnings"]) == 1 and "not a real estimate" in data["warnings"][0]
    assert data["priors"]["reporting_rate"] == {"dist": "beta", "alpha": 1.0, "beta": 1.0}
    assert data["input"]["rows"][0] == {"stratum": {}, "source": "police", "recorded": 100, "surveyed": 711, "reported": 195}


def test_strata_carry_reporting_rate_and_joint_total(run_cli, write_csv) -> None:
    path = write_csv("area,recorded,surveyed,reported\nA,100,711,195\nB,40,300,90\n")
    data = run_json(run_cli, path, "--by", "area", "--unit", "incidents", "--model", "exact")
    assert [s["stratum"] for s in data["strata"]] == [{"area": "A"}, {"area": "B"}]
    for stratum in data["strata"]:
        assert {"total", "hidden", "observed_share", "reporting_rate", "diagnostics", "warnings"} <= set(stratum)
    assert data["observed"] == 140 and data["unit"] == "incidents"
    assert data["details"]["how"] == "sum of independent stratum draws"


def test_text_shows_unit_rates_and_routes(run_cli) -> None:
    result = run_cli("reporting", "--example", "two-sources", "--quiet")
    assert result.exit_code == 0
    text = result.stdout
    assert "Unit: incidents" in text
    assert "Sources, the reporting rate (police) and the total by stratum" in text
    # each source on its own row: the NGO's 140 sits beside its own survey 150/400, not the police's 195/711
    rows = [line.split() for line in text.splitlines()]
    assert ["all", "police", "100", "195/711"] in [r[:4] for r in rows]
    assert ["ngo", "140", "150/400"] in [r[:3] for r in rows]
    assert "Routes, each alone and combined" in text and "ngo (multiplier)" in text
    assert "disagree beyond their uncertainty" not in text


def test_csv_and_markdown_carry_the_unit(run_cli) -> None:
    csv = run_cli("reporting", "--example", "vancouver", "--format", "csv", "--quiet")
    import csv as csvlib

    rows = list(csvlib.DictReader(csv.stdout.splitlines()))
    assert rows[0]["unit"] == "incidents" and float(rows[0]["reporting_rate_median"]) == pytest.approx(0.274, abs=0.002)
    markdown = run_cli("reporting", "--example", "vancouver", "--format", "markdown", "--quiet")
    assert markdown.exit_code == 0 and "incidents" in markdown.stdout


def test_jakarta_population_route_carries_the_estimate(run_cli) -> None:
    data = run_json(run_cli, "--example", "jakarta")
    assert data["unit"] == "victims" and data["observed"] == 0
    assert 400 < data["total"]["median"] < 700
    routes = next(t for t in data["details"]["tables"] if t["title"].startswith("Routes"))
    assert [row[1] for row in routes["rows"]] == ["police (multiplier)", "population route", "combined"]
    assert "victimization_prevalence" in data


def test_population_options_and_disagreement(run_cli, write_csv) -> None:
    path = write_csv("recorded,surveyed,reported\n0,367,140\n")
    data = run_json(run_cli, path, "--unit", "victims", "--population", "1500,3000", "--prevalence", "40/150")
    assert any("disagree beyond their uncertainty" in w for w in data["warnings"])


def test_classical_baseline(run_cli) -> None:
    data = run_json(run_cli, "--example", "vancouver", "--model", "multiplier")
    assert data["total"]["median"] == pytest.approx(364.615, abs=1e-3)
    assert data["total"]["intervals"]["0.95"] == pytest.approx([324.5, 412.0], abs=0.5)
    assert data["estimate_type"] == "point estimate (closed form)"


def test_no_estimate_exits_1(run_cli, write_csv) -> None:
    path = write_csv("recorded,surveyed,reported\n0,,\n")
    result = run_cli("reporting", path, "--unit", "incidents", "--format", "json", "--quiet")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["estimated"] is False and "bound nothing" in data["reason"]


def test_save_and_reload(run_cli, tmp_path) -> None:
    target = tmp_path / "vancouver.nc"
    result = run_cli("reporting", "--example", "jakarta", "--save", str(target), "--quiet")
    assert result.exit_code == 0
    loaded = load_result(str(target))
    assert loaded.unit == "victims" and loaded.command == "reporting"


def test_pooled_progress_goes_to_stderr(run_cli, write_csv) -> None:
    path = write_csv("area,recorded,surveyed,reported\nA,100,711,195\nB,100,,\nC,60,600,160\nD,0,200,50\n")
    result = run_cli("reporting", path, "--by", "area", "--unit", "incidents", "--format", "json")
    assert result.exit_code == 0
    assert "pooled reporting model: 4 strata" in result.stderr
    data = json.loads(result.stdout)  # progress never in the JSON
    assert data["model"] == "pooled" and len(data["strata"]) == 4
    quiet = run_cli("reporting", path, "--by", "area", "--unit", "incidents", "--format", "json", "--quiet")
    assert quiet.stderr == ""


def test_examples_say_what_is_published() -> None:
    reporting = [e for e in EXAMPLES.values() if e.command == "reporting"]
    assert {e.name for e in reporting} == {"vancouver", "jakarta", "two-sources"}
    for example in reporting:
        assert example.path().exists()
        assert "published" in example.status and "illustrative" in example.status


def test_help_has_worked_examples(run_cli) -> None:
    result = run_cli("reporting", "--help")
    assert result.exit_code == 0
    for fragment in ("--example vancouver", "--population 1500,3000 --prevalence 40/150", "source,recorded,surveyed,reported"):
        assert fragment in result.stdout


@pytest.mark.parametrize("command, name", [("reporting", "vancouver"), ("reporting", "jakarta"),
                                           ("reporting", "two-sources"), ("lists", "artificial-sparse")])
def test_example_output_says_what_is_invented(command, name, run_cli) -> None:
    """Non-negotiable 6 (issue 5 audit): an example with illustrative or artificial numbers says so in
    its output, first among the warnings, in JSON and in text -- not only in `hiddenrate
    examples` and the example's README. The label quotes the registry's status line."""
    status = EXAMPLES[name].status
    result = run_cli(command, "--example", name, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout)["warnings"][0]
    assert "not a real estimate" in first and status in first, first
    text = run_cli(command, "--example", name, "--quiet")
    assert "not a real estimate: " + status[:40] in " ".join(text.stdout.split())


def test_published_example_output_has_no_such_label(run_cli) -> None:
    """Published data are not labelled: the label means something only if it is not on everything."""
    result = run_cli("lists", "--example", "hiv-rome", "--format", "json", "--quiet")
    assert result.exit_code == 0 and not any("not a real estimate" in w for w in json.loads(result.stdout)["warnings"])

"""`hiddenrate report` and `hiddenrate claim` on saved results; --claim and --format html on
estimating commands; figures from Python."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists, load_result
from hiddenrate.render.plots import plot_result

CSV = "police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n"


@pytest.fixture
def saved(run_cli, write_csv, tmp_path):
    path = write_csv(CSV)
    target = tmp_path / "result.nc"
    markdown = tmp_path / "direct.md"
    result = run_cli("lists", path, "--save", target, "--format", "markdown", "-o", markdown, "--quiet")
    assert result.exit_code == 0
    return target, markdown


def test_report_re_renders_a_saved_result_exactly_as_the_command_did(run_cli, saved, tmp_path):
    target, direct = saved
    result = run_cli("report", target, "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout == direct.read_text(encoding="utf-8")


def test_report_formats(run_cli, saved, tmp_path):
    target, _ = saved
    page = tmp_path / "report.html"
    assert run_cli("report", target, "-o", page, "--quiet").exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'id="headline"' in text and text.count('data-figure="') == 2
    as_json = json.loads(run_cli("report", target, "--format", "json").stdout)
    assert as_json["observed"] == 350 and as_json["model"] == "bayes-2list"
    text_report = run_cli("report", target, "--format", "text").stdout
    assert text_report.startswith("hiddenrate ") and "350 people were on at least one list." in text_report
    relevelled = json.loads(run_cli("report", target, "--format", "json", "--level", "0.8", "--level", "0.95").stdout)
    assert list(relevelled["total"]["intervals"]) == ["0.8", "0.95"]


def test_report_errors_are_one_line_with_exit_2(run_cli, tmp_path, write_csv):
    missing = run_cli("report", tmp_path / "nothing.nc")
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    not_a_result = write_csv("a,b\n1,2\n", "fake.nc")
    assert run_cli("report", not_a_result).exit_code == 2
    target = tmp_path / "ml.nc"
    assert run_cli("lists", write_csv(CSV), "--model", "chapman", "--save", target, "--quiet").exit_code == 0
    refused = run_cli("report", target, "--level", "0.8")
    assert refused.exit_code == 2 and "maximum-likelihood" in refused.stderr


def test_claim_command_text_and_json(run_cli, saved):
    target, _ = saved
    draws = load_result(target).overall.total.draws
    result = run_cli("claim", target, "--value", "1500")
    assert result.exit_code == 0
    probability = np.mean(draws >= 1500)
    assert result.stdout.startswith("The data make a total of 1,500 or more ")
    check = json.loads(run_cli("claim", target, "--value", "1500", "--format", "json", "--population", "1e6").stdout)
    assert check["probability"] == probability and check["direction"] == "at least"
    assert check["claim_rate"] == pytest.approx(150.0) and check["rate_per"] == 100_000
    at_most = json.loads(run_cli("claim", target, "--value", "1500", "--at-most", "--format", "json").stdout)
    assert at_most["probability"] == np.mean(draws <= 1500)
    bad = run_cli("claim", target, "--value", "many")
    assert bad.exit_code == 2 and "is not a number" in bad.stderr


def test_claim_option_on_an_estimating_command(run_cli, write_csv):
    path = write_csv(CSV)
    text = run_cli("lists", path, "--claim", "1500", "--claim", "<=400", "--quiet").stdout
    assert "Claim check:" in text and "1,500 or more" in text and "400 or fewer" in text
    payload = json.loads(run_cli("lists", path, "--claim", "1500", "--format", "json", "--quiet").stdout)
    assert [c["value"] for c in payload["claims"]] == [1500.0] and "claims" not in payload["details"]
    html = run_cli("lists", path, "--claim", "1500", "--format", "html", "--quiet").stdout
    assert 'id="claims"' in html and "Checking a claimed figure" in html
    lonely = run_cli("lists", path, "--population-size", "1000000", "--quiet")
    assert lonely.exit_code == 2 and "--claim" in lonely.stderr


def test_claim_on_a_maximum_likelihood_result_is_not_a_probability(run_cli, write_csv, tmp_path):
    target = tmp_path / "ml.nc"
    run_cli("lists", write_csv(CSV), "--model", "chapman", "--save", target, "--quiet")
    result = run_cli("claim", target, "--value", "100000")
    assert result.exit_code == 0
    assert "not a probability" in result.stdout and "lies above the interval" in result.stdout


def test_figures_from_python_return_axes():
    frame = pd.DataFrame({"police": [1, 0, 1] * 2, "ngo": [0, 1, 1] * 2, "year": [2020] * 3 + [2021] * 3,
                          "count": [100, 200, 50, 110, 190, 45]})
    result = fit_lists(frame, "bayes-2list", by=["year"])
    from matplotlib.figure import Figure

    for kind in ("posterior", "bar", "forest", "trend"):
        ax = plot_result(result, ax=Figure().subplots(), kind=kind)
        assert ax.has_data(), kind
    legend = [t.get_text() for t in plot_result(result, ax=Figure().subplots(), kind="bar").get_legend().get_texts()]
    assert legend[0] == "observed 695"

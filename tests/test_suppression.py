"""--suppress-below K: no count below K describing a cell or stratum appears in any format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from hiddenrate.core.exceptions import ModelError
from hiddenrate.analysis.suppression import SECONDARY, plan_suppression, suppress_payload, suppress_table

K = 5
# Three lists in three regions. North has small cells (1 to 4 and zeros); "tiny" has 4 people
# in all (so its every count is small, and another stratum must be hidden with it); south is large.
DATA = """police,ngo,shelter,region,count
1,0,0,north,120
0,1,0,north,90
0,0,1,north,60
1,1,0,north,3
1,0,1,north,12
0,1,1,north,2
1,1,1,north,1
1,0,0,tiny,2
0,1,0,tiny,1
0,0,1,tiny,1
1,0,0,south,300
0,1,0,south,250
0,0,1,south,150
1,1,0,south,40
1,0,1,south,30
0,1,1,south,25
1,1,1,south,9
"""
NOT_COUNTS = re.compile(r"pattern|delta|probab|rate|share|captures|^lists?$|stratum|model|converged|source|route|^$",
                        re.I)
COUNT = re.compile(r"^\d{1,3}(,\d{3})*$")


def small_counts_in_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """Whole numbers below K in the count columns of a table (interval cells split at 'to')."""
    found = []
    for row in rows:
        for column, cell in zip(columns, row, strict=False):
            if NOT_COUNTS.search(column.strip()):
                continue
            for part in cell.split(" to "):
                part = part.strip()
                if COUNT.match(part) and int(part.replace(",", "")) < K:
                    found.append(f"{column}={part} in {row}")
    return found


def markdown_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    lines = text.splitlines()
    tables = []
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and lines[i + 1].startswith("|---"):
            def split(row: str) -> list[str]:
                return [c.strip().replace("\\", "") for c in re.split(r"(?<!\\)\|", row)[1:-1]]

            rows = []
            for following in lines[i + 2:]:
                if not following.startswith("|"):
                    break
                rows.append(split(following))
            tables.append((split(line), rows))
    return tables


def text_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    lines = text.splitlines()
    tables = []
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() and set(line.strip()) <= {"-", " "}:
            columns = re.split(r"\s{2,}", lines[i - 1].strip())
            rows = []
            for following in lines[i + 1:]:
                if not following.strip():
                    break
                rows.append(re.split(r"\s{2,}", following.strip()))
            if len(columns) < 2:  # the headline table's first column has no title
                columns = ["label", *columns]
            tables.append((columns, rows))
    return tables


def html_tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    tables: list[tuple[list[str], list[list[str]]]] = []
    for chunk in page.split("<table")[1:]:
        if chunk.startswith(' id="provenance"'):
            continue
        head = re.findall(r"<th[^>]*>(.*?)</th>", chunk.split("</table>")[0])
        body = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", chunk.split("</table>")[0])]
        tables.append((head or ["label"], [r for r in body if r]))
    return tables


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    directory = tmp_path_factory.mktemp("suppression")
    data = directory / "regions.csv"
    data.write_text(DATA, encoding="utf-8")
    runner = CliRunner()
    out = {}
    for fmt in ("text", "markdown", "html", "json", "csv"):
        result = runner.invoke(cli, ["lists", str(data), "--by", "region", "--suppress-below", str(K), "--format", fmt,
                                     "--quiet", "--level", "0.8", "--level", "0.95"], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        out[fmt] = result.stdout
    saved = directory / "regions.nc"
    runner.invoke(cli, ["lists", str(data), "--by", "region", "--save", str(saved), "--quiet"], catch_exceptions=False)
    report = runner.invoke(cli, ["report", str(saved), "--suppress-below", str(K), "--format", "markdown"],
                           catch_exceptions=False)
    assert report.exit_code == 0
    out["report"] = report.stdout
    return out


def test_no_small_count_in_text_markdown_or_html_tables(outputs):
    found = []
    for columns, rows in text_tables(outputs["text"]):
        found += small_counts_in_table(columns, rows)
    for fmt in ("markdown", "report"):
        for columns, rows in markdown_tables(outputs[fmt]):
            if any(columns):
                found += small_counts_in_table(columns, rows)
    for columns, rows in html_tables(outputs["html"]):
        found += small_counts_in_table(columns, rows)
    assert found == []
    # and the tables are there to be scanned: the cells of north and the strata rows
    assert "People by capture pattern" in outputs["markdown"] and "region=tiny" in outputs["markdown"]


def test_no_small_count_in_json(outputs):
    payload = json.loads(outputs["json"])

    def check(value, where):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert value >= K, where
        else:
            assert value is None or value in (f"<{K}", SECONDARY), (where, value)

    check(payload["observed"], "observed")
    for stratum in payload["strata"]:
        check(stratum["observed"], stratum["stratum"])
        for name in ("total", "hidden"):
            check(stratum[name]["median"], (stratum["stratum"], name))
            for ends in stratum[name]["intervals"].values():
                for end in ends:
                    check(end, (stratum["stratum"], name))
    for table in payload["input"]["tables"]:
        for key in ("cells", "list_sizes", "pair_overlaps"):
            for name, value in table[key].items():
                check(value, (table["stratum"], key, name))
        check(table["observed"], table["stratum"])
    assert payload["suppression"]["below"] == K
    assert payload["input"]["suppressed_below"] == K


def test_no_small_count_in_csv(outputs):
    for row in csv.DictReader(io.StringIO(outputs["csv"])):
        assert row["suppressed_below"] == str(K)
        for column, value in row.items():
            if column == "observed" or column.startswith(("total_", "hidden_")):
                assert value in (f"<{K}", SECONDARY, "") or float(value) >= K, (row["stratum"], column, value)


def test_every_format_says_suppression_was_applied_and_at_which_k(outputs):
    note = f"counts below {K} describing a cell or a stratum are hidden"
    for fmt in ("text", "markdown", "html", "report"):
        assert note in " ".join(outputs[fmt].split()), fmt
    assert json.loads(outputs["json"])["suppression"]["note"].startswith("Publication safety")


def test_a_lone_small_stratum_takes_another_with_it(outputs):
    payload = json.loads(outputs["json"])
    observed = {s["stratum"]["region"]: s["observed"] for s in payload["strata"]}
    # tiny (4) is below K; north is hidden too, or the total minus the others would give tiny
    assert observed == {"north": SECONDARY, "tiny": f"<{K}", "south": 804}
    assert payload["observed"] == 1096


def test_secondary_suppression_leaves_nothing_recoverable_by_subtraction():
    # two lists: the overlap (3) is small; the list sizes and the total would give it back
    summary = {"format": "lists", "lists": ["A", "B"],
               "tables": [{"stratum": {}, "observed": 303, "cells": {"10": 100, "01": 200, "11": 3}}]}
    plan = plan_suppression(summary, [], 303, K)
    assert plan.input_marks[("tables", 0, "cells", "11")] == f"<{K}"
    shown = {path for path in [("tables", 0, "cells", "10"), ("tables", 0, "cells", "01"),
                               ("tables", 0, "list_sizes", "A"), ("tables", 0, "list_sizes", "B")]
             if path not in plan.input_marks}
    assert shown == set()  # any one of them with the total would give the overlap
    # number-of-captures data: one small frequency takes the next smallest with it
    captures = {"format": "number of captures", "frequencies": {"1": 100, "2": 30, "3": 2, "4": 8}}
    marks = plan_suppression(captures, [], 140, K).input_marks
    assert marks == {("frequencies", "3"): f"<{K}", ("frequencies", "4"): SECONDARY}


def test_suppressing_a_payload_directly(outputs):
    from hiddenrate import fit_lists

    frame = {"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [100, 200, 3]}
    import pandas as pd

    result = fit_lists(pd.DataFrame(frame), "bayes-2list")
    payload = suppress_payload(result.to_dict(), K)
    assert payload["input"]["tables"][0]["cells"]["11"] == f"<{K}"
    assert payload["suppression"]["below"] == K
    assert result.to_dict()["input"]["tables"][0]["cells"]["11"] == 3  # the result itself is untouched


def test_model_tables_hide_small_counts_but_not_probabilities():
    table = {"title": "t", "columns": ["stratum", "recorded", "survey", "reporting rate", "rate 95% low", "high", "total",
                                       "total 95% low", "high"],
             "rows": [["a", 3, "2/10", 0.2, 0.05, 0.5, 14.0, 4.0, 40.0], ["b", 100, "30/100", 0.3, 0.2, 0.4, 330.0, 250.0, 450.0]]}
    hidden = suppress_table(table, K, {"b": SECONDARY})
    assert hidden["rows"][0] == ["a", f"<{K}", f"<{K}", 0.2, 0.05, 0.5, 14.0, f"<{K}", 40.0]
    assert hidden["rows"][1] == ["b", SECONDARY, "30/100", 0.3, 0.2, 0.4, 330.0, 250.0, 450.0]


def test_bad_threshold_is_refused(run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n")
    result = run_cli("lists", path, "--suppress-below", "0")
    assert result.exit_code == 2
    with pytest.raises(ModelError):
        plan_suppression({}, [], 10, 0)

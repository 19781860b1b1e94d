"""``hiddenrate trend SPEC.toml``: a combine spec whose strata include the period (issue 5: "any input
of reporting, lists or combine may carry a period column").

The data are built so the answer is known in direction: about 480 incidents a year in every year
(police + NGO overlap by construction), while the police survey's reporting share falls from 105/300
to 54/300. The recorded count falls by 24% (290 to 220) and the model must put that on the police's
reach, not on the number of incidents.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LISTS = ("police,ngo,year,count\n1,0,2015,80\n0,1,2015,120\n1,1,2015,90\n1,0,2016,60\n0,1,2016,125\n1,1,2016,65\n"
         "1,0,2017,45\n0,1,2017,130\n1,1,2017,45\n")
EVIDENCE = "source,surveyed,reported,year\npolice,300,105,2015\npolice,300,78,2016\npolice,300,54,2017\n"
SPEC = 'unit = "incidents"\nby = ["year"]\n[lists]\nfile = "lists.csv"\n[evidence]\nfile = "evidence.csv"\n'
FAST = ["--quiet", "--draws", "500", "--tune", "500"]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    (tmp_path / "lists.csv").write_text(LISTS, encoding="utf-8")
    (tmp_path / "evidence.csv").write_text(EVIDENCE, encoding="utf-8")
    (tmp_path / "plain.csv").write_text("police,ngo,count\n1,0,80\n0,1,120\n1,1,90\n", encoding="utf-8")
    path = tmp_path / "spec.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_spec_with_years_gives_periods_and_changes(spec: Path, run_cli) -> None:
    """One stratum per year, in order; first-to-last change computed from the joint model's draws.

    The recorded ratio is exact (220 / 290); the total's ratio must cover 1 (the totals were built
    equal, ~480) and the share recorded must fall (the police reach falls from 0.35 to 0.18, each
    survey of 300 pinning it to about +-0.05).
    """
    result = run_cli("trend", spec, *FAST, "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "trend"
    assert [s["stratum"] for s in payload["strata"]] == [{"year": "2015"}, {"year": "2016"}, {"year": "2017"}]
    assert payload["details"]["capture_structure"].startswith("not pooled")
    assert any("not pooled across periods" in a for a in payload["assumptions"])
    first_last = next(c for c in payload["details"]["changes"] if c["kind"] == "first to last")
    assert (first_last["from"], first_last["to"]) == ("2015", "2017")
    assert first_last["recorded_ratio"] == pytest.approx(220 / 290)
    low, high = first_last["total_ratio"]["intervals"]["0.95"]
    assert low < 1 < high
    assert first_last["reporting_ratio"]["median"] < 0.85


@pytest.mark.parametrize("args, spec_text, fragment", [
    ([], 'unit = "incidents"\n[lists]\nfile = "plain.csv"\n', "a trend needs a period among the spec's strata"),
    (["--period", "month"], SPEC, "the period column 'month' is not among the spec's strata"),
    (["--unit", "victims"], SPEC, "unit: set these in the combine spec"),
])
def test_bad_trend_specs_are_one_line_and_exit_2(spec: Path, run_cli, args, spec_text, fragment) -> None:
    """A spec without a period, a period that is not a stratum, options that belong in the spec."""
    spec.write_text(spec_text, encoding="utf-8")
    before = (spec.parent / "lists.csv").read_bytes()
    result = run_cli("trend", spec, *args, "--quiet")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hiddenrate: error: ") and fragment in lines[0], lines
    assert (spec.parent / "lists.csv").read_bytes() == before

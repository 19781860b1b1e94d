"""``--format csv --table``: any model table as CSV (issue 4 asks for the sources table "in every format").

The plain CSV is the one-row-per-stratum summary every command shares; a model table such as
"what each source says alone" has its own columns, so it is a second CSV chosen by name.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from hiddenrate.render.tables import lay_out


COMBINE = ["combine", "--example", "police-ngo-counts", "--quiet", "--draws", "300", "--tune", "300"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One combine fit saved once; the table tests re-render it with ``hiddenrate report``."""
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    path = tmp_path_factory.mktemp("csv") / "combine.nc"
    result = CliRunner().invoke(cli, [*COMBINE, "--save", str(path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path, json.loads(result.stdout)


def test_sources_table_as_csv_matches_the_json_table(saved, run_cli) -> None:
    """The CSV rows are the JSON table's rows laid out at the report's level (an interval cell becomes
    estimate, lower and upper columns), raw (unrounded) and in the same order."""
    path, payload = saved
    result = run_cli("report", path, "--format", "csv", "--table", "what each source")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    stored = next(t for t in payload["details"]["tables"] if t["title"].startswith("What each source"))
    table = lay_out(stored, 0.95)  # the JSON holds the table as numbers at every level; the CSV shows one
    table = {"columns": table.columns, "rows": table.rows}
    assert len(frame.columns) == len(set(frame.columns)) == len(table["columns"])  # repeated names made unique
    assert frame.columns[0] == table["columns"][0]
    assert len(frame) == len(table["rows"])
    assert frame.iloc[:, 0].tolist() == [row[0] for row in table["rows"]]


def test_table_by_number_and_from_the_estimating_command(saved, run_cli) -> None:
    """``--table 1`` is the first table of the report; the estimating command accepts it too."""
    path, payload = saved
    first = run_cli("report", path, "--format", "csv", "--table", "1")
    assert first.exit_code == 0
    assert first.stdout.splitlines()[0].split(",")[0] == lay_out(payload["details"]["tables"][0], 0.95).columns[0]
    direct = run_cli(*COMBINE, "--format", "csv", "--table", "sources")
    assert direct.exit_code == 0, direct.stderr
    assert "evidence" in direct.stdout.splitlines()[0]


@pytest.mark.parametrize("args, fragment", [
    (["--format", "csv", "--table", "no such words"], "matches no table"),
    (["--format", "csv", "--table", "99"], "matches no table"),
    (["--format", "json", "--table", "sources"], "--table picks a table for --format csv"),
])
def test_bad_table_choice_is_one_line_and_exit_2(saved, run_cli, args, fragment) -> None:
    """A table that does not exist names the ones that do; --table outside CSV is refused."""
    path, _ = saved
    result = run_cli("report", path, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines
    if "no table" in fragment:
        assert "1 = What each source says alone" in lines[0]


def test_suppression_reaches_the_table_csv(saved, run_cli) -> None:
    """Counts hidden by --suppress-below stay hidden in the table CSV (the list sizes give the overlap away)."""
    path, _ = saved
    plain = run_cli("report", path, "--format", "csv", "--table", "sources")
    hidden = run_cli("report", path, "--format", "csv", "--table", "sources", "--suppress-below", "1000")
    assert plain.exit_code == hidden.exit_code == 0
    plain_rows = pd.read_csv(io.StringIO(plain.stdout), dtype=str)
    hidden_rows = pd.read_csv(io.StringIO(hidden.stdout), dtype=str)
    assert plain_rows.loc[0, "recorded"] == "275"  # the police count, visible without suppression
    assert hidden_rows.loc[0, "recorded"] == "<1000"  # and hidden with it
    assert all(str(v).startswith("<") for v in hidden_rows["recorded"])  # no source count shows

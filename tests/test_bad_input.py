"""Bad input to `hiddenrate lists`: one line on stderr naming file, line and column; exit 2;
no traceback; the input file is never modified. One test per case named in issue 2."""

from __future__ import annotations


import pytest

GOOD_HEADER = "police,ngo,shelter,count\n"

CASES = {
    # name: (file content, --lists/--by args, fragments the message must contain)
    "missing list column": ("police,ngo,count\n1,0,5\n0,1,4\n1,1,2\n", ["--lists", "police,shelter"], ["no column 'shelter'", "police, ngo, count"]),
    "missing by column": (GOOD_HEADER + "1,0,0,5\n0,1,0,4\n", ["--by", "region"], ["no column 'region'"]),
    "unknown column": ("police,ngo,age,count\n1,0,34,5\n0,1,20,4\n1,1,50,2\n", [], ["line 2", "column 'age'", "--by age"]),
    "unknown column with --lists": ("police,ngo,age,count\n1,0,34,5\n0,1,20,4\n1,1,50,2\n", ["--lists", "police,ngo"], ["unknown column 'age'"]),
    "list value not 0/1": ("police,ngo,count\n1,0,5\n0,2,4\n1,1,2\n", ["--lists", "police,ngo"], ["line 3", "column 'ngo'", "2 is not 0 or 1"]),
    "negative count": (GOOD_HEADER + "1,0,0,5\n0,1,0,-3\n1,1,0,2\n", [], ["line 3", "column 'count'", "-3", "whole numbers >= 0"]),
    "fractional count": (GOOD_HEADER + "1,0,0,5\n0,1,0,2.5\n1,1,0,2\n", [], ["line 3", "column 'count'", "2.5"]),
    "non-numeric count": (GOOD_HEADER + "1,0,0,5\n0,1,0,many\n1,1,0,2\n", [], ["line 3", "column 'count'", "'many' is not a number"]),
    "missing count": (GOOD_HEADER + "1,0,0,5\n0,1,0,\n1,1,0,2\n", [], ["line 3", "column 'count'", "missing"]),
    "all-zero pattern with a positive count": (GOOD_HEADER + "1,0,0,5\n0,0,0,7\n1,1,0,2\n", [], ["line 3", "column 'count'", "all-zero pattern", "remove this row"]),
    "duplicated pattern": (GOOD_HEADER + "1,0,0,5\n0,1,0,4\n1,0,0,2\n", [], ["line 4", "pattern of line 2 appears again"]),
    "fewer than two lists": ("police,count\n1,5\n", [], ["at least two list columns", "only 'police'"]),
    "empty file": ("", [], ["the file is empty"]),
    "header only": (GOOD_HEADER, [], ["no data rows"]),
    "wrong delimiter": ("police;ngo;count\n1;0;5\n0;1;4\n1;1;2\n", [], ["line 1", "semicolons", "comma-separated"]),
    "ragged row": (GOOD_HEADER + "1,0,0,5\n0,1,4\n", [], ["line 3", "3 values where the header has 4 columns"]),
    "not UTF-8": ("police,ngo,count\n1,0,5\n0,1,4\n".encode() + "1,1,2 # caf\u00e9\n".encode("latin-1"), [], ["line 4", "not UTF-8", "re-save it as UTF-8"]),
    "nbcap zero": ("nbcap,count\n0,5\n1,4\n", [], ["line 2", "column 'nbcap'", "0 is not allowed"]),
    "nbcap duplicated": ("nbcap,count\n1,5\n1,4\n2,1\n", [], ["line 3", "nbcap=1 already appears on line 2"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_code_2(case, check_bad_input):
    content, args, fragments = CASES[case]
    check_bad_input("lists", content, args, fragments, label=case)


def test_missing_file(run_cli, tmp_path):
    result = run_cli("lists", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_file_and_example_are_exclusive(run_cli):
    result = run_cli("lists")
    assert result.exit_code == 2
    assert "give a FILE or --example NAME" in result.stderr


def test_unknown_example_lists_the_names(run_cli):
    result = run_cli("lists", "--example", "atlantis")
    assert result.exit_code == 2
    assert "no example named 'atlantis'" in result.stderr and "uk-2013" in result.stderr


def test_option_that_does_not_apply_is_an_error(run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,5\n0,1,4\n1,1,2\n")
    result = run_cli("lists", path, "--model", "chapman", "--delta", "1")
    assert result.exit_code == 2
    assert "--delta does not apply to --model chapman" in result.stderr


def test_bad_interval_level(run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,5\n0,1,4\n1,1,2\n")
    result = run_cli("lists", path, "--level", "95")
    assert result.exit_code == 2
    assert "between 0 and 1" in result.stderr


def test_dataframe_errors_name_the_row():
    import pandas as pd

    from hiddenrate import read_lists
    from hiddenrate.core.exceptions import DataError

    frame = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [5, -1, 2]}, index=[10, 11, 12])
    with pytest.raises(DataError, match=r"DataFrame, row 11, column 'count': -1 is not allowed"):
        read_lists(frame)


@pytest.mark.parametrize("command", ["lists", "reporting", "trend", "combine", "report", "claim"])
def test_a_directory_for_the_file_is_one_line(command, run_cli, tmp_path):
    """Issue 4 audit: a directory where the file belongs gave click's three-line usage error. It is
    bad input like any other: one line naming it and what to give instead, exit 2."""
    args = ["--value", "10"] if command == "claim" else []
    result = run_cli(command, tmp_path, *args, "--quiet")
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hiddenrate: error: {tmp_path}: is a directory"), lines

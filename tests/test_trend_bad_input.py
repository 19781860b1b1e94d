"""Bad input to `hiddenrate trend`: one line on stderr naming what is wrong and how to fix it; exit 2;
no traceback; the input file never modified. The three cases named in issue 5 (a period given twice
within a stratum, periods that cannot be ordered, a single period), for reporting and list data,
and more. Every case fails before any model is compiled, so these tests are fast."""

from __future__ import annotations


import pandas as pd
import pytest

from hiddenrate import fit_trend
from hiddenrate.data.periods import parse_period
from hiddenrate.core.exceptions import DataError, ModelError

HEADER = "year,recorded,surveyed,reported\n"
GOOD = HEADER + "2015,100,300,90\n2016,90,300,80\n2017,80,300,70\n"
INCIDENTS = ["--unit", "incidents"]
LISTS = "year,A,B,count\n2015,1,0,10\n2015,0,1,12\n2015,1,1,5\n2016,1,0,11\n2016,0,1,13\n2016,1,1,4\n"

CASES = {
    # name: (file content, extra args, fragments the message must contain, names the file)
    "period twice": (HEADER + "2015,100,300,90\n2016,90,300,80\n2016,80,300,70\n", INCIDENTS,
                     ["line 4", "column 'year'", "period 2016 appears twice", "first on line 3",
                      "give each period once per stratum"], True),
    "period twice within a stratum": ("area,year,recorded,surveyed,reported\nA,2015,100,300,90\nA,2016,90,300,80\n"
                                      "B,2015,100,300,90\nB,2015,90,300,80\n", [*INCIDENTS, "--by", "area"],
                                      ["line 5", "period 2015 appears twice for area=B", "first on line 4"], True),
    "quarter twice, spelled two ways": ("quarter,recorded,surveyed,reported\n2015Q1,100,300,90\n2015-q1,90,300,80\n"
                                        "2015Q2,90,300,80\n", INCIDENTS,
                                        ["line 3", "column 'quarter'", "period 2015Q1 appears twice"], True),
    "unorderable period": (HEADER + "2015,100,300,90\nspring,90,300,80\n", INCIDENTS,
                           ["line 3", "column 'year'", "'spring' is not a period that can be ordered",
                            "years (2019), quarters (2019Q1), months (2019-03) or whole numbers"], True),
    "periods of two kinds": (HEADER + "2015,100,300,90\n2016Q1,90,300,80\n", INCIDENTS,
                             ["line 3", "'2016Q1' is a quarter but '2015' on line 2 is a year",
                              "periods of different kinds cannot be ordered"], True),
    "missing period": (HEADER + "2015,100,300,90\n,90,300,80\n", INCIDENTS, ["line 3", "the period is missing"], True),
    "single period": (HEADER + "2015,100,300,90\n", INCIDENTS,
                      ["column 'year' has one period only (2015)", "a trend needs at least two periods",
                       "use `hiddenrate reporting` or `hiddenrate lists`"], True),
    "single period in two strata": ("area,year,recorded,surveyed,reported\nA,2015,100,300,90\nB,2015,90,300,80\n",
                                    [*INCIDENTS, "--by", "area"], ["one period only (2015)"], True),
    "no period column": ("recorded,surveyed,reported\n100,300,90\n", INCIDENTS,
                         ["no period column", "add a column 'period'", "--period COLUMN"], True),
    "named period column absent": (GOOD, [*INCIDENTS, "--period", "wave"], ["no column 'wave'", "--period"], True),
    "stratum without a period": ("area,year,recorded,surveyed,reported\nA,2015,100,300,90\nA,2016,90,300,80\n"
                                 "B,2015,100,300,90\n", [*INCIDENTS, "--by", "area"],
                                 ["stratum area=B has no row for period 2016", "leave surveyed and reported empty"], True),
    "lists: single period": ("year,A,B,count\n2015,1,0,10\n2015,0,1,12\n2015,1,1,5\n", [],
                             ["column 'year' has one period only (2015)"], True),
    "lists: unorderable period": (LISTS + "next year,1,0,3\n", [],
                                  ["line 8", "'next year' is not a period that can be ordered"], True),
    "lists: pattern twice in a period": (LISTS + "2016,1,0,2\n", [],
                                         ["line 8", "capture pattern of line 5 appears again", "year=2016"], True),
    "compare an unknown period": (GOOD, [*INCIDENTS, "--compare", "2015:2019"],
                                  ["--compare '2015:2019'", "no period '2019'", "the periods are: 2015, 2016, 2017"], False),
    "compare written wrongly": (GOOD, [*INCIDENTS, "--compare", "2015-2017"],
                                ["--compare '2015-2017' should be FROM:TO, e.g. 2015:2017"], False),
    "compare a period with itself": (GOOD, [*INCIDENTS, "--compare", "2016:2016"], ["compares a period with itself"], False),
    "only-compare without compare": (GOOD, [*INCIDENTS, "--only-compare"], ["--only-compare needs at least one --compare"],
                                     False),
    "unknown model": (GOOD, [*INCIDENTS, "--model", "spline"],
                      ["unknown model 'spline' for reporting data", "auto, rw, rw-drift, ar1"], False),
    "unknown prior": (GOOD, [*INCIDENTS, "--prior", "step=0.2"],
                      ["unknown prior name(s) 'step'", "valid names for the rw-drift trend model",
                       "log_incidence_step"], False),
    "prior out of range": (GOOD, [*INCIDENTS, "--prior", "logit_rate_step=-1"],
                           ["prior 'logit_rate_step': scale = -1", "must be > 0"], False),
    "survey larger than its sample": (HEADER + "2015,100,300,90\n2016,90,300,380\n", INCIDENTS,
                                      ["line 3", "column 'reported'", "380 reported out of 300 surveyed"], True),
    # a reporting file without its recorded counts is reporting data with a column missing, not lists
    "no recorded column": ("year,surveyed,reported\n2015,300,90\n2016,300,80\n", INCIDENTS,
                           ["no column 'recorded'", "needs the columns recorded, surveyed and reported"], True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_code_2(case, check_bad_input):
    """Each case is a user mistake; the message must say what is wrong and how to fix it (STYLE.md)."""
    content, args, fragments, names_file = CASES[case]
    check_bad_input("trend", content, args, fragments, names_file=names_file, label=case)


def test_file_and_example_are_exclusive(run_cli):
    """Neither a file nor an example: nothing to fit, a usage error (exit 2)."""
    result = run_cli("trend")
    assert result.exit_code == 2 and "give a FILE or --example NAME" in result.stderr


def test_example_of_another_command(run_cli):
    """`vancouver` is a one-period reporting example: the trend command names the right command."""
    result = run_cli("trend", "--example", "vancouver", "--quiet")
    assert result.exit_code == 2 and "is for `hiddenrate reporting`, not trend" in result.stderr


def test_same_errors_from_python():
    """The CLI is a thin shell: the library raises the same DataError/ModelError (with the row of a DataFrame)."""
    frame = pd.DataFrame({"year": [2015, 2016, 2016], "recorded": [100, 90, 80], "surveyed": [300, 300, 300],
                          "reported": [90, 80, 70]}, index=[10, 11, 12])
    with pytest.raises(DataError, match=r"DataFrame, row 12, column 'year': period 2016 appears twice"):
        fit_trend(frame, unit="incidents")
    with pytest.raises(DataError, match="one period only"):
        fit_trend(frame.iloc[:1], unit="incidents")
    with pytest.raises(ModelError, match="list options .* apply to list data"):
        fit_trend(frame.iloc[:2], unit="incidents", lists=["A", "B"])


@pytest.mark.parametrize("text, label, time", [
    ("2019", "2019", 2019), ("7", "7", 7), ("-3", "-3", -3), ("2019Q1", "2019Q1", 4 * 2019),
    ("2019-q4", "2019Q4", 4 * 2019 + 3), ("2019 Q2", "2019Q2", 4 * 2019 + 1), ("2020-03", "2020-03", 12 * 2020 + 2),
    ("2020/3", "2020-03", 12 * 2020 + 2),
])
def test_periods_parse_to_a_canonical_label_and_time(text, label, time):
    """Times count in periods of their kind (docs/methods.md#change-over-time: the steps are scaled by the gaps)."""
    period = parse_period(text)
    assert period is not None and (period.label, period.time) == (label, time)


@pytest.mark.parametrize("text", ["spring", "2020-13", "2019Q5", "2019.5", ""])
def test_values_that_are_not_periods(text):
    """Not orderable as one kind of period: a word, month 13, quarter 5, a decimal year, nothing."""
    assert parse_period(text) is None


def test_no_survey_in_any_period_is_no_estimate(run_cli, write_csv):
    """Issue 5 audit: with no survey in any period nothing in the data measures the reporting rate,
    so every total would be the default prior's (it printed 1,512 [819, 15,053] with exit 0).
    That is a run that cannot produce an estimate from the data: exit 1, one line that says why
    and how to go on (as `hiddenrate combine` does when nothing identifies the capture
    probabilities). Fails before any model is compiled."""
    path = write_csv(HEADER + "2015,100,,\n2016,90,,\n2017,80,,\n")
    result = run_cli("trend", path, *INCIDENTS, "--quiet")
    assert result.exit_code == 1, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hiddenrate: error: ") and str(path) in lines[0]
    for fragment in ("no survey in any period", "would come from the prior alone", "--prior logit_rate_level=MU,SIGMA"):
        assert fragment in lines[0], (fragment, lines[0])
    # one series of two without any survey: refused too, naming it
    two = write_csv("area,year,recorded,surveyed,reported\nA,2015,100,300,90\nA,2016,90,300,80\n"
                    "B,2015,100,,\nB,2016,90,,\n")
    result = run_cli("trend", two, *INCIDENTS, "--by", "area", "--quiet")
    assert result.exit_code == 1 and "area=B: has no survey in any period" in result.stderr


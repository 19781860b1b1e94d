"""Bad input to `hiddenrate reporting`: one line on stderr naming file, line and column; exit 2;
no traceback; the input file never modified. One test per case named in issue 3, and more."""

from __future__ import annotations


import pandas as pd
import pytest

from hiddenrate.data.reporting import read_reporting
from hiddenrate.core.exceptions import DataError

HEADER = "area,recorded,surveyed,reported\n"
UNIT = ["--unit", "incidents", "--by", "area"]

CASES = {
    # name: (file content, extra args, fragments the message must contain)
    "reported > surveyed": (HEADER + "A,100,711,195\nB,50,200,250\n", UNIT,
                            ["line 3", "column 'reported'", "250 reported out of 200 surveyed", "cannot exceed"]),
    "negative count": (HEADER + "A,100,711,195\nB,-3,200,50\n", UNIT,
                       ["line 3", "column 'recorded'", "-3 is not allowed", "whole numbers >= 0"]),
    "fractional count": (HEADER + "A,100,711,195\nB,2.5,200,50\n", UNIT,
                         ["line 3", "column 'recorded'", "2.5 is not a whole number"]),
    "negative survey": (HEADER + "A,100,-711,195\n", UNIT, ["line 2", "column 'surveyed'", "-711 is not allowed"]),
    "surveyed 0 with reported > 0": (HEADER + "A,100,0,5\n", UNIT,
                                     ["line 2", "column 'reported'", "5 reported out of 0 surveyed"]),
    "percentage in reported": (HEADER + "A,100,711,27.4\n", UNIT,
                               ["line 2", "column 'reported'", "27.4", "give counts: reported out of surveyed"]),
    "proportion in reported": (HEADER + "A,100,711,0.274\n", UNIT,
                               ["line 2", "column 'reported'", "0.274", "give counts: reported out of surveyed"]),
    "percent sign in reported": (HEADER + "A,100,711,27%\n", UNIT,
                                 ["line 2", "column 'reported'", "'27%' is a percentage", "give counts"]),
    "rate column": ("area,recorded,reporting_rate\nA,100,0.274\n", UNIT,
                    ["column 'reporting_rate' looks like a rate", "give counts: reported out of surveyed"]),
    "percent column": ("area,recorded,surveyed,percent\nA,100,711,27.4\n", UNIT,
                       ["column 'percent' looks like a rate"]),
    "missing required column": ("area,recorded,surveyed\nA,100,711\n", UNIT,
                                ["no column 'reported'", "recorded, surveyed and reported", "area, recorded, surveyed"]),
    "missing by column": (HEADER + "A,100,711,195\n", ["--unit", "incidents", "--by", "region"], ["no column 'region'"]),
    "unknown column": ("area,recorded,surveyed,reported,year\nA,100,711,195,2020\n", UNIT,
                       ["unknown column 'year'", "--by year"]),
    "half a survey": (HEADER + "A,100,711,\n", UNIT,
                      ["line 2", "column 'reported'", "missing but surveyed is 711", "leave both empty"]),
    "non-numeric count": (HEADER + "A,many,711,195\n", UNIT, ["line 2", "column 'recorded'", "'many' is not a number"]),
    "missing recorded": (HEADER + "A,,711,195\n", UNIT, ["line 2", "column 'recorded'", "missing"]),
    "stratum twice": (HEADER + "A,100,711,195\nA,50,200,50\n", UNIT, ["line 3", "second row for stratum area=A",
                                                                    "the first is on line 2"]),
    "strata without --by": (HEADER + "A,100,711,195\nB,50,200,50\n", ["--unit", "incidents"],
                            ["unknown column 'area'", "--by area"]),
    "no unit": (HEADER + "A,100,711,195\n", ["--by", "area"], ["--unit incidents or --unit victims"]),
    "mixed units": ("unit,area,recorded,surveyed,reported\nincidents,A,100,711,195\nvictims,B,50,200,50\n",
                    ["--by", "area"], ["line 3", "column 'unit'", "never mix incidents and victims"]),
    "unit disagrees with --unit": ("unit,recorded,surveyed,reported\nvictims,100,711,195\n", ["--unit", "incidents"],
                                   ["counts victims", "--unit says incidents"]),
    "population interval reversed": ("recorded,surveyed,reported,population_low,population_high,victimized,respondents\n"
                                     "0,,,3000,1500,40,150\n", ["--unit", "victims"],
                                     ["line 2", "column 'population_low'", "reversed: lower 3000 > upper 1500"]),
    "population columns incomplete": ("recorded,surveyed,reported,population_low,population_high\n0,,,1500,3000\n",
                                      ["--unit", "victims"], ["population route needs all of", "missing: victimized, respondents"]),
    "victimized > respondents": ("recorded,surveyed,reported,population_low,population_high,victimized,respondents\n"
                                 "0,,,1500,3000,200,150\n", ["--unit", "victims"],
                                 ["line 2", "column 'victimized'", "200 victimized out of 150 respondents"]),
    "population route with incidents": ("recorded,surveyed,reported,population_low,population_high,victimized,respondents\n"
                                        "0,,,1500,3000,40,150\n", ["--unit", "incidents"],
                                        ["population route", "counts victims, not incidents"]),
    "source twice": ("source,recorded,surveyed,reported\npolice,100,711,195\npolice,50,200,50\n", ["--unit", "incidents"],
                     ["line 3", "source 'police' already appears on line 2"]),
    "option population reversed": (HEADER.replace("area,", "") + "0,,\n", ["--unit", "victims", "--population", "3000,1500",
                                   "--prevalence", "40/150"], ["--population 3000,1500", "lower end 3000 is above the upper end 1500"]),
    "option prevalence as a rate": (HEADER.replace("area,", "") + "0,,\n", ["--unit", "victims", "--population", "1500,3000",
                                    "--prevalence", "0.27/1"], ["--prevalence 0.27/1", "give counts"]),
    "option population without prevalence": (HEADER.replace("area,", "") + "0,,\n", ["--unit", "victims", "--population", "1500,3000"],
                                             ["needs both --population LOW,HIGH and --prevalence K/M"]),
    "unknown prior": (HEADER + "A,100,711,195\n", [*UNIT, "--model", "exact", "--prior", "rate=1,1"],
                      ["unknown prior name(s) 'rate'", "valid names for the exact model: reporting_rate"]),
    "prior with wrong numbers": (HEADER + "A,100,711,195\n", [*UNIT, "--model", "exact", "--prior", "reporting_rate=1"],
                                 ["prior 'reporting_rate' (beta) takes 2 number(s): alpha, beta"]),
    "prior for the classical model": (HEADER + "A,100,711,195\n", [*UNIT, "--model", "multiplier", "--prior", "reporting_rate=1,1"],
                                      ["classical multiplier has no priors"]),
    "several sources in the pooled model": ("area,source,recorded,surveyed,reported\nA,police,100,711,195\nA,ngo,50,200,50\n"
                                            "B,police,10,100,20\n", [*UNIT, "--model", "pooled"],
                                            ["pooled model takes one source", "--model exact"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_code_2(case, check_bad_input):
    content, args, fragments = CASES[case]
    names_file = not case.startswith(("option", "unknown prior", "prior", "several"))
    check_bad_input("reporting", content, args, fragments, names_file=names_file, label=case)


def test_file_and_example_are_exclusive(run_cli):
    result = run_cli("reporting")
    assert result.exit_code == 2
    assert "give a FILE or --example NAME" in result.stderr


def test_example_of_another_command(run_cli):
    result = run_cli("reporting", "--example", "uk-2013")
    assert result.exit_code == 2
    assert "is for `hiddenrate lists`" in result.stderr


def test_dataframe_errors_name_the_row():
    frame = pd.DataFrame({"area": ["A", "B"], "recorded": [5, 3], "surveyed": [100, 50], "reported": [20, 60]}, index=[10, 11])
    with pytest.raises(DataError, match=r"DataFrame, row 11, column 'reported': 60 reported out of 50 surveyed"):
        read_reporting(frame, by=["area"], unit="incidents")


def test_no_survey_may_be_zero_or_empty():
    frame = pd.DataFrame({"area": ["A", "B", "C"], "recorded": [5, 3, 0], "surveyed": [100, 0, None], "reported": [20, 0, None]})
    data = read_reporting(frame, by=["area"], unit="incidents")
    assert [s.sources[0].has_survey for s in data.strata] == [True, False, False]
    assert data.recorded == 8 and data.stratified and not data.multi_source

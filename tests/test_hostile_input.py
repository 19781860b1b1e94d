"""Hostile and huge input (issue 22, the input side): every case of the issue's list gives one line on
stderr, exit 2, no traceback, the input unchanged, and no file content beyond a short printable
excerpt. Numbers at the edges of float and integer precision give the right answer or a refusal
that says the limit (docs/methods.md#numerical-range)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_COUNT, MAX_LINE_CHARS, allow_outside_paths, shown
from hiddenrate.data.spec import read_spec

LISTS = "a,b,c,count\n1,0,0,{big}\n0,1,0,30\n0,0,1,20\n1,1,0,5\n1,0,1,4\n0,1,1,3\n1,1,1,1\n"
REPORTING = "area,recorded,surveyed,reported\nnorth,{recorded},{surveyed},{reported}\n"

CASES = {
    # name: (command, content, args, fragments)
    "count 10^15 (memory without bound)": ("lists", LISTS.format(big=10**15), [], ["line 2", "column 'count'", "too large", "at most 1,000,000,000"]),
    "count 2^63 (OverflowError)": ("lists", LISTS.format(big=2**63), [], ["line 2", "too large", "10^9"]),
    "count 1e300 (OverflowError)": ("lists", LISTS.format(big="1e300"), [], ["line 2", "too large"]),
    "people observed above the limit": ("lists", LISTS.replace("30", str(MAX_COUNT)).format(big=MAX_COUNT), [], ["people observed", "at most 1,000,000,000"]),
    "nbcap 10^15 (an array of that length)": ("lists", "nbcap,count\n1,5\n1000000000000000,4\n", [], ["line 3", "nbcap (times caught) must be at most 10,000"]),
    "header over 131,072 characters (_csv.Error)": ("lists", "a," * 70_000 + "count\n1,0\n", [], ["line 1", "characters long", f"{MAX_LINE_CHARS:,}"]),
    "data line over 131,072 characters": ("lists", "a,b,count\n1,0," + "9" * 140_000 + "\n", [], ["line 2", "characters long"]),
    "quoted field with a line break (3-line error)": ("lists", 'a,b,count\n1,0,"5\n6"\n0,1,4\n', [], ["line 2", "runs over several lines"]),
    "NUL byte in a count (echoed raw)": ("lists", "a,b,count\n1,0,5\x00\n0,1,4\n1,1,2\n", [], ["line 2", "\\x00", "is not a number"]),
    "escape sequence in a count": ("lists", "a,b,count\n1,0,\x1b[31m5\n0,1,4\n1,1,2\n", [], ["\\x1b"]),
    "control character in a column name": ("lists", "a,b\x07,count\n1,0,5\n0,1,4\n1,1,2\n", [], ["line 1", "\\x07"]),
    "a column name that is a whole line": ("lists", "root:x:0:0:" + "r" * 200 + ",b,count\n1,0,5\n", [], ["line 1", "is not a column name"]),
    "reporting recorded 2^63 (argmax of empty sequence)": ("reporting", REPORTING.format(recorded=2**63, surveyed=711, reported=195), ["--by", "area", "--unit", "victims"], ["line 2", "column 'recorded'", "too large", "10^9"]),
    "reporting recorded 10^15 (argmax of empty sequence)": ("reporting", REPORTING.format(recorded=10**15, surveyed=711, reported=195), ["--by", "area", "--unit", "victims"], ["column 'recorded'", "too large"]),
    "reporting surveyed 10^18 (silent wrong answer)": ("reporting", REPORTING.format(recorded=100, surveyed=10**18, reported=195 * 10**15), ["--by", "area", "--unit", "victims"], ["column 'surveyed'", "too large"]),
    "reporting surveyed 1e300": ("reporting", REPORTING.format(recorded=100, surveyed="1e300", reported=195), ["--by", "area", "--unit", "victims"], ["column 'surveyed'", "too large"]),
    "reporting population above 10^10": ("reporting", "recorded,surveyed,reported,population_low,population_high,victimized,respondents\n100,711,195,1000,1e12,40,150\n", ["--unit", "victims"], ["too large", "10^10"]),
    "trend recorded 10^15": ("trend", "year,recorded,surveyed,reported\n2019,100,711,195\n2020," + str(10**15) + ",711,195\n", ["--unit", "incidents"], ["too large"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_gives_one_line_and_exit_code_2(case, check_bad_input):
    command, content, args, fragments = CASES[case]
    message = check_bad_input(command, content, args, fragments, label=case)
    assert message.isprintable() and len(message) < 1_000, message


@pytest.mark.parametrize("command", ["lists", "reporting", "trend", "combine"])
def test_a_device_is_refused_before_reading(command, run_cli):
    """`lists /dev/zero` read until memory ran out: a reader now checks it is a regular file first."""
    result = run_cli(command, "/dev/zero", "--quiet")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == f"hiddenrate: error: /dev/zero: is not a regular file (a device, pipe or socket); " \
        f"give a {'spec file (.toml)' if command == 'combine' else 'CSV file'}"


@pytest.mark.parametrize("command", ["lists", "combine"])
def test_a_fifo_is_refused_without_hanging(command, run_cli, tmp_path):
    """A FIFO as input hung for ever (open blocks until a writer comes): it is refused by os.stat."""
    fifo = tmp_path / "input.csv"
    os.mkfifo(fifo)
    result = run_cli(command, fifo, "--quiet")
    assert result.exit_code == 2
    assert "is not a regular file" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_input_size_cap_names_the_flag_and_the_flag_lifts_it(run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,40\n0,1,30\n1,1,6\n" + "\n" * 3000)
    capped = run_cli("lists", path, "--quiet", "--max-input-mb", "0.001")
    assert capped.exit_code == 2
    assert "more than the 1.02 KB hiddenrate reads" in capped.stderr and "--max-input-mb" in capped.stderr
    lifted = run_cli("lists", path, "--quiet", "--max-input-mb", "0", "--model", "chapman", "--format", "json")
    assert lifted.exit_code == 0, lifted.stderr


def test_readers_leave_the_input_unchanged_and_messages_short(write_csv):
    """shown() is the one way messages quote input: printable, at most 40 characters."""
    assert shown("a\x00b") == "a\\x00b"
    assert shown("x" * 100) == "x" * 39 + "…" and len(shown("x" * 100)) == 40
    assert str(DataError("one\ntwo")) == "one\\ntwo"


# ----------------------------------------------------------------------------- combine specs


def _spec(folder: Path, text: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../etc/passwd", "/etc/shadow"])
def test_a_spec_cannot_read_files_outside_its_folder(target, check_bad_input, tmp_path):
    """`[lists] file = "/etc/shadow"` read the file and printed its lines in the error message."""
    spec = _spec(tmp_path, f'[lists]\nfile = "{target}"\n')
    before = hashlib.sha256(spec.read_bytes()).hexdigest()
    with pytest.raises(DataError) as error:
        read_spec(spec)
    message = str(error.value)
    assert "is outside the spec's folder" in message and "--allow-outside-paths" in message
    assert "root:" not in message and hashlib.sha256(spec.read_bytes()).hexdigest() == before


def test_the_cli_refuses_a_spec_reading_outside_its_folder(run_cli, tmp_path):
    spec = _spec(tmp_path, '[lists]\nfile = "/etc/passwd"\n')
    result = run_cli("combine", spec, "--quiet")
    assert result.exit_code == 2 and "root:" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "outside the spec's folder" in result.stderr


def test_outside_paths_are_read_when_allowed(tmp_path):
    (tmp_path / "lists.csv").write_text("police,ngo,count\n1,0,40\n0,1,30\n1,1,6\n", encoding="utf-8")
    sub = tmp_path / "specs"
    sub.mkdir()
    spec = _spec(sub, '[lists]\nfile = "../lists.csv"\n')
    with allow_outside_paths():
        assert read_spec(spec).lists_data is not None


def test_a_spec_naming_itself_does_not_echo_its_text(tmp_path):
    spec = _spec(tmp_path, 'title = "Confidential: partner NGO survivors list"\n[lists]\nfile = "spec.toml"\n')
    with pytest.raises(DataError) as error:
        read_spec(spec)
    assert "is the spec itself" in str(error.value) and "Confidential" not in str(error.value)


def test_a_data_file_with_private_lines_is_quoted_only_in_short_excerpts(tmp_path):
    secret = "maria.lopez@example.org;+44 7700 900123;flat 4, 12 Hidden Street;" * 3
    (tmp_path / "lists.csv").write_text(f"{secret}\n{secret}\n", encoding="utf-8")
    spec = _spec(tmp_path, '[lists]\nfile = "lists.csv"\n')
    with pytest.raises(DataError) as error:
        read_spec(spec)
    message = str(error.value)
    # at most a 40-character excerpt of one field: never the line, never the phone number further on
    assert secret not in message and "900123" not in message and len(message) < 500, message


@pytest.mark.parametrize("value", ["1e308", "1e10", "9223372036854775808", "inf"])
def test_a_huge_survey_in_a_spec_is_refused(value, tmp_path):
    """`surveyed = 1e308` was accepted although the rule is a whole number."""
    spec = _spec(tmp_path, f"[sources.police]\ncount = 100\nsurveyed = {value}\nreported = 195\n")
    with pytest.raises(DataError, match=r"\[sources.police\]: 'surveyed'"):
        read_spec(spec)


def test_a_huge_spec_file_is_refused(tmp_path):
    spec = _spec(tmp_path, "# " + "x" * (2**20) + "\n")
    with pytest.raises(DataError, match="a spec is a short text file"):
        read_spec(spec)


# ----------------------------------------------------------------------------- numerical range


def _known_rate_posterior(recorded: int, rate: float) -> tuple[float, float, float]:
    """Median and 95% interval of N when the reporting rate is known exactly (an infinite survey):
    p(N) ∝ (1/N) C(N, y) p^y (1-p)^(N-y), the model's limit as the survey grows (docs/methods.md)."""
    n = np.arange(recorded, 20 * recorded, dtype=float)
    log_p = -np.log(n) + gammaln(n + 1) - gammaln(n - recorded + 1) + (n - recorded) * np.log1p(-rate)
    cdf = np.cumsum(np.exp(log_p - log_p.max()))
    cdf /= cdf[-1]
    return tuple(float(n[np.searchsorted(cdf, q - 1e-12)]) for q in (0.5, 0.025, 0.975))  # type: ignore[return-value]


@pytest.mark.parametrize("surveyed", [10**6, 10**9])
def test_a_large_survey_gives_the_known_rate_answer(surveyed):
    """100 recorded, 19.5% reported: with 10^6 or 10^9 surveyed the survey fixes the rate, so the
    answer is the known-rate posterior, 511 [427, 607]. 10^18 surveyed gave 5,947 on main; now
    anything above 10^9 is refused."""
    from hiddenrate import fit_reporting

    frame = {"recorded": [100], "surveyed": [surveyed], "reported": [surveyed * 195 // 1000]}
    import pandas as pd

    result = fit_reporting(pd.DataFrame(frame), unit="victims")
    median, low, high = _known_rate_posterior(100, 0.195)
    assert (median, low, high) == (511.0, 427.0, 607.0)
    total = result.overall.total
    assert total.median() == median
    assert total.interval(0.95) == (low, high)


def test_the_largest_allowed_count_is_exact():
    """10^9 recorded, 19.5% of 10^9 surveyed: the median is y/p = 5,128,205,128 within the survey's
    own uncertainty (sd of p/p = 2 x 10^-5) and the grid's spacing above 2,048 (0.1%, the precision
    models/reporting/exact.py states), so within 10^-3."""
    import pandas as pd

    from hiddenrate import fit_reporting

    frame = pd.DataFrame({"recorded": [MAX_COUNT], "surveyed": [MAX_COUNT], "reported": [195 * MAX_COUNT // 1000]})
    result = fit_reporting(frame, unit="victims")
    assert abs(result.overall.total.median() / (MAX_COUNT / 0.195) - 1) < 1e-3
    over = frame.assign(recorded=[MAX_COUNT + 1])
    with pytest.raises(DataError, match="at most 1,000,000,000"):
        fit_reporting(over, unit="victims")


def test_counts_at_two_to_the_53_are_refused_not_rounded():
    """2^53 + 1 is the first integer a float cannot hold; it must be refused, never rounded."""
    import pandas as pd

    from hiddenrate import read_lists

    frame = pd.DataFrame({"a": [1, 0, 1], "b": [0, 1, 1], "count": [2**53 + 1, 4, 2]})
    with pytest.raises(DataError, match="too large"):
        read_lists(frame)


# ----------------------------------------------------------------------------- bounded memory


def test_a_pooled_fit_too_large_for_memory_is_refused_before_it_starts():
    """`reporting --by` with 10,000 strata: the pooled model's draws grow with strata x draws x chains;
    the estimate is checked before compiling, and the message says what to do."""
    from hiddenrate.models.reporting.pooled import check_pooled_memory, pooled_bytes

    check_pooled_memory(1_000, 1_000, 4)  # the benchmark's 1,000 strata fit
    assert pooled_bytes(1_000, 1_000, 4) < 2 * 2**30
    with pytest.raises(Exception, match=r"10,000 strata .* --model exact .* --draws \d+ or fewer"):
        check_pooled_memory(10_000, 1_000, 4)


def test_model_averaging_too_large_for_memory_is_refused(check_bad_input):
    """Six lists and 7 million people: the coarse grid over N (nodes spaced n^-1/2 in log N) times
    18,154 graphs would need more than 2 GB; refused with what to do (exit 2, before the fit)."""
    rows = [",".join(str((p >> j) & 1) for j in range(6)) + f",{1_000_000 if p == 1 else 100_000}" for p in range(1, 64)]
    content = "a,b,c,d,e,f,count\n" + "\n".join(rows) + "\n"
    check_bad_input("lists", content, ["--model", "bma"], ["18,154 graphs", "7,200,000 people", "--model loglinear"],
                    names_file=False)

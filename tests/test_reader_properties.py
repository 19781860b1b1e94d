"""Property tests (Hypothesis) for every reader: any bytes, any CSV, any spec give a result or one
readable line (a DataError or ModelError whose message is printable and short), never another
exception. Issue 22: 1,000 examples per reader, on the reader functions (cheap); fewer through the
CLI, where each example that parses runs a fit. All are marked slow (they run in CI): about 50 s
of CPU for the four readers' 4,000 examples and 60 CLI runs, on one core."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiddenrate.core.exceptions import HiddenrateError
from hiddenrate.core.limits import MAX_MESSAGE_CHARS
from hiddenrate.data.lists import read_list_input
from hiddenrate.data.reporting import read_reporting
from hiddenrate.data.spec import read_spec
from hiddenrate.data.trend import read_trend

EXAMPLES = 1_000
READER_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NAMES = ["a", "b", "c", "police", "ngo", "count", "nbcap", "region", "recorded", "surveyed", "reported", "source",
         "unit", "year", "period", "population_low", "population_high", "victimized", "respondents", "rate"]
NUMBERS = ["0", "1", "2", "5", "-1", "0.5", "1.0", "", "1e300", "1e308", "inf", "nan", "-0", "2019", "2020Q1",
           "9223372036854775808", "1000000000", "1000000001", "1e9", "9007199254740993", " 7 ", "10%", "victims",
           "incidents", "north", "\x00", "\x1b[31m", "é", '"1,0"', '"2\n3"']
CELL = st.one_of(st.sampled_from(NUMBERS), st.integers(min_value=-10, max_value=10**20).map(str),
                 st.text(max_size=12))


@st.composite
def csv_bytes(draw: st.DrawFn, names: list[str] = NAMES) -> bytes:
    """A CSV made of plausible and hostile pieces, sometimes raw bytes."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    header = draw(st.lists(st.one_of(st.sampled_from(names), st.text(max_size=6)), min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELL, min_size=len(header) - 1, max_size=len(header) + 1), max_size=8))
    separator = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join([separator.join(header), *(",".join(row) for row in rows)]) + ending
    return text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else text.encode("utf-8", "replace")


def _one_line(error: HiddenrateError) -> None:
    message = str(error)
    assert message and message.isprintable() and len(message) <= MAX_MESSAGE_CHARS, message


#: one folder for every example (a new temporary folder per example costs more than the reader)
FOLDER = Path(tempfile.mkdtemp(prefix="hiddenrate-properties-"))


def _read(reader, content: bytes, name: str = "data.csv", **kwargs) -> None:
    path = FOLDER / name
    path.write_bytes(content)
    try:
        reader(path, **kwargs)
    except HiddenrateError as error:
        _one_line(error)
    assert path.read_bytes() == content  # the input is never changed


@pytest.mark.slow
@READER_SETTINGS
@given(content=csv_bytes(), by=st.sampled_from([(), ("region",)]))
def test_list_reader_gives_a_table_or_one_line(content: bytes, by: tuple[str, ...]) -> None:
    _read(read_list_input, content, by=by)


@pytest.mark.slow
@READER_SETTINGS
@given(content=csv_bytes(), by=st.sampled_from([(), ("region",), ("source",)]))
def test_reporting_reader_gives_data_or_one_line(content: bytes, by: tuple[str, ...]) -> None:
    _read(read_reporting, content, by=by, unit="victims")


@pytest.mark.slow
@READER_SETTINGS
@given(content=csv_bytes())
def test_trend_reader_gives_a_series_or_one_line(content: bytes) -> None:
    _read(read_trend, content, unit="incidents")


SPEC_KEYS = ["title", "unit", "by", "lists", "sources", "evidence", "population", "model", "priors", "file", "names",
             "count", "surveyed", "reported", "low", "high", "victimized", "respondents", "dependence", "level"]
TOML_VALUES = ['"lists.csv"', '"evidence.csv"', '"spec.toml"', '"/etc/passwd"', '"../x.csv"', "711", "195", "1e308",
               "-3", "0", "inf", "nan", "1.5", '["region"]', '"victims"', "true", '"pairwise"', '["a:b"]', "{ mu = 0 }",
               '"\\u0000"', "9223372036854775807"]


@st.composite
def spec_text(draw: st.DrawFn) -> str:
    """A TOML spec from plausible sections, keys and values, sometimes plain text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            section = draw(st.sampled_from(["lists", "sources.police", "sources.hotline", "evidence", "population",
                                            "model", "priors", "sources"]))
            lines.append(f"[{section}]")
        for _ in range(draw(st.integers(0, 4))):
            lines.append(f"{draw(st.sampled_from(SPEC_KEYS))} = {draw(st.sampled_from(TOML_VALUES))}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@READER_SETTINGS
@given(text=spec_text(), lists=csv_bytes(["a", "b", "police", "ngo", "count", "region"]),
       evidence=csv_bytes(["source", "count", "surveyed", "reported", "region"]))
def test_spec_reader_gives_a_spec_or_one_line(text: str, lists: bytes, evidence: bytes) -> None:
    (FOLDER / "lists.csv").write_bytes(lists)
    (FOLDER / "evidence.csv").write_bytes(evidence)
    spec = FOLDER / "spec.toml"
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_spec(spec)
    except HiddenrateError as error:
        _one_line(error)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(content=csv_bytes(["a", "b", "c", "count", "recorded", "surveyed", "reported"]),
       command=st.sampled_from([("lists", "--model", "loglinear"), ("reporting", "--unit", "victims")]))
def test_the_cli_gives_an_estimate_or_one_line(content: bytes, command: tuple[str, ...]) -> None:
    """Through the CLI: exit 0 or 1 with output, or exit 2 with one line; never a traceback."""
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(content)
        result = CliRunner().invoke(cli, [command[0], str(path), *command[1:], "--quiet", "--format", "json"],
                                    catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hiddenrate: error: ")

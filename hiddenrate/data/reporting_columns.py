"""Column checks and cell parsing for reporting data (see :mod:`hiddenrate.data.reporting`).

Every check names the file, line and column of the first problem and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hiddenrate.data.table import RawTable
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_COUNT, MAX_POPULATION, columns_text, count_limit_text, shown

RECORDED, SURVEYED, REPORTED = "recorded", "surveyed", "reported"
SOURCE, UNIT = "source", "unit"
POP_LOW, POP_HIGH, VICTIMIZED, RESPONDENTS = "population_low", "population_high", "victimized", "respondents"
REQUIRED = (RECORDED, SURVEYED, REPORTED)
POPULATION_COLUMNS = (POP_LOW, POP_HIGH, VICTIMIZED, RESPONDENTS)
UNITS = ("incidents", "victims")
#: the level of the population interval (``population_low``, ``population_high``)
POPULATION_LEVEL = 0.95
DEFAULT_SOURCE = "records"
_RATE_WORDS = ("rate", "percent", "percentage", "pct", "share", "proportion", "fraction", "%")
GIVE_COUNTS = "give counts: reported out of surveyed (e.g. reported=195, surveyed=711), not a rate or percentage"



def number(raw: RawTable, row: int, column: str, what: str, maximum: float = MAX_POPULATION) -> float | None:
    """A cell as a float; ``None`` when empty. Percent signs get the 'give counts' message."""
    text = raw.frame[column].iloc[row]
    if text == "":
        return None
    if text.endswith("%"):
        raise raw.error(row, column, f"'{shown(text)}' is a percentage; {GIVE_COUNTS}")
    try:
        value = float(text)
    except ValueError:
        raise raw.error(row, column, f"'{shown(text)}' is not a number; {what}") from None
    if not np.isfinite(value):
        raise raw.error(row, column, f"'{shown(text)}' is not allowed; {what}")
    if abs(value) > maximum:
        raise raw.error(row, column, f"{shown(text)} is too large; numbers must be at most {MAX_POPULATION:,} (10^10)")
    return value


def whole(raw: RawTable, row: int, column: str, what: str, *, rate_hint: bool = False) -> int | None:
    """A cell as a whole number >= 0 (``None`` when empty)."""
    value = number(raw, row, column, what, maximum=np.inf)
    if value is None:
        return None
    text = raw.frame[column].iloc[row]
    text = shown(text)
    if value != np.floor(value):
        if rate_hint:
            raise raw.error(row, column, f"{text} is not a whole number: it looks like a rate or percentage; {GIVE_COUNTS}")
        raise raw.error(row, column, f"{text} is not a whole number; {what}")
    if value < 0:
        raise raw.error(row, column, f"{text} is not allowed; {what}")
    if value > MAX_COUNT:
        raise raw.error(row, column, f"{text} is too large; {count_limit_text()}")
    return int(value)


def check_columns(raw: RawTable, by: Sequence[str]) -> list[str]:
    columns = list(raw.frame.columns)
    for column in columns:
        words = column.lower().replace("-", "_").replace(" ", "_").split("_")
        if column not in by and ("%" in column or any(word in words for word in _RATE_WORDS)):
            raise DataError(f"{raw.source}: column '{column}' looks like a rate; {GIVE_COUNTS}")
    missing_by = [c for c in by if c not in columns]
    if missing_by:
        raise DataError(f"{raw.source}: no column '{missing_by[0]}' (named as a stratum, --by); the columns are: {columns_text(columns)}")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise DataError(
            f"{raw.source}: no column '{missing[0]}'; a reporting file needs the columns recorded, surveyed and reported "
            f"(leave surveyed and reported empty where there is no survey); the columns are: {columns_text(columns)}"
        )
    clash = [c for c in by if c in (*REQUIRED, SOURCE, UNIT, *POPULATION_COLUMNS)]
    if clash:
        raise DataError(f"{raw.source}: column '{clash[0]}' cannot be a stratum (--by); it holds data")
    known = {*REQUIRED, SOURCE, UNIT, *POPULATION_COLUMNS, *by}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise DataError(
            f"{raw.source}: unknown column '{unknown[0]}' (the columns are recorded, surveyed, reported, and optionally "
            f"source, unit, {', '.join(POPULATION_COLUMNS)}); pass --by {unknown[0]} if it is a stratum, or remove it"
        )
    present = [c for c in POPULATION_COLUMNS if c in columns]
    if present and len(present) != len(POPULATION_COLUMNS):
        absent = [c for c in POPULATION_COLUMNS if c not in columns]
        raise DataError(
            f"{raw.source}: the population route needs all of {', '.join(POPULATION_COLUMNS)}; missing: {', '.join(absent)}"
        )
    return columns


def unit_of(raw: RawTable, unit: str | None) -> str:
    if unit is not None and unit not in UNITS:
        raise DataError(f"unknown unit '{unit}'; use one of {', '.join(UNITS)}")
    if UNIT not in raw.frame.columns:
        if unit is None:
            raise DataError(f"{raw.source}: say what is counted: --unit incidents or --unit victims (or a 'unit' column)")
        return unit
    values = raw.frame[UNIT].tolist()
    for row, value in enumerate(values):
        if value not in UNITS:
            shown = f"'{value}'" if value else "an empty value"
            raise raw.error(row, UNIT, f"{shown} is not a unit; use one of {', '.join(UNITS)}")
        if value != values[0]:
            raise raw.error(
                row, UNIT, f"'{value}' differs from '{values[0]}' on {raw.where(0)}; never mix incidents and victims in one analysis"
            )
    if unit is not None and unit != values[0]:
        raise DataError(f"{raw.source}: the file counts {values[0]} (column 'unit') but --unit says {unit}")
    return values[0]


def survey(raw: RawTable, row: int) -> tuple[int, int]:
    what = "counts must be whole numbers >= 0"
    surveyed = whole(raw, row, SURVEYED, f"{what} (how many incidents or victims the survey asked about)")
    reported = whole(raw, row, REPORTED, f"{what} (how many of them reached the source)", rate_hint=True)
    if surveyed is None and reported is None:
        return 0, 0
    if surveyed is None:
        raise raw.error(row, SURVEYED, f"the value is missing but reported is {reported}; give both or leave both empty (no survey)")
    if reported is None:
        raise raw.error(row, REPORTED, f"the value is missing but surveyed is {surveyed}; give both or leave both empty (no survey)")
    if surveyed == 0 and reported > 0:
        raise raw.error(row, REPORTED, f"{reported} reported out of 0 surveyed; with nobody surveyed, reported must be 0 or empty")
    if reported > surveyed:
        raise raw.error(row, REPORTED, f"{reported} reported out of {surveyed} surveyed; reported cannot exceed surveyed")
    return surveyed, reported

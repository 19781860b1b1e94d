"""Periods: parse, order and check the time column of a trend (years, quarters, months, whole numbers).

A period column holds one kind of period throughout:

==========  ===========================  ==================  ======================
kind        written as                   canonical label     time (in periods)
==========  ===========================  ==================  ======================
``number``  ``1``, ``2``, ``-3``         ``1``               the number
``year``    ``2019`` (4 digits)          ``2019``            the year
``quarter`` ``2019Q1``, ``2019-Q1``,     ``2019Q1``          ``4 * year + q - 1``
            ``2019 q1``
``month``   ``2019-03``, ``2019-3``,     ``2019-03``         ``12 * year + m - 1``
            ``2019/03``
==========  ===========================  ==================  ======================

Times count in periods of the column's kind, so the gap between ``2019Q4`` and ``2020Q2`` is 2
quarters; the trend model scales its steps by the gaps. A value that is none of these (such as
a decimal year, 2019.5), or a column that mixes kinds (``2019`` and ``2019Q1``), cannot be
ordered and is rejected with the file, line and column of the first offending value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hiddenrate.data.table import RawTable
from hiddenrate.core.limits import columns_text
from hiddenrate.core.exceptions import DataError

#: column names read as the period column when ``--period`` is not given, in order of preference
PERIOD_NAMES = ("period", "year", "quarter", "month")
KINDS = ("number", "year", "quarter", "month")
HOW = ("use one kind of period throughout: years (2019), quarters (2019Q1), months (2019-03) or whole "
       "numbers (1, 2, 3)")

_NUMBER = re.compile(r"^[+-]?\d+$")
_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})\s*[-/]\s*(\d{1,2})$")  # not "2019.5": that reads as a decimal year


@dataclass(frozen=True)
class Period:
    """One parsed period: its kind, canonical label and time (in periods of its kind)."""

    kind: str
    label: str
    time: int


def parse_period(text: str) -> Period | None:
    """Parse one period value; ``None`` if it is not a period.

    Examples
    --------
    >>> parse_period("2019-q3")
    Period(kind='quarter', label='2019Q3', time=8078)
    >>> parse_period("2020-3").label
    '2020-03'
    >>> parse_period("spring") is None
    True
    """
    value = str(text).strip()
    if _NUMBER.match(value):
        number = int(value)
        if len(value) == 4 and value.isdigit():
            return Period("year", str(number), number)
        return Period("number", str(number), number)
    match = _QUARTER.match(value)
    if match:
        year, quarter = int(match.group(1)), int(match.group(2))
        return Period("quarter", f"{year}Q{quarter}", 4 * year + quarter - 1)
    match = _MONTH.match(value)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return Period("month", f"{year}-{month:02d}", 12 * year + month - 1)
    return None


@dataclass(frozen=True)
class PeriodAxis:
    """The ordered periods of a data set.

    Attributes
    ----------
    column
        The period column's name.
    kind
        ``number``, ``year``, ``quarter`` or ``month``.
    labels
        Canonical labels, in time order.
    times
        Times of the periods (in periods of ``kind``), increasing.
    """

    column: str
    kind: str
    labels: tuple[str, ...]
    times: tuple[int, ...]

    def index(self, label: str) -> int:
        """Position of a period given by any spelling of it (``2019q1`` finds ``2019Q1``).

        Raises
        ------
        DataError
            If it is not one of the periods; the message lists them.
        """
        parsed = parse_period(label)
        canonical = parsed.label if parsed is not None else str(label).strip()
        if canonical not in self.labels:
            raise DataError(f"no period '{label}' in column '{self.column}'; the periods are: {', '.join(self.labels)}")
        return self.labels.index(canonical)

    @property
    def gaps(self) -> list[tuple[str, str, int]]:
        """Consecutive periods further apart than one period: ``(before, after, distance)``."""
        return [(self.labels[i], self.labels[i + 1], self.times[i + 1] - self.times[i])
                for i in range(len(self.times) - 1) if self.times[i + 1] - self.times[i] > 1]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"column": self.column, "kind": self.kind, "labels": list(self.labels), "times": list(self.times)}


def period_column(raw: RawTable, period: str | None) -> str:
    """The name of the period column: ``period`` as given, or the first of :data:`PERIOD_NAMES` present."""
    columns = list(raw.frame.columns)
    if period is not None:
        if period not in columns:
            raise DataError(f"{raw.source}: no column '{period}' (named as the period, --period); the columns are: "
                            f"{columns_text(columns)}")
        return period
    for name in PERIOD_NAMES:
        if name in columns:
            return name
    raise DataError(f"{raw.source}: no period column; add a column 'period' (years such as 2019, quarters such as "
                    f"2019Q1, months such as 2019-03, or whole numbers) or name yours with --period COLUMN; the columns "
                    f"are: {columns_text(columns)}")


def parse_periods(raw: RawTable, column: str) -> tuple[PeriodAxis, list[Period]]:
    """Parse the period of every row of ``raw`` and order the distinct periods.

    Returns
    -------
    (PeriodAxis, list of Period)
        The ordered periods, and each row's period.

    Raises
    ------
    DataError
        An empty or unparseable value, or a column mixing kinds (naming file, line and column),
        or fewer than two distinct periods.
    """
    rows: list[Period] = []
    first_of_kind: dict[str, int] = {}
    for row in range(len(raw.frame)):
        text = str(raw.frame[column].iloc[row]).strip()
        if text == "":
            raise raw.error(row, column, f"the period is missing; {HOW}")
        parsed = parse_period(text)
        if parsed is None:
            raise raw.error(row, column, f"'{text}' is not a period that can be ordered; {HOW}")
        first_of_kind.setdefault(parsed.kind, row)
        rows.append(parsed)
    kinds = set(first_of_kind)
    if kinds == {"number", "year"}:  # 4-digit and other whole numbers together: all plain numbers
        rows = [Period("number", p.label, p.time) for p in rows]
        kinds = {"number"}
        first_of_kind = {"number": 0}
    if len(kinds) > 1:
        ordered = sorted(first_of_kind.items(), key=lambda item: item[1])
        (kind_a, row_a), (kind_b, row_b) = ordered[0], ordered[1]
        raise raw.error(
            row_b, column,
            f"'{raw.frame[column].iloc[row_b]}' is a {kind_b} but '{raw.frame[column].iloc[row_a]}' on "
            f"{raw.where(row_a)} is a {kind_a}: periods of different kinds cannot be ordered; {HOW}",
        )
    by_time: dict[int, str] = {}
    for period in rows:
        by_time.setdefault(period.time, period.label)
    if len(by_time) < 2:
        only = next(iter(by_time.values()))
        raise DataError(f"{raw.source}: column '{column}' has one period only ({only}); a trend needs at least two "
                        "periods (for one period use `hiddenrate reporting` or `hiddenrate lists`)")
    times = sorted(by_time)
    axis = PeriodAxis(column=column, kind=next(iter(kinds)), labels=tuple(by_time[t] for t in times), times=tuple(times))
    return axis, rows


def check_unique(raw: RawTable, column: str, periods: Sequence[Period], keys: Sequence[tuple[str, ...]],
                 describe: Sequence[str]) -> None:
    """Reject a period given twice for the same stratum (``keys[i]``: row ``i``'s stratum and source).

    ``describe[i]`` names the stratum of row ``i`` in the message (``area=North``, or empty).
    """
    seen: dict[tuple[tuple[str, ...], int], int] = {}
    for row, (key, period) in enumerate(zip(keys, periods, strict=True)):
        first = seen.setdefault((tuple(key), period.time), row)
        if first != row:
            where = f" for {describe[row]}" if describe[row] else ""
            raise raw.error(row, column, f"period {period.label} appears twice{where} (first on {raw.where(first)}); "
                                         "give each period once per stratum")


def times_array(axis: PeriodAxis) -> np.ndarray:
    """The period times as floats, starting at 0 (the model only uses their differences)."""
    times = np.asarray(axis.times, dtype=float)
    return times - times[0]


__all__ = ["HOW", "KINDS", "PERIOD_NAMES", "Period", "PeriodAxis", "check_unique", "parse_period", "parse_periods",
           "period_column", "times_array"]

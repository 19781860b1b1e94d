"""Reporting data over periods: the input of the trend model, as series x periods arrays.

The file is a ``hiddenrate reporting`` file with a period column (see
:mod:`hiddenrate.data.periods`): one row per period (and per stratum of the ``--by`` columns),
with ``recorded`` and the survey's ``surveyed`` and ``reported`` (empty where a period had no
survey). Every count is validated by :func:`hiddenrate.data.reporting.read_reporting`; this
module adds the period checks and arranges the counts by series (combinations of the other
stratum columns) and period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.data.periods import Period, PeriodAxis, check_unique, parse_periods, period_column
from hiddenrate.data.reporting import ReportingData, read_reporting
from hiddenrate.data.reporting_columns import REQUIRED, SOURCE
from hiddenrate.data.table import RawTable, read_table
from hiddenrate.core.limits import columns_text
from hiddenrate.core.exceptions import DataError, ModelError


@dataclass(frozen=True)
class TrendData:
    """Recorded counts and surveys by series and period.

    Attributes
    ----------
    axis
        The ordered periods.
    series
        One dict of stratum values per series (``[{}]`` without ``--by``).
    recorded, surveyed, reported
        int arrays of shape (series, periods); ``surveyed = 0``: no survey that period.
    reporting
        The validated reporting data (strata = series x periods), for the input summary.
    """

    axis: PeriodAxis
    series: tuple[dict[str, str], ...]
    recorded: np.ndarray
    surveyed: np.ndarray
    reported: np.ndarray
    reporting: ReportingData

    @property
    def by(self) -> tuple[str, ...]:
        """The stratum columns other than the period."""
        return tuple(c for c in self.reporting.by if c != self.axis.column)

    @property
    def shape(self) -> tuple[int, int]:
        """(series, periods)."""
        return (len(self.series), len(self.axis.labels))

    def series_label(self, index: int) -> str:
        """``area=North``; ``all`` for a single unstratified series."""
        return ", ".join(f"{k}={v}" for k, v in self.series[index].items()) or "all"

    def stratum(self, series: int, period: int) -> dict[str, str]:
        """The stratum dict of one cell: the series' values and the period."""
        return {**self.series[series], self.axis.column: self.axis.labels[period]}


def is_reporting_input(source: str | Path | pd.DataFrame, name: str | None = None) -> bool:
    """True when the input has a column of reporting data (``recorded``, ``surveyed`` or
    ``reported``), False for lists; a reporting file missing one of them is then refused by
    :func:`read_trend` naming the missing column, not misread as lists."""
    return any(column in read_table(source, name=name).frame.columns for column in REQUIRED)


def read_trend(
    source: str | Path | pd.DataFrame,
    *,
    period: str | None = None,
    by: Sequence[str] = (),
    unit: str | None = None,
    name: str | None = None,
) -> TrendData:
    """Read reporting data with a period column.

    Parameters
    ----------
    source
        CSV path or DataFrame: ``recorded``, ``surveyed``, ``reported``, a period column, and
        optionally ``unit`` and stratum columns.
    period
        The period column (default: the first of ``period``, ``year``, ``quarter``, ``month``).
    by
        Further stratum columns: one series per combination, each over the same periods.
    unit, name
        ``incidents`` or ``victims``; how to name the source in messages.

    Raises
    ------
    DataError
        Unorderable or missing periods, a period given twice in a stratum, a single period, a
        series without a row for some period, or any error of
        :func:`~hiddenrate.data.reporting.read_reporting`.
    ModelError
        Several sources or a population route (not part of the trend model yet).
    """
    raw = read_table(source, name=name)
    column = period_column(raw, period)
    by = tuple(b for b in by if b != column)
    axis, periods = parse_periods(raw, column)
    _check_duplicates(raw, column, periods, by)
    data = read_reporting(source, by=(*by, column), unit=unit, name=raw.source)
    if data.multi_source:
        raise ModelError("the trend model takes one source (one recorded count and survey per period); give one "
                         "source per file, or fit each source with `hiddenrate reporting` per period")
    if data.has_population:
        raise ModelError("the trend model does not use the population route yet; drop the population columns")
    series: list[dict[str, str]] = []
    cells: dict[tuple[int, int], Any] = {}
    for stratum in data.strata:
        key = {b: stratum.stratum[b] for b in by}
        if key not in series:
            series.append(key)
        # axis.index reads any spelling of a period (2019q1 is 2019Q1); duplicates were rejected above
        cells[(series.index(key), axis.index(stratum.stratum[column]))] = stratum.sources[0]
    shape = (len(series), len(axis.labels))
    for g in range(shape[0]):
        for t in range(shape[1]):
            if (g, t) not in cells:
                what = ", ".join(f"{k}={v}" for k, v in series[g].items())
                raise DataError(f"{raw.source}: {'stratum ' + what if what else 'the file'} has no row for period "
                                f"{axis.labels[t]}; give every stratum a row for every period (leave surveyed and "
                                "reported empty where there was no survey)")
    recorded, surveyed, reported = (np.array([[getattr(cells[(g, t)], field) for t in range(shape[1])]
                                              for g in range(shape[0])], dtype=np.int64)
                                    for field in ("recorded", "surveyed", "reported"))
    return TrendData(axis=axis, series=tuple(series), recorded=recorded, surveyed=surveyed, reported=reported,
                     reporting=data)


def _check_duplicates(raw: RawTable, column: str, periods: list[Period], by: Sequence[str]) -> None:
    for b in by:
        if b not in raw.frame.columns:
            raise DataError(f"{raw.source}: no column '{b}' (named as a stratum, --by); the columns are: "
                            f"{columns_text(raw.frame.columns)}")
    has_source = SOURCE in raw.frame.columns
    keys, describe = [], []
    for row in range(len(raw.frame)):
        values = tuple(str(raw.frame[b].iloc[row]) for b in by)
        source = str(raw.frame[SOURCE].iloc[row]) if has_source else ""
        keys.append((*values, source))
        parts = [f"{b}={v}" for b, v in zip(by, values, strict=True)] + ([f"source {source}"] if has_source else [])
        describe.append(", ".join(parts))
    check_unique(raw, column, periods, keys, describe)


__all__ = ["TrendData", "is_reporting_input", "read_trend"]

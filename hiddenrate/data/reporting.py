"""Recorded counts and reporting surveys: validated, immutable containers and their reader.

The input has one row per stratum (any columns named with ``--by``: area, crime type, period)
and, when several sources record the same population, per source:

``recorded``
    Incidents (or victims) in the source's records, e.g. police-recorded crimes. May be 0.
``surveyed``, ``reported``
    A survey of the population: of ``surveyed`` incidents (or victims) asked about,
    ``reported`` reached the source. Both empty (or both 0) when the stratum has no survey of
    its own; the pooled model then borrows the rate from the other strata.
``source`` (optional)
    Which count/survey pair a row belongs to (``police``, ``ngo``); rows of one stratum with
    different sources are several multipliers for the same population.
``unit`` (optional)
    ``incidents`` or ``victims``; the same on every row. ``--unit`` says it otherwise.
``population_low``, ``population_high``, ``victimized``, ``respondents`` (optional, together)
    The population route: a 95% interval for the number of people in the population (e.g.
    sex workers, from a mapping study) and a victimisation survey (``victimized`` of
    ``respondents`` experienced the crime in the period). Counts victims, never incidents.

Counts must be counts. A rate or percentage where a count is expected (``27.4`` or ``0.274``
in ``reported``, a column called ``rate`` or ``percent``) is rejected with "give counts:
reported out of surveyed": the sampling error of a survey depends on how many were asked,
which a rate hides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hiddenrate.data.reporting_columns import (
    DEFAULT_SOURCE,
    POP_HIGH,
    POP_LOW,
    POPULATION_COLUMNS,
    POPULATION_LEVEL,
    RECORDED,
    RESPONDENTS,
    SOURCE,
    UNITS,
    VICTIMIZED,
    check_columns,
    number,
    survey,
    unit_of,
    whole,
)
from hiddenrate.data.table import RawTable, read_table
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_COUNT, MAX_POPULATION, count_limit_text

@dataclass(frozen=True)
class SourceCounts:
    """One source's recorded count and the survey of how often incidents reach it.

    ``surveyed = 0`` (and ``reported = 0``) means no survey for this source in this stratum.
    """

    source: str
    recorded: int
    surveyed: int = 0
    reported: int = 0

    def __post_init__(self) -> None:
        for name in ("recorded", "surveyed", "reported"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(value) or int(value) != value or value < 0:
                raise DataError(f"source '{self.source}': {name} = {value}; counts must be whole numbers >= 0")
            if value > MAX_COUNT:
                raise DataError(f"source '{self.source}': {name} = {value:.6g}; {count_limit_text()}")
            object.__setattr__(self, name, int(value))
        if self.reported > self.surveyed:
            raise DataError(
                f"source '{self.source}': {self.reported} reported out of {self.surveyed} surveyed; "
                "reported cannot exceed surveyed"
            )

    @property
    def has_survey(self) -> bool:
        """True when the stratum has its own survey for this source."""
        return self.surveyed > 0


@dataclass(frozen=True)
class PopulationRoute:
    """Population size (an interval) x victimisation prevalence (``victimized`` of ``respondents``)."""

    low: float
    high: float
    victimized: int
    respondents: int
    level: float = POPULATION_LEVEL

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or self.low <= 0:
            raise DataError(f"population interval [{self.low}, {self.high}]: the ends must be numbers > 0")
        if self.high > MAX_POPULATION:
            raise DataError(f"population interval: {self.high:.6g} is too large; population sizes must be at most "
                            f"{MAX_POPULATION:,} (10^10)")
        if self.low > self.high:
            raise DataError(f"population interval: the lower end {self.low:g} is above the upper end {self.high:g}")
        for value in (self.victimized, self.respondents):
            if not np.isfinite(value) or int(value) != value or value < 0:
                raise DataError("victimisation survey: victimized and respondents must be whole numbers >= 0")
            if value > MAX_COUNT:
                raise DataError(f"victimisation survey: {value:.6g} is too large; {count_limit_text()}")
        if self.respondents <= 0:
            raise DataError("victimisation survey: respondents must be > 0 (how many were asked)")
        if self.victimized > self.respondents:
            raise DataError(
                f"victimisation survey: {self.victimized} victimized out of {self.respondents} respondents; "
                "victimized cannot exceed respondents"
            )
        object.__setattr__(self, "victimized", int(self.victimized))
        object.__setattr__(self, "respondents", int(self.respondents))


@dataclass(frozen=True)
class ReportingStratum:
    """The data of one stratum: one or more sources and an optional population route."""

    sources: tuple[SourceCounts, ...]
    stratum: dict[str, str] = field(default_factory=dict)
    population: PopulationRoute | None = None

    def __post_init__(self) -> None:
        if not self.sources:
            raise DataError(f"stratum {self.label()}: needs at least one recorded count")
        names = [s.source for s in self.sources]
        if len(set(names)) != len(names):
            raise DataError(f"stratum {self.label()}: a source appears twice ({', '.join(names)})")

    def label(self) -> str:
        """``area=North, crime=assault``; ``all`` when unstratified."""
        return ", ".join(f"{k}={v}" for k, v in self.stratum.items()) if self.stratum else "all"

    @property
    def recorded(self) -> int:
        """The largest source's count: records are not matched across sources, so this many
        distinct incidents (or victims) at least were recorded."""
        return max(s.recorded for s in self.sources)


@dataclass(frozen=True)
class ReportingData:
    """Recorded counts and reporting surveys, one :class:`ReportingStratum` per stratum.

    Attributes
    ----------
    strata
        In order of first appearance.
    unit
        ``incidents`` or ``victims``.
    by
        Stratum columns (empty when unstratified).
    source_names
        The sources, in order of first appearance (the first is the *primary* source whose
        reporting rate is reported as ``reporting_rate``).
    source, sha256, notes
        File name (or ``DataFrame``), hash of its bytes, and what the reader did that a user
        should know.
    """

    strata: tuple[ReportingStratum, ...]
    unit: str
    by: tuple[str, ...] = ()
    source_names: tuple[str, ...] = (DEFAULT_SOURCE,)
    source: str = "DataFrame"
    sha256: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise DataError(f"unknown unit '{self.unit}'; use one of {', '.join(UNITS)}")
        if not self.strata:
            raise DataError(f"{self.source}: no data rows")
        if self.unit == "incidents" and any(s.population is not None for s in self.strata):
            raise DataError(population_needs_victims(self.source))

    @property
    def stratified(self) -> bool:
        """True when there is more than one stratum or ``by`` columns were given."""
        return bool(self.by) or len(self.strata) > 1

    @property
    def multi_source(self) -> bool:
        """True when some stratum has several sources."""
        return any(len(s.sources) > 1 for s in self.strata)

    @property
    def has_population(self) -> bool:
        """True when some stratum has a population route."""
        return any(s.population is not None for s in self.strata)

    @property
    def recorded(self) -> int:
        """Sum over strata of each stratum's recorded count."""
        return sum(s.recorded for s in self.strata)


def population_needs_victims(source: str) -> str:
    """The message when the population route is asked for with ``--unit incidents``."""
    return (
        f"{source}: the population route (population size x share victimized) counts victims, not incidents; "
        "use --unit victims with a reporting survey that counts victims (people who reported), or drop the "
        "population columns"
    )


def _population(raw: RawTable, row: int) -> PopulationRoute | None:
    if POP_LOW not in raw.frame.columns:
        return None
    cells = {c: raw.frame[c].iloc[row] for c in POPULATION_COLUMNS}
    if all(v == "" for v in cells.values()):
        return None
    empty = [c for c, v in cells.items() if v == ""]
    if empty:
        raise raw.error(row, empty[0], f"the value is missing; the population route needs all of {', '.join(POPULATION_COLUMNS)}")
    size_what = "the population interval ends are numbers of people > 0"
    low = number(raw, row, POP_LOW, size_what)
    high = number(raw, row, POP_HIGH, size_what)
    if low is None or high is None:  # pragma: no cover - empty cells were rejected above
        return None
    for column, value in ((POP_LOW, low), (POP_HIGH, high)):
        if value <= 0:
            raise raw.error(row, column, f"{raw.frame[column].iloc[row]} is not allowed; {size_what}")
    if low > high:
        raise raw.error(row, POP_LOW, f"the population interval is reversed: lower {low:g} > upper {high:g}")
    count_what = "counts must be whole numbers >= 0 (people in the victimisation survey)"
    victimized = whole(raw, row, VICTIMIZED, count_what, rate_hint=True)
    respondents = whole(raw, row, RESPONDENTS, count_what)
    if victimized is None or respondents is None:  # pragma: no cover
        return None
    if respondents == 0:
        raise raw.error(row, RESPONDENTS, "0 respondents; the population route needs a victimisation survey (respondents > 0)")
    if victimized > respondents:
        raise raw.error(row, VICTIMIZED, f"{victimized} victimized out of {respondents} respondents; victimized cannot exceed respondents")
    return PopulationRoute(low=low, high=high, victimized=victimized, respondents=respondents)


def read_reporting(
    source: str | Path | pd.DataFrame,
    by: Sequence[str] = (),
    unit: str | None = None,
    *,
    name: str | None = None,
    population: tuple[float, float] | None = None,
    prevalence: tuple[int, int] | None = None,
) -> ReportingData:
    """Read recorded counts and reporting surveys (see the module docstring for the columns).

    Parameters
    ----------
    source
        CSV path or DataFrame.
    by
        Stratum columns; one stratum per distinct combination of their values.
    unit
        ``incidents`` or ``victims``; required unless the data have a ``unit`` column (and
        then it must agree with it).
    name
        How to name the source in messages.
    population, prevalence
        The population route for unstratified data, instead of the population columns:
        ``population=(low, high)`` (a 95% interval for the population size) and
        ``prevalence=(victimized, respondents)``.

    Returns
    -------
    ReportingData

    Raises
    ------
    DataError
        One message naming the file, line and column: missing or unknown columns, a rate
        where a count is expected, negative, fractional or non-numeric counts, reported >
        surveyed, reported > 0 of 0 surveyed, a reversed population interval, mixed units,
        a stratum and source given twice.

    Examples
    --------
    >>> frame = pd.DataFrame({"recorded": [100], "surveyed": [711], "reported": [195]})
    >>> read_reporting(frame, unit="incidents").strata[0].sources[0].reported
    195
    """
    raw = read_table(source, name=name)
    by = tuple(by)
    check_columns(raw, by)
    the_unit = unit_of(raw, unit)
    groups: dict[tuple[str, ...], list[int]] = {}
    for row in range(len(raw.frame)):
        for column in by:
            if raw.frame[column].iloc[row] == "":
                raise raw.error(row, column, "the stratum value is missing; fill it in or drop the row")
        groups.setdefault(tuple(raw.frame[c].iloc[row] for c in by), []).append(row)
    names: list[str] = []
    strata = [_read_stratum(raw, dict(zip(by, key, strict=True)), rows, names) for key, rows in groups.items()]
    if population is not None or prevalence is not None:
        strata = [_with_cli_population(raw.source, strata, population, prevalence)]
    data = ReportingData(
        strata=tuple(strata),
        unit=the_unit,
        by=by,
        source_names=tuple(names),
        source=raw.source,
        sha256=raw.sha256,
    )
    return data


def _read_stratum(raw: RawTable, stratum: dict[str, str], rows: list[int], names: list[str]) -> ReportingStratum:
    """One stratum's rows: its sources' counts and surveys and its population route (given once).

    Appends source names not seen before to ``names`` (the order of first appearance in the file).
    """
    has_source = SOURCE in raw.frame.columns
    sources: list[SourceCounts] = []
    seen: dict[str, int] = {}
    route: PopulationRoute | None = None
    route_row: int | None = None
    for row in rows:
        name_here = raw.frame[SOURCE].iloc[row] if has_source else DEFAULT_SOURCE
        if has_source and name_here == "":
            raise raw.error(row, SOURCE, "the source name is missing (e.g. police, ngo)")
        if name_here in seen:
            raise raw.error(row, None, _repeated_row(raw, stratum, name_here, seen[name_here], has_source))
        seen[name_here] = row
        recorded = whole(raw, row, RECORDED, "counts must be whole numbers >= 0 (incidents or victims in the records)")
        if recorded is None:
            raise raw.error(row, RECORDED, "the value is missing; give the recorded count (0 if none)")
        surveyed, reported = survey(raw, row)
        sources.append(SourceCounts(name_here, recorded, surveyed, reported))
        if name_here not in names:
            names.append(name_here)
        here = _population(raw, row)
        if here is not None:
            if route is not None and here != route:
                raise raw.error(row, POP_LOW, f"the population route differs from {raw.where(route_row or 0)} of the same stratum; give it once")
            route, route_row = here, row
    return ReportingStratum(sources=tuple(sources), stratum=stratum, population=route)


def _repeated_row(raw: RawTable, stratum: dict[str, str], name_here: str, first_row: int, has_source: bool) -> str:
    """The message for a second row of the same source (or stratum) as ``first_row``."""
    where = f" in stratum {', '.join(f'{k}={v}' for k, v in stratum.items())}" if stratum else ""
    first = raw.where(first_row)
    if has_source:
        return f"source '{name_here}'{where} already appears on {first}; give each source once per stratum"
    if stratum:
        return f"a second row for stratum {where[12:]} (the first is on {first}); give each stratum once"
    return (f"a second row (the first is on {first}); without --by the file holds one stratum: pass --by "
            "for the columns that name strata, or a 'source' column for several sources")


def _with_cli_population(
    source: str,
    strata: list[ReportingStratum],
    population: tuple[float, float] | None,
    prevalence: tuple[int, int] | None,
) -> ReportingStratum:
    if population is None or prevalence is None:
        raise DataError("the population route needs both --population LOW,HIGH and --prevalence K/M")
    if len(strata) != 1:
        raise DataError(
            f"{source}: --population and --prevalence apply to unstratified data; for strata give the columns "
            f"{', '.join(POPULATION_COLUMNS)} on each stratum's row"
        )
    if strata[0].population is not None:
        raise DataError(f"{source}: the file already has population columns; drop --population/--prevalence")
    route = PopulationRoute(low=float(population[0]), high=float(population[1]), victimized=prevalence[0], respondents=prevalence[1])
    return ReportingStratum(sources=strata[0].sources, stratum=strata[0].stratum, population=route)


__all__ = [
    "DEFAULT_SOURCE",
    "POPULATION_COLUMNS",
    "POPULATION_LEVEL",
    "UNITS",
    "PopulationRoute",
    "ReportingData",
    "ReportingStratum",
    "SourceCounts",
    "read_reporting",
]

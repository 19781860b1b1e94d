r"""The same claim under each row of a result's sensitivity tables (another prior weight, other models).

A claim's verdict rests on the fitted model and its priors. A report already shows what other
models and another prior weight :math:`\delta` say (the sensitivity tables); this module checks
the claim against each of those rows, so that a verdict which holds only under the chosen
assumptions says so (UK 2013: 15,000 or more is "unlikely" at :math:`\delta = 2^{-6}`, "extremely
unlikely" at :math:`\delta = 1`).

A row keeps its median and its equal-tailed interval at every report level (50%, 80%, 90%,
95%, 99%), that is eleven quantiles :math:`q_a` of its distribution of :math:`N` with
:math:`a \in \{0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.995\}`. A claimed
value :math:`c` with :math:`q_a \le c \le q_b` has :math:`a \le P(N \le c) \le b`, so the
probability that "at least :math:`c`" holds lies in :math:`[1 - b, 1 - a]` (beyond the last
quantile: :math:`[0, 0.005]`). That bracket is exact, needs no refit and works on results saved
before this module; it decides the verdict band except where the bracket straddles a band's
edge (then both bands are named). For a row that is not a posterior (maximum likelihood with a
profile interval, a BCa bootstrap), the same numbers are confidence levels, not probabilities:
the row says where the claim lies against its intervals, and its "band" is used only to see
whether it agrees with the verdict.

Rows are read from the tables whose title names a sensitivity (``Model sensitivity...``,
``Sensitivity to the prior weight delta``); a row identical to the reported estimate (the fit
itself), a range of estimates and a row without an estimate are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from hiddenrate.core.exceptions import HiddenrateError
from hiddenrate.result.value import Result

#: strict and non-strict directions: at least / more than count the upper tail, at most / fewer than the lower
UPPER = ("at least", "more than")


@dataclass(frozen=True)
class RowClaim:
    """The claim under one row of a sensitivity table.

    Attributes
    ----------
    table, row
        The table's title and the row's label (``delta = 1``, ``independence (log-linear)``).
    posterior
        True when the row is a posterior (its bracket is a probability), False for a confidence interval.
    low, high
        The probability that the claim holds lies in ``[low, high]`` (confidence levels when not a posterior).
    verdicts
        The verdict bands that bracket reaches (one, or two when it straddles a band's edge).
    agrees
        True when the claim's own verdict is among ``verdicts``.
    median, level, interval
        The row's median, and the widest of its intervals that leaves the claim outside (or
        the narrowest, when every interval holds it).
    position
        ``below``, ``inside`` or ``above`` that interval.
    """

    table: str
    row: str
    posterior: bool
    low: float
    high: float
    verdicts: tuple[str, ...]
    agrees: bool
    median: float | None
    level: float
    interval: tuple[float | None, float | None]
    position: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"table": self.table, "row": self.row, "posterior": self.posterior, "low": self.low, "high": self.high,
                "verdicts": list(self.verdicts), "agrees": self.agrees, "median": self.median, "level": self.level,
                "interval": list(self.interval), "position": self.position}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RowClaim:
        """Inverse of :meth:`to_dict`."""
        interval = data.get("interval") or (None, None)
        return cls(str(data["table"]), str(data["row"]), bool(data["posterior"]), float(data["low"]),
                   float(data["high"]), tuple(data.get("verdicts", ())), bool(data["agrees"]), data.get("median"),
                   float(data["level"]), (interval[0], interval[1]), str(data["position"]))


def sensitivity_tables(result: Result) -> list[Mapping[str, Any]]:
    """The stored tables whose rows are the same estimate under other assumptions."""
    return [t for t in result.model_tables() if t.get("key") == "sensitivity" or "sensitivity" in str(t.get("title", "")).lower()]


def _quantiles(cell: Mapping[str, Any]) -> list[tuple[float, float]]:
    """``(value, probability below it)`` from an interval cell's median and equal-tailed ends, sorted."""
    points: dict[float, float] = {}
    if cell.get("median") is not None:
        points[0.5] = float(cell["median"])
    for key, ends in (cell.get("intervals") or {}).items():
        level = float(key)
        if ends and ends[0] is not None:
            points[(1 - level) / 2] = float(ends[0])
        if ends and len(ends) > 1 and ends[1] is not None:
            points[(1 + level) / 2] = float(ends[1])
    return sorted(((value, p) for p, value in points.items()), key=lambda x: (x[1], x[0]))


def bracket(cell: Mapping[str, Any], value: float, direction: str) -> tuple[float, float] | None:
    """The range ``[low, high]`` of the probability that the claim holds under one row, or None
    when the row has no interval to read (see the module docstring)."""
    if cell.get("median") is None:  # a range of estimates, not a distribution
        return None
    points = _quantiles(cell)
    if len(points) < 2 or any(b[0] < a[0] for a, b in pairwise(points)):
        return None  # no quantiles, or ends that are not quantiles (a range of estimates)
    # q_a = value means P(N <= value) >= a and P(N < value) <= a
    at_or_below = (max((p for q, p in points if q <= value), default=0.0), min((p for q, p in points if q > value), default=1.0))
    below = (max((p for q, p in points if q < value), default=0.0), min((p for q, p in points if q >= value), default=1.0))
    low, high = {"at most": at_or_below, "fewer than": below}.get(direction, (0.0, 0.0))
    if direction == "at least":
        low, high = 1.0 - below[1], 1.0 - below[0]
    elif direction == "more than":
        low, high = 1.0 - at_or_below[1], 1.0 - at_or_below[0]
    return round(low, 12), round(high, 12)


def _where(cell: Mapping[str, Any], value: float) -> tuple[float, tuple[float | None, float | None], str]:
    """The widest stored interval that leaves ``value`` outside (else the narrowest, which holds it), and
    where ``value`` lies against it."""
    intervals = sorted(((float(k), (e[0], e[1])) for k, e in (cell.get("intervals") or {}).items()), key=lambda x: -x[0])
    for level, (lower, upper) in intervals:
        if lower is not None and value < lower:
            return level, (lower, upper), "below"
        if upper is not None and value > upper:
            return level, (lower, upper), "above"
    level, ends = intervals[-1]
    return level, ends, "inside"


def _row_label(columns: Sequence[Any], row: Sequence[Any]) -> str:
    first = columns[0] if columns else {}
    if isinstance(first, Mapping) and first.get("kind") == "number" and isinstance(row[0], (int, float)):
        return f"{first.get('label', '')} = {row[0]:g}"
    return str(row[0])


def _same(cell: Mapping[str, Any], result: Result) -> bool:
    """True when a row is the reported estimate itself (same median and interval at the headline level)."""
    total = result.overall.total
    if total is None or cell.get("median") is None:
        return False
    ends = next((e for k, e in (cell.get("intervals") or {}).items() if abs(float(k) - 0.95) < 1e-9), None)
    try:
        reported = total.interval(0.95, "equal-tailed")
    except HiddenrateError:  # a maximum-likelihood fit without a 95% interval
        return False
    return bool(abs(float(cell["median"]) - float(total.median() or 0)) < 1e-9 and ends is not None
                and list(ends) == [None if x is None else float(x) for x in reported])


def row_claims(result: Result, value: float, direction: str, verdict_of: Any, main: Sequence[str]) -> list[RowClaim]:
    """The claim under every usable row of the sensitivity tables; ``verdict_of`` maps a probability to
    its band's words, and ``main`` holds the claim's own verdict band(s) (to mark agreement)."""
    out: list[RowClaim] = []
    for table in sensitivity_tables(result):
        columns = table.get("columns", [])
        for row in table.get("rows", []):
            cell = next((c for c in row if isinstance(c, Mapping) and "intervals" in c), None)
            if cell is None or not row or _same(cell, result):
                continue
            found = bracket(cell, value, direction)
            if found is None:
                continue
            low, high = found
            verdicts = tuple(dict.fromkeys((verdict_of(low), verdict_of(high))))
            text = " ".join(str(c) for c in row if isinstance(c, str)).lower()
            posterior = "prior weight" in str(table.get("title", "")).lower() or "posterior" in text
            level, interval, position = _where(cell, value)
            out.append(RowClaim(str(table.get("title", "")), _row_label(columns, row), posterior, low, high, verdicts,
                                bool(set(verdicts) & set(main)), cell.get("median"), level, interval, position))
    return out


__all__ = ["RowClaim", "bracket", "row_claims", "sensitivity_tables"]

"""A model table as numbers: what a model reports beside its estimate, before any wording.

Models build a :class:`Table` at fit time and store its :meth:`Table.to_dict` form (plain
JSON) in ``details["tables"]`` or ``extra["tables"]``, so it is saved with the result. An
interval column's cell holds the numbers at every level a report may ask for,
``{"median": m, "intervals": {"0.8": [lo, hi], "0.95": [lo, hi]}}``; labels and notes carry a
``{level}`` placeholder instead of a level. The renderers (:mod:`hiddenrate.render.tables`)
choose the level, fill the placeholder, round and write the words. A table saved by an older
version (``columns`` as strings, cells already at one level) still reads: its columns are plain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hiddenrate.core.distributions import format_level
from hiddenrate.core.settings import REPORT_LEVELS

#: what one value of a column is (the renderer rounds by it; suppression hides small counts)
KINDS = ("text", "count", "number", "probability", "share")
#: how an interval column is laid out: ``split`` = estimate, lower and upper columns;
#: ``inline`` = one cell ``m (lo to hi)``
LAYOUTS = ("split", "inline")


def report_levels(levels: Iterable[float]) -> tuple[float, ...]:
    """The fit's levels united with :data:`REPORT_LEVELS`, sorted: the levels a table carries."""
    return tuple(sorted({round(float(x), 12) for x in (*levels, *REPORT_LEVELS)}))


def interval_cell(median: float | None, ends: Callable[[float], Sequence[float | None]],
                  levels: Iterable[float]) -> dict[str, Any]:
    """``{"median", "intervals"}`` with ``ends(level)`` (lower, upper) at every level."""
    intervals = {}
    for level in levels:
        lower, upper = ends(level)
        intervals[format_level(level)] = [_float(lower), _float(upper)]
    return {"median": _float(median), "intervals": intervals}


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


@dataclass(frozen=True)
class Column:
    """One column: ``label`` (may hold ``{level}``), the ``kind`` of value, and for an interval
    column its ``layout`` (``split`` or ``inline``) and the labels of its two ends."""

    label: str
    kind: str = "text"
    layout: str | None = None
    ends: tuple[str, str] = ("{level} lower", "{level} upper")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "kind": self.kind}
        if self.layout is not None:
            out["layout"] = self.layout
            out["ends"] = list(self.ends)
        return out

    @classmethod
    def from_dict(cls, value: Any) -> Column:
        """A column from :meth:`to_dict`, or from a plain label (an old saved table)."""
        if not isinstance(value, Mapping):
            return cls(str(value))
        ends = value.get("ends") or ("{level} lower", "{level} upper")
        return cls(str(value.get("label", "")), str(value.get("kind", "text")), value.get("layout"),
                   (str(ends[0]), str(ends[1])))


@dataclass(frozen=True)
class Table:
    """A model table: ``title``, ``columns``, ``rows`` of raw values (interval cells as
    :func:`interval_cell`), and a ``note`` without level-specific numbers (``{level}`` is
    filled by the renderer). ``key`` names a table whose words a renderer adds (``changes``);
    ``facts`` holds what those words need beyond the cells: for a table of models of lists,
    ``facts["models"]`` is one model structure a row (:mod:`hiddenrate.render.model_words`)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""
    key: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``details["tables"]`` (and saved with the result)."""
        out: dict[str, Any] = {"title": self.title, "columns": [c.to_dict() for c in self.columns],
                               "rows": [list(r) for r in self.rows], "note": self.note}
        if self.key:
            out["key"] = self.key
        if self.facts:
            out["facts"] = dict(self.facts)
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Table:
        """A table from :meth:`to_dict`, or from the ``{"title", "columns", "rows", "note"}``
        dict of strings that older versions saved (then every column is plain)."""
        return cls(str(value.get("title", "")), tuple(Column.from_dict(c) for c in value.get("columns", [])),
                   tuple(tuple(r) for r in value.get("rows", [])), str(value.get("note") or ""),
                   str(value.get("key") or ""), dict(value.get("facts") or {}))


def build(title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], note: str = "", key: str = "",
          facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stored (dict) form of a new table, as models put it in ``details["tables"]``."""
    return Table(title, tuple(columns), tuple(tuple(r) for r in rows), note, key, dict(facts or {})).to_dict()


def is_table(value: Any) -> bool:
    """True for a stored table (either shape)."""
    return isinstance(value, Mapping) and "columns" in value and "rows" in value


__all__ = ["KINDS", "LAYOUTS", "Column", "Table", "build", "interval_cell", "is_table", "report_levels"]

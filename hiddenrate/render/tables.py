"""Model tables in words: the level chosen, the column labels built, interval cells read out.

A stored :class:`~hiddenrate.result.table.Table` holds numbers at several levels; the report
shows one, :func:`report_level` (the level asked for with ``report --level``, else the
headline level). :func:`lay_out` gives the labels and the cells at that level, raw numbers or
(for an ``inline`` interval column) the ``m (lo to hi)`` text, and the note with the level
filled in. A level the table does not hold is said plainly in the note, never guessed. A table
whose rows are models (``facts["models"]``) gets each model in words
(:mod:`hiddenrate.render.model_words`) beside its notation: :func:`with_words` adds the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hiddenrate.core.settings import headline_level
from hiddenrate.render import numbers as fmt
from hiddenrate.render.model_words import row_words
from hiddenrate.result.table import Column, Table
from hiddenrate.result.value import Result


@dataclass(frozen=True)
class LaidOut:
    """A table ready to print: labels, rows of raw values or text, the note (may be empty), and each
    row's model in words (None for a row that is no model; empty for a table of no models)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str
    words: list[str | None] = field(default_factory=list)


#: the label of the column that :func:`with_words` adds
WORDS_COLUMN = "in words"


def with_words(table: LaidOut) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows of ``table`` with each model's words in a column after the first (the
    model's notation); unchanged when no row has words."""
    if not any(table.words):
        return list(table.columns), [list(row) for row in table.rows]
    columns = [*table.columns[:1], WORDS_COLUMN, *table.columns[1:]]
    rows = [[*row[:1], words or "", *row[1:]] for row, words in zip(table.rows, table.words, strict=True)]
    return columns, rows


def report_level(result: Result) -> float:
    """The level every table of the report is shown at (the headline level of ``result.levels``)."""
    return headline_level(result.levels)


def ends_at(cell: Any, level: float) -> tuple[Any, Any] | None:
    """The (lower, upper) ends of an interval cell at ``level``; None when not computed there."""
    intervals = cell.get("intervals", {}) if isinstance(cell, Mapping) else {}
    for key, ends in intervals.items():
        if abs(float(key) - level) < 1e-9:
            return ends[0], ends[1]
    return None


def _inline(cell: Any, level: float) -> Any:
    if not isinstance(cell, Mapping):
        return cell
    ends = ends_at(cell, level)
    if ends is None:
        return f"{fmt.number(cell.get('median'))} (not computed)"
    lower, upper = ends
    return f"{fmt.number(cell.get('median'))} ({fmt.number(lower)} to {fmt.number(upper) if upper is not None else '∞'})"


def _labels(column: Column, tag: str) -> list[str]:
    labels = [column.label] if column.layout != "split" else [column.label, *column.ends]
    return [label.replace("{level}", tag) for label in labels]


def _cells(column: Column, cell: Any, level: float) -> tuple[list[Any], bool]:
    """The printed cells of one value, and whether its level was missing."""
    if column.layout == "split":
        if not isinstance(cell, Mapping):
            return [cell, None, None], False
        ends = ends_at(cell, level)
        return [cell.get("median"), *(ends if ends is not None else (None, None))], ends is None
    if column.layout == "inline":
        return [_inline(cell, level)], isinstance(cell, Mapping) and ends_at(cell, level) is None
    return [cell], False


def _attributed(table: Table, level: float) -> tuple[tuple[Any, ...], ...]:
    """A changes table's rows with ``change due to`` derived at ``level`` from the incidence and
    reporting ratio cells beside it (the stored words are the fit's level); kept where a cell lacks ``level``."""
    labels = [c.label for c in table.columns]
    if table.key != "changes" or "change due to" not in labels:
        return table.rows
    from hiddenrate.render.changes import attribution

    due = labels.index("change due to")
    incidence, reporting = due - 2, due - 1
    rows = []
    for row in table.rows:
        cells = list(row)
        if all(isinstance(cells[i], Mapping) and ends_at(cells[i], level) is not None for i in (incidence, reporting)):
            cells[due] = attribution({"incidence_ratio": cells[incidence], "reporting_ratio": cells[reporting]}, level)
        rows.append(tuple(cells))
    return tuple(rows)


def lay_out(table: Table | Mapping[str, Any], level: float) -> LaidOut:
    """Labels, cells and note of ``table`` at ``level`` (a stored dict of either shape is read first)."""
    if not isinstance(table, Table):
        table = Table.from_dict(table)
    tag = fmt.level(level)
    columns = [label for column in table.columns for label in _labels(column, tag)]
    rows, missing = [], False
    for row in _attributed(table, level):
        cells: list[Any] = []
        for column, cell in zip(table.columns, row, strict=False):
            printed, absent = _cells(column, cell, level)
            cells.extend(printed)
            missing = missing or absent
        rows.append(cells)
    note = table.note.replace("{level}", tag)
    if table.key == "changes" and table.facts.get("first") is not None:
        from hiddenrate.render.changes import change_sentence

        sentence = change_sentence(table.facts["first"], level)
        note = f"{sentence} {note}" if sentence else note
    if missing:
        note = (note + " " if note else "") + f"Not computed at {tag}: refit with --level {level:g}."
    return LaidOut(table.title, columns, rows, note, row_words(table.facts.get("models"), len(rows)))


def model_tables(result: Result) -> list[LaidOut]:
    """Every model table of ``result`` at the report's level, in report order."""
    level = report_level(result)
    return [lay_out(t, level) for t in result.model_tables()]


__all__ = ["WORDS_COLUMN", "LaidOut", "ends_at", "lay_out", "model_tables", "report_level", "with_words"]

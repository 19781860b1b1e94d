"""Publication safety: hide small counts of cells and strata before a result is published.

``suppress_result(result, k)`` returns a copy of a result whose every rendering (text, Markdown,
HTML, JSON, CSV, figures) hides the counts below ``k`` that describe a cell or a stratum:

* the input summary: cells by capture pattern, list sizes, overlaps between lists, capture
  frequencies, recorded counts and survey counts;
* the observed count of each stratum (and of the whole data);
* the estimated total and hidden count of a stratum (and of the whole data) wherever a median
  or an interval end is below ``k``;
* counts in model tables (columns of counts: recorded, observed, total, median, interval ends).

Primary suppression marks a count below ``k`` as ``<k``. Secondary (complementary) suppression
then hides further counts, marked ``hidden``, until no hidden count can be worked out exactly
by adding and subtracting the numbers still shown (within a stratum: cells, list sizes,
overlaps and the stratum's total, checked by linear algebra; across strata: when exactly one
stratum's count is hidden, the next smallest is hidden too, since the total minus the others
would give it). Where a stratum's observed count is hidden, its hidden count and observed share
are hidden too (total minus hidden, or share times total, would give it back).

What it does not do: model outputs such as estimated totals above ``k`` and reporting rates are
shown; on very small strata they can let a reader guess a hidden count approximately. Reports
contain aggregates only (never records), with or without suppression.

Examples
--------
>>> from hiddenrate.analysis.suppression import suppress_result
>>> safe = suppress_result(result, 5)  # doctest: +SKIP
>>> print(hiddenrate.render.render(safe, "markdown"))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hiddenrate.core.exceptions import ModelError
from hiddenrate.result.table import Column, Table
from hiddenrate.result.value import QUANTITIES, Result

#: marker of a count hidden because it is below k is ``f"<{k}"``; this marks secondary hiding
SECONDARY = "hidden"
#: label of the whole data (the overall estimate), as :attr:`StratumEstimate.label` gives it
OVERALL = "all"
_TOLERANCE = 1e-8

# priorities of quantities for secondary hiding: hide cells before margins, margins before totals
_CELL, _OVERLAP, _SIZE, _OBSERVED = 0, 1, 2, 3


def primary_mark(k: int) -> str:
    """``<5``: the marker of a count below ``k``."""
    return f"<{k}"


def check_threshold(k: int) -> int:
    """Validate ``k`` (a whole number >= 1).

    Raises
    ------
    ModelError
        If ``k`` is not a whole number >= 1.
    """
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ModelError(f"--suppress-below {k}: give a whole number >= 1, e.g. 5")
    return int(k)


@dataclass
class _Quantity:
    path: tuple[Any, ...]
    value: float
    vector: np.ndarray
    priority: int
    mark: str | None = None


@dataclass
class _Block:
    """The counts of one stratum, as linear functions of its unknown cells."""

    label: str
    size: int
    quantities: list[_Quantity] = field(default_factory=list)
    observed: _Quantity | None = None

    def add(self, path: tuple[Any, ...], value: float, support: Sequence[int], priority: int) -> _Quantity:
        vector = np.zeros(self.size)
        vector[list(support)] = 1.0
        quantity = _Quantity(path, float(value), vector, priority)
        self.quantities.append(quantity)
        return quantity


def _recoverable(block: _Block) -> tuple[_Quantity, np.ndarray] | None:
    """A hidden quantity that the shown ones determine exactly, with the coefficients used."""
    shown = [q for q in block.quantities if q.mark is None]
    hidden = [q for q in block.quantities if q.mark is not None]
    if not shown or not hidden:
        return None
    matrix = np.array([q.vector for q in shown])
    for quantity in hidden:
        coef, *_ = np.linalg.lstsq(matrix.T, quantity.vector, rcond=None)
        scale = max(1.0, float(np.linalg.norm(quantity.vector)))
        if float(np.linalg.norm(matrix.T @ coef - quantity.vector)) < _TOLERANCE * scale:
            return quantity, coef
    return None


def _protect(block: _Block) -> None:
    """Secondary hiding inside one block until no hidden quantity is determined by the shown."""
    while (found := _recoverable(block)) is not None:
        _, coef = found
        shown = [q for q in block.quantities if q.mark is None]
        involved = [q for q, c in zip(shown, coef, strict=True) if abs(c) > 1e-9] or shown
        choice = min(involved, key=lambda q: (q.priority, q.value))
        choice.mark = SECONDARY


def _label(stratum: Mapping[str, Any]) -> str:
    if not stratum:
        return OVERALL
    return ", ".join(f"{k}={v}" for k, v in stratum.items())


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and np.isfinite(value)


def _pair_key(first: str, second: str) -> str:
    return f"{first} & {second}"


def _list_blocks(summary: Mapping[str, Any]) -> list[_Block]:
    names = list(summary.get("lists", []))
    blocks = []
    for index, table in enumerate(summary.get("tables", [])):
        cells = list(table.get("cells", {}).items())
        block = _Block(_label(table.get("stratum", {})), len(cells))
        for i, (pattern, count) in enumerate(cells):
            block.add(("tables", index, "cells", pattern), count, [i], _CELL)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                support = [i for i, (p, _) in enumerate(cells) if p[a] == "1" and p[b] == "1"]
                value = sum(int(cells[i][1]) for i in support)
                block.add(("tables", index, "pair_overlaps", _pair_key(names[a], names[b])), value, support, _OVERLAP)
        for j, name in enumerate(names):
            support = [i for i, (p, _) in enumerate(cells) if p[j] == "1"]
            block.add(("tables", index, "list_sizes", name), sum(int(cells[i][1]) for i in support), support, _SIZE)
        block.observed = block.add(("tables", index, "observed"), table.get("observed", sum(int(c) for _, c in cells)),
                                   range(len(cells)), _OBSERVED)
        blocks.append(block)
    return blocks


def _capture_blocks(summary: Mapping[str, Any]) -> list[_Block]:
    frequencies = list(summary.get("frequencies", {}).items())
    block = _Block(OVERALL, len(frequencies))
    for i, (times, count) in enumerate(frequencies):
        block.add(("frequencies", times), count, [i], _CELL)
    block.observed = block.add(("observed", OVERALL), sum(int(c) for _, c in frequencies), range(len(frequencies)), _OBSERVED)
    return [block]


def _reporting_blocks(summary: Mapping[str, Any], observed: Mapping[str, int]) -> list[_Block]:
    by_label: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for index, row in enumerate(summary.get("rows", [])):
        by_label.setdefault(_label(row.get("stratum", {})), []).append((index, row))
    blocks = []
    for label, rows in by_label.items():
        items: list[tuple[tuple[Any, ...], float]] = []
        for index, row in rows:
            for name in ("recorded", "surveyed", "reported"):
                if _is_count(row.get(name)):
                    items.append((("rows", index, name), float(row[name])))
            population = row.get("population")
            if isinstance(population, Mapping):
                for name in ("victimized", "respondents"):
                    if _is_count(population.get(name)):
                        items.append((("rows", index, "population", name), float(population[name])))
        block = _Block(label, len(items) + 1)
        for i, (path, value) in enumerate(items):
            quantity = block.add(path, value, [i], _CELL)
            if block.observed is None and path[-1] == "recorded" and label in observed and value == observed[label]:
                block.observed = quantity
        if block.observed is None:
            block.observed = block.add(("observed", label), observed.get(label, 0), [len(items)], _OBSERVED)
        blocks.append(block)
    return blocks


@dataclass(frozen=True)
class SuppressionPlan:
    """What to hide: markers by path in the input summary and for observed counts of strata.

    Attributes
    ----------
    below
        The threshold ``k``: counts below it are hidden.
    input_marks
        ``path -> marker`` inside the input summary (paths as tuples of keys and indices).
    observed_marks
        ``stratum label -> marker`` for the observed counts hidden (``all`` = the whole data).
    """

    below: int
    input_marks: Mapping[tuple[Any, ...], str]
    observed_marks: Mapping[str, str]

    def note(self) -> str:
        """The sentence every output carries."""
        return (
            f"Publication safety: counts below {self.below} describing a cell or a stratum are hidden "
            f"(shown as {primary_mark(self.below)}); counts marked '{SECONDARY}' are hidden so that the others "
            "cannot be worked out by subtraction."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in a suppressed result's ``extra["suppression"]``."""
        return {
            "below": self.below,
            "marker": primary_mark(self.below),
            "secondary_marker": SECONDARY,
            "hidden_input_counts": len(self.input_marks),
            "hidden_observed": dict(self.observed_marks),
            "note": self.note(),
        }


def plan_suppression(summary: Mapping[str, Any], strata_observed: Sequence[tuple[str, int]], overall_observed: int,
                     k: int) -> SuppressionPlan:
    """Decide what to hide, from the input summary and the observed count of each stratum.

    Parameters
    ----------
    summary
        The input summary of a result (``result.input``).
    strata_observed
        ``(label, observed)`` of each stratum (empty when unstratified).
    overall_observed
        The observed count of the whole data.
    k
        Counts below ``k`` are hidden.
    """
    k = check_threshold(k)
    mark = primary_mark(k)
    observed = {label: int(value) for label, value in strata_observed} or {OVERALL: int(overall_observed)}
    kind = summary.get("format")
    if kind == "lists" and summary.get("tables"):
        blocks = _list_blocks(summary)
    elif kind == "number of captures" and summary.get("frequencies"):
        blocks = _capture_blocks(summary)
    elif kind == "reporting" and summary.get("rows"):
        blocks = _reporting_blocks(summary, observed)
    else:
        blocks = []
    known = {b.label for b in blocks}
    for label, value in observed.items():  # strata the input summary does not describe
        if label not in known:
            block = _Block(label, 1)
            block.observed = block.add(("observed", label), value, [0], _OBSERVED)
            blocks.append(block)
    for block in blocks:
        for quantity in block.quantities:
            if quantity.value < k:
                quantity.mark = mark
        _protect(block)
    strata = [b for b in blocks if b.label in observed and b.observed is not None]
    if len(strata) >= 2 and overall_observed >= k:
        # the total minus the other strata gives a lone hidden stratum: hide the next smallest
        hidden = [b for b in strata if b.observed is not None and b.observed.mark is not None]
        if len(hidden) == 1:
            rest = [b for b in strata if b.observed is not None and b.observed.mark is None]
            if rest:
                extra = min(rest, key=lambda b: b.observed.value if b.observed is not None else 0)
                if extra.observed is not None:
                    extra.observed.mark = SECONDARY
                _protect(extra)
    input_marks = {q.path: q.mark for b in blocks for q in b.quantities if q.mark is not None and q.path[0] != "observed"}
    observed_marks = {b.label: b.observed.mark for b in blocks if b.observed is not None and b.observed.mark is not None
                      and b.label in observed}
    if strata_observed:
        if overall_observed < k:
            observed_marks[OVERALL] = mark
        elif len(strata_observed) == 1 and strata_observed[0][0] in observed_marks:
            observed_marks[OVERALL] = observed_marks[strata_observed[0][0]]
    return SuppressionPlan(k, input_marks, observed_marks)


def suppressed_input(summary: Mapping[str, Any], plan: SuppressionPlan) -> dict[str, Any]:
    """A copy of the input summary with hidden counts replaced by their markers.

    List tables gain ``pair_overlaps`` (people on both lists of each pair) so that readers see
    the overlaps the plan checked.
    """
    out: dict[str, Any] = copy.deepcopy(dict(summary))
    if out.get("format") == "lists":
        names = list(out.get("lists", []))
        for table in out.get("tables", []):
            table.setdefault("pair_overlaps", pair_overlaps(table.get("cells", {}), names))
    for path, marker in plan.input_marks.items():
        target: Any = out
        for key in path[:-1]:
            target = target[key]
        if isinstance(target, dict) and path[-1] in target:
            target[path[-1]] = marker
    out["suppressed_below"] = plan.below
    return out


def pair_overlaps(cells: Mapping[str, Any], names: Sequence[str]) -> dict[str, int]:
    """People on both lists of each pair, from the cells by capture pattern (``"A & B" -> n``)."""
    out: dict[str, int] = {}
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            out[_pair_key(names[a], names[b])] = sum(
                int(count) for pattern, count in cells.items() if pattern[a] == "1" and pattern[b] == "1"
            )
    return out


# ------------------------------------------------------------------ model tables

_NOT_COUNT = re.compile(r"rate|share|probab|prevalence|\bp\b|Δ|delta|weight|criterion|bic|aic|ratio|%$", re.I)
_COUNT = re.compile(r"total|median|recorded|observed|count|hidden|estimate|surveyed|reported|survey|people|victims|"
                    r"incidents|cases|\bN\b|\bn\b|low|high|lower|upper", re.I)
_BARE_END = re.compile(r"^\s*(\d+(\.\d+)?%\s*)?(low|high|lower|upper)\s*$", re.I)
_OBSERVATION = re.compile(r"recorded|observed|count|surveyed|reported|survey", re.I)
_RECORDED = re.compile(r"recorded|observed", re.I)
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def _column_kinds(columns: Sequence[str]) -> list[str]:
    """``observation`` (counts of records), ``count`` (estimated counts), or ``other``."""
    kinds: list[str] = []
    for column in columns:
        name = str(column)
        if _BARE_END.match(name) and kinds:
            kinds.append(kinds[-1] if kinds[-1] != "observation" else "count")
        elif _NOT_COUNT.search(name) and not re.search(r"total|median", name, re.I):
            kinds.append("other")
        elif _OBSERVATION.search(name):
            kinds.append("observation")
        elif _COUNT.search(name):
            kinds.append("count")
        else:
            kinds.append("other")
    return kinds


def suppress_table(table: Mapping[str, Any], k: int, hidden_strata: Mapping[str, str] | None = None,
                   hidden_values: frozenset[float] = frozenset()) -> dict[str, Any]:
    """A copy of a model table (``{"title", "columns", "rows", "note"}``) with small counts hidden.

    Count columns are recognised by their headings (``recorded``, ``total``, ``median``,
    ``95% low`` ...; rates, shares and probabilities are left alone). A cell below ``k`` in a
    count column becomes ``<k``; ``a/b`` survey cells with a part below ``k`` become ``<k``;
    rows of a hidden stratum (first cell = its label) hide their recorded (observed) count.
    A cell of an observation column (``recorded``, ``observed`` ...) equal to one of
    ``hidden_values`` (input counts the plan hides, such as a list size that would give a small
    overlap by subtraction) becomes ``hidden``.
    """
    mark = primary_mark(k)
    hidden_strata = hidden_strata or {}
    stored = Table.from_dict(table)
    labels, spans = _flat_labels(stored.columns)
    kinds = _column_kinds(labels)

    def hide(cell: Any, i: int, row_mark: str | None) -> Any:
        kind = kinds[i] if i < len(kinds) else "other"
        if kind == "other":
            return cell
        if isinstance(cell, str):
            match = _FRACTION.match(cell)
            return mark if match and (int(match.group(1)) < k or int(match.group(2)) < k) else cell
        if not _is_count(cell):
            return cell
        if float(cell) < k:
            return mark
        if kind == "observation" and float(cell) in hidden_values:
            return SECONDARY
        if row_mark is not None and _RECORDED.search(labels[i] if i < len(labels) else ""):
            return row_mark
        return cell

    rows = []
    for row in table.get("rows", []):
        cells = list(row)
        row_mark = hidden_strata.get(str(cells[0])) if cells else None
        for position, cell in enumerate(cells):
            first, layout = spans[position] if position < len(spans) else (len(labels), None)
            if layout == "split" and isinstance(cell, Mapping):  # estimate, lower and upper: hidden as their columns
                ends = {level: [hide(e, first + 1 + j, row_mark) for j, e in enumerate(pair)]
                        for level, pair in dict(cell.get("intervals", {})).items()}
                cells[position] = {**cell, "median": hide(cell.get("median"), first, row_mark), "intervals": ends}
            elif layout != "inline":  # an inline ratio (``0.63 (0.44 to 0.91)``) is never a count
                cells[position] = hide(cell, first, row_mark)
        rows.append(cells)
    return {**dict(table), "rows": rows}


def _flat_labels(columns: Sequence[Column]) -> tuple[list[str], list[tuple[int, str | None]]]:
    """The printed labels (at 95%, for recognising count columns) and, per stored column, the
    index of its first printed label and its layout."""
    labels: list[str] = []
    spans: list[tuple[int, str | None]] = []
    for column in columns:
        spans.append((len(labels), column.layout))
        names = [column.label, *column.ends] if column.layout == "split" else [column.label]
        labels.extend(name.replace("{level}", "95%") for name in names)
    return labels, spans


_ESTIMATE_KEYS = ("estimate", "median", "lower", "upper", "total")


def _hidden_values(summary: Mapping[str, Any], plan: SuppressionPlan) -> frozenset[float]:
    """The input counts (as numbers) that the plan hides, for hiding them in model tables too."""
    values = set()
    for path in plan.input_marks:
        target: Any = summary
        for key in path:
            try:
                target = target[key]
            except (KeyError, IndexError, TypeError):
                target = None
                break
        if _is_count(target):
            values.add(float(target))
    return frozenset(values)


def _suppress_details(details: Mapping[str, Any], k: int, hidden: Mapping[str, str],
                      hidden_values: frozenset[float] = frozenset()) -> dict[str, Any]:
    """Model tables, and lists of estimates such as ``model_sensitivity`` rows, with small counts hidden."""
    out = dict(details)
    if isinstance(out.get("tables"), list):
        out["tables"] = [suppress_table(t, k, hidden, hidden_values) if isinstance(t, Mapping) else t
                         for t in out["tables"]]
    for key, value in details.items():
        if "sensitivity" in key and isinstance(value, list):
            out[key] = [
                {name: primary_mark(k) if name in _ESTIMATE_KEYS and _is_count(v) and float(v) < k else v
                 for name, v in row.items()} if isinstance(row, Mapping) else row
                for row in value
            ]
    check = details.get("heterogeneity")
    if isinstance(check, Mapping):  # the capture frequencies f_k are counts of people
        out["heterogeneity"] = {**check, **{name: [primary_mark(k) if _is_count(v) and float(v) < k else v
                                                   for v in check[name]]
                                            for name in ("frequencies", "expected") if isinstance(check.get(name), list)}}
    return out


# ------------------------------------------------------------------ results and payloads


def suppress_result(result: Result, k: int) -> Result:
    """A copy of ``result`` that every renderer shows with counts below ``k`` hidden.

    The copy's input summary and model tables carry the markers; ``extra["suppression"]``
    records the plan (``below``, hidden observed counts, the note every output prints), which
    the renderers use to hide observed counts and small estimates. The distributions are kept
    (figures and claim checks need them); use the renderers or :func:`suppress_payload`, not
    ``to_dict()``, to publish.
    """
    plan = plan_suppression(result.input, [(s.label, s.observed) for s in result.strata], result.overall.observed, k)
    hidden = dict(plan.observed_marks)
    values = _hidden_values(result.input, plan)
    return replace(
        result,
        input=suppressed_input(result.input, plan),
        extra={**_suppress_details(result.extra, plan.below, hidden, values), "suppression": plan.to_dict()},
        overall=replace(result.overall, details=_suppress_details(result.overall.details, plan.below, hidden, values)),
        strata=tuple(replace(s, details=_suppress_details(s.details, plan.below, hidden, values))
                     for s in result.strata),
    )


def plan_of(result: Result) -> dict[str, Any] | None:
    """The suppression recorded in a result by :func:`suppress_result` (``None`` if none)."""
    plan = result.extra.get("suppression") if isinstance(result.extra, Mapping) else None
    return dict(plan) if isinstance(plan, Mapping) else None


def _hide_summary(summary: Any, k: int, observed_hidden: bool) -> Any:
    """Mask a ``{"median", "mean", "intervals"}`` summary of a count."""
    if not isinstance(summary, dict):
        return summary
    mark = primary_mark(k)
    out = dict(summary)
    for key in ("median", "mean"):
        value = out.get(key)
        if observed_hidden and value is not None:
            out[key] = SECONDARY
        elif value is not None and _is_count(value) and float(value) < k:
            out[key] = mark
    intervals = {}
    for level, ends in dict(out.get("intervals", {})).items():
        new_ends = []
        for end in ends:
            if observed_hidden and end is not None:
                new_ends.append(SECONDARY)
            elif _is_count(end) and end < k:
                new_ends.append(mark)
            else:
                new_ends.append(end)
        intervals[level] = new_ends
    out["intervals"] = intervals
    return out


def _hide_estimate(entry: dict[str, Any], k: int, marker: str | None) -> dict[str, Any]:
    out = dict(entry)
    if marker is not None:
        out["observed"] = marker
    out["total"] = _hide_summary(out.get("total"), k, False)
    out["hidden"] = _hide_summary(out.get("hidden"), k, marker is not None)
    if marker is not None and isinstance(out.get("observed_share"), dict):
        out["observed_share"] = _hide_summary(out["observed_share"], k, True)
    return out


def suppress_payload(payload: Mapping[str, Any], k: int | None = None) -> dict[str, Any]:
    """A suppressed copy of a rendered payload (the JSON contract, :meth:`Result.to_dict`).

    With ``k`` the plan is made from the payload itself (its ``input``, ``observed`` and
    ``strata``); without, the plan recorded in ``payload["details"]["suppression"]`` (a
    suppressed result's) is applied. The copy gains a top-level ``suppression`` object.
    """
    out = copy.deepcopy(dict(payload))
    details: dict[str, Any] = out["details"] if isinstance(out.get("details"), dict) else {}
    recorded = details.get("suppression") if isinstance(details, dict) else None
    if k is None:
        if not isinstance(recorded, Mapping):
            return out
        k = int(recorded["below"])
        hidden = dict(recorded.get("hidden_observed", {}))
        plan_dict = dict(recorded)
        values: frozenset[float] = frozenset()  # the recorded plan's tables are hidden already
    else:
        strata = [(_label(s.get("stratum", {})), int(s["observed"])) for s in out.get("strata", []) if _is_count(s.get("observed"))]
        plan = plan_suppression(out.get("input", {}), strata, int(out.get("observed", 0)), k)
        values = _hidden_values(out.get("input", {}), plan)
        out["input"] = suppressed_input(out.get("input", {}), plan)
        hidden = dict(plan.observed_marks)
        plan_dict = plan.to_dict()
        out["details"] = {**_suppress_details(details, plan.below, hidden, values), "suppression": plan_dict}
    overall = _hide_estimate({name: out.get(name) for name in ("observed", *QUANTITIES)}, k, hidden.get(OVERALL))
    out.update(overall)
    out["strata"] = [_hide_estimate(s, k, hidden.get(_label(s.get("stratum", {})))) for s in out.get("strata", [])]
    for s in out["strata"]:
        if isinstance(s.get("details"), dict):
            s["details"] = _suppress_details(s["details"], k, hidden, values)
    out["suppression"] = plan_dict
    return out


__all__ = [
    "OVERALL",
    "SECONDARY",
    "SuppressionPlan",
    "check_threshold",
    "pair_overlaps",
    "plan_of",
    "plan_suppression",
    "primary_mark",
    "suppress_payload",
    "suppress_result",
    "suppress_table",
    "suppressed_input",
]

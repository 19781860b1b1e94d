"""CSV: the summary table, one row per stratum plus the total, raw numbers; or one model table
(``--table``: the sources table of ``hiddenrate combine``, the changes of ``hiddenrate trend`` ...)."""

from __future__ import annotations

import json

import pandas as pd

from hiddenrate.core.exceptions import ModelError
from hiddenrate.render.tables import LaidOut, with_words
from hiddenrate.render.tables import model_tables as laid_out_tables
from hiddenrate.render.words import at_least, heterogeneity_alert
from hiddenrate.result.value import Result


def _suppress(result: Result, table: pd.DataFrame) -> pd.DataFrame:
    """Hide small counts (and the observed-derived columns of hidden strata) as the plan says."""
    plan = result.extra.get("suppression")
    if not isinstance(plan, dict):
        return table
    below, mark = int(plan["below"]), str(plan["marker"])
    hidden = dict(plan.get("hidden_observed", {}))
    out = table.astype(object)
    labels = [s.label for s in result.strata] + ["all"]
    for row, label in zip(out.index, labels, strict=True):
        for column in out.columns:
            value = out.at[row, column]
            if column == "observed" or column.startswith(("total_", "hidden_")):
                if isinstance(value, (int, float)) and value == value and value < below:
                    out.at[row, column] = mark
            if label in hidden and (column == "observed" or column.startswith(("hidden_", "observed_share_"))):
                if not (isinstance(value, float) and value != value):
                    out.at[row, column] = hidden[label] if column == "observed" else "hidden"
    out["suppressed_below"] = below
    return out


def render_csv(result: Result) -> str:
    """The :meth:`~hiddenrate.result.value.Result.summary` table with model, estimate and interval types."""
    table = _suppress(result, result.summary()).reset_index()
    table.insert(1, "model", result.model)
    alert = heterogeneity_alert(result)
    if alert:  # next to the model, so that nobody reads the totals without it
        table.insert(2, "warning", alert)
        bounds = [at_least(result, e) for e in (*result.strata, result.overall)]
        table.insert(3, "at_least", [None if b is None else b[0] for b in bounds])
    table["estimate_type"] = result.estimate_type
    table["interval_type"] = f"{result.interval_kind} {result.interval_type}"
    table["unit"] = result.unit or ""
    table["priors"] = json.dumps(result.priors, sort_keys=True, ensure_ascii=False) if result.priors else ""
    return table.to_csv(index=False, lineterminator="\n")


def model_tables(result: Result) -> list[LaidOut]:
    """The model tables a report shows, in order, at the report's level (as text and HTML print them)."""
    return laid_out_tables(result)


def render_table_csv(result: Result, which: str) -> str:
    """One model table as CSV with its own columns and raw numbers.

    Parameters
    ----------
    result
        A (prepared) result: suppression has already been applied to its tables.
    which
        The table's number in the report (1 = first) or words from its title, case-insensitive,
        singular or plural, e.g. ``"sources"`` or ``"what each source"``.
    """
    tables = model_tables(result)
    titles = [t.title for t in tables]
    if not tables:
        raise ModelError("--table: this result has no model tables; the summary table is plain --format csv")
    if which.strip().isdigit():
        index = int(which) - 1
        chosen = [index] if 0 <= index < len(tables) else []
    else:
        words = which.lower().split()
        chosen = [i for i, title in enumerate(titles)
                  if words and all(w in title.lower() or w.rstrip("s") in title.lower() for w in words)]
    if len(chosen) != 1:
        listing = "; ".join(f"{i + 1} = {title}" for i, title in enumerate(titles))
        problem = "matches several tables" if chosen else "matches no table"
        raise ModelError(f"--table '{which}' {problem}; give a number or words from one title: {listing}")
    columns, rows = with_words(tables[chosen[0]])  # a table of models: each model's words beside its notation
    frame = pd.DataFrame(rows, columns=_unique([str(c) for c in columns]))
    return frame.to_csv(index=False, lineterminator="\n")


def _unique(columns: list[str]) -> list[str]:
    """Column names a CSV reader can tell apart: a repeated name (a second "95% low") gets " (2)"."""
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out

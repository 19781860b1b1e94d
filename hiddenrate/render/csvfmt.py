"""CSV: the summary table, one row per stratum plus the total, raw numbers."""

from __future__ import annotations

import json

import pandas as pd

from hiddenrate.results import Result


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
    """The :meth:`~hiddenrate.results.Result.summary` table with model, estimate and interval types."""
    table = _suppress(result, result.summary()).reset_index()
    table.insert(1, "model", result.model)
    table["estimate_type"] = result.estimate_type
    table["interval_type"] = f"{result.interval_kind} {result.interval_type}"
    table["unit"] = result.unit or ""
    table["priors"] = json.dumps(result.priors, sort_keys=True, ensure_ascii=False) if result.priors else ""
    return table.to_csv(index=False, lineterminator="\n")

"""CSV: the summary table, one row per stratum plus the total, raw numbers."""

from __future__ import annotations

import json

from hiddenrate.results import Result


def render_csv(result: Result) -> str:
    """The :meth:`~hiddenrate.results.Result.summary` table with model, estimate and interval types."""
    table = result.summary().reset_index()
    table.insert(1, "model", result.model)
    table["estimate_type"] = result.estimate_type
    table["interval_type"] = f"{result.interval_kind} {result.interval_type}"
    table["unit"] = result.unit or ""
    table["priors"] = json.dumps(result.priors, sort_keys=True, ensure_ascii=False) if result.priors else ""
    return table.to_csv(index=False, lineterminator="\n")

"""Change over time for ``hiddenrate combine`` evidence: a spec whose strata include a period.

The spec's ``by`` names the period column (``by = ["year"]``, or with other stratum columns
``by = ["region", "year"]``); its lists file and ``[evidence]`` file carry that column. Each
period is fitted with the joint model of :func:`hiddenrate.fit_combined` (a survey of a source
in a period measures that source's capture probability in that period), and the changes
between periods come from the periods' posterior draws as for list data
(:func:`hiddenrate.models.trend.lists.period_trend`), with the share recorded in place of a
reporting rate. Capture probabilities and dependence are **not** pooled across periods here:
each period's estimate uses that period's evidence only, and the output says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hiddenrate.data.periods import PERIOD_NAMES, parse_periods
from hiddenrate.data.spec import CombineSpec, read_spec
from hiddenrate.data.table import read_table
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.settings import FitSettings
from hiddenrate.models.trend.lists import period_trend
from hiddenrate.result.value import Result

NOT_POOLED = ("Each period is fitted on its own with the joint model: capture probabilities and the dependence "
              "between lists are not pooled across periods.")


def is_spec(data: Any) -> bool:
    """Whether ``data`` is a ``hiddenrate combine`` spec (a ``.toml`` path, a dict or a read spec)."""
    if isinstance(data, (CombineSpec, Mapping)):
        return True
    return isinstance(data, (str, Path)) and Path(data).suffix.lower() == ".toml"


def fit_combined_trend(
    spec: CombineSpec | Mapping[str, Any] | str | Path,
    settings: FitSettings,
    *,
    period: str | None = None,
    compare: Sequence[str] = (),
    default_changes: bool = True,
    base_dir: str | Path | None = None,
) -> Result:
    """Fit a combine spec period by period and compute the changes between periods.

    Parameters
    ----------
    spec
        A ``hiddenrate combine`` spec (path, dict or read spec) whose ``by`` includes the period.
    period
        The period column (default: the first of ``period``, ``year``, ``quarter``, ``month`` in ``by``).
    settings
        Levels, interval kind, seed and the joint model's MCMC settings.
    compare, default_changes
        As :func:`hiddenrate.fit_trend`.
    base_dir
        Where relative paths of a dict spec point.

    Raises
    ------
    DataError
        The spec has no period among its strata, or its periods cannot be ordered, or there is one only.
    """
    from hiddenrate.models.combine.model import combined_result

    parsed = spec if isinstance(spec, CombineSpec) else read_spec(spec, base_dir=base_dir)
    if period is not None and period not in parsed.by:
        raise DataError(f"{parsed.source}: the period column '{period}' is not among the spec's strata "
                        f"(by = {list(parsed.by)}); add it to `by` and to the data files")
    column = period or next((b for b in parsed.by if b in PERIOD_NAMES), None)
    if column is None:
        raise DataError(f"{parsed.source}: a trend needs a period among the spec's strata, e.g. by = [\"year\"] "
                        f"(now by = {list(parsed.by)}), with that column in the lists or [evidence] file")
    frame = pd.DataFrame([{k: str(v) for k, v in s.stratum.items()} for s in parsed.strata], dtype=str)
    axis, _ = parse_periods(read_table(frame, name=f"{parsed.source} (its strata)"), column)
    result = combined_result(parsed, settings)
    return period_trend(result, column=column, axis=axis, by=tuple(b for b in parsed.by if b != column), seed=settings.seed,
                        compare=compare, default_changes=default_changes, source=parsed.source,
                        structure="not pooled across periods (one joint model per period)", note=NOT_POOLED)


__all__ = ["NOT_POOLED", "fit_combined_trend", "is_spec"]

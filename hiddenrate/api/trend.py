"""The public ``fit_trend``: periods of reporting data, list data or a combine spec, and the changes between them.

Reporting data and combine specs go to the trend models (:mod:`hiddenrate.models.trend`); list
data are fitted period by period with :func:`hiddenrate.api.lists.fit_lists` (the list pipeline,
fragility checks and sensitivity included) or jointly with ``--model pooled``, and the changes are
computed from the periods' draws (:func:`hiddenrate.models.trend.lists.period_trend`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hiddenrate.api.lists import lists_result
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.options import flag, flags
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings
from hiddenrate.data.lists import ListData, read_list_input
from hiddenrate.data.periods import parse_periods, period_column
from hiddenrate.data.table import read_table
from hiddenrate.data.trend import TrendData, is_reporting_input
from hiddenrate.models.trend import model as trend_model
from hiddenrate.models.trend.combine import is_spec
from hiddenrate.models.trend.lists import NOT_POOLED, POOLED_STRUCTURE, period_trend
from hiddenrate.models.trend.lists_pooled import NAME as POOLED_NAME
from hiddenrate.models.trend.lists_pooled import OPTION_NAMES as POOLED_OPTIONS
from hiddenrate.models.trend.lists_pooled import fit_pooled_lists
from hiddenrate.result.value import Result


def fit_trend(
    data: TrendData | pd.DataFrame | str | Path,
    model: str = "auto",
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int | None = DEFAULT_SEED,
    interval: str = DEFAULT_INTERVAL,
    sampling: Mapping[str, Any] | None = None,
    period: str | None = None,
    by: Sequence[str] = (),
    unit: str | None = None,
    lists: Sequence[str] | None = None,
    priors: Mapping[str, Any] | None = None,
    compare: Sequence[str] = (),
    default_changes: bool = True,
    name: str | None = None,
    **options: Any,
) -> Result:
    """Estimate totals, reporting rates and hidden counts per period, and the changes between periods.

    Parameters
    ----------
    data
        A CSV path or DataFrame: reporting data (``recorded``, ``surveyed``, ``reported``) or
        list data (0/1 list columns, ``count``), with a period column; or data read with
        :func:`~hiddenrate.data.trend.read_trend`; or a ``hiddenrate combine`` spec
        (``.toml`` path or dict) whose ``by`` includes the period
        (:mod:`~hiddenrate.models.trend.combine`).
    model
        Reporting data: ``auto`` (= ``rw-drift``), ``rw-drift``, ``rw`` or ``ar1``. List data:
        a list model fitted period by period (``auto`` = ``bma``, or ``bayes-2list`` with 2 lists;
        ``bayes-loglinear``, ``latent-class`` ...) or ``pooled`` (all periods jointly, list
        interactions shared by all periods; slow mixing: use more draws).
    levels, seed, interval
        Interval levels, random seed, ``equal-tailed`` or ``hdi``.
    sampling
        ``{"draws", "tune", "chains", "target_accept"}`` for NUTS.
    period
        The period column (default: ``period``, else ``year``, ``quarter`` or ``month``): years,
        quarters (``2020Q1``), months (``2020-03``) or whole numbers.
    by
        Further stratum columns: one series each (reporting data), fitted jointly.
    unit, lists, name
        ``incidents`` or ``victims`` (reporting data); list columns (list data); how to name the
        source in messages.
    priors
        Overrides of the trend priors, e.g. ``{"log_incidence_step": 0.2}`` (reporting data).
    compare, default_changes
        Pairs ``"FROM:TO"`` to compare; whether to include first to last and each consecutive pair.
    **options
        Options of the list model (list data only), e.g. ``delta=1.0``; ``pooled`` takes ``terms``
        (e.g. ``"a:b,a:c"``) and ``priors`` (e.g. ``{"main_step": {"scale": 0.5}}``).

    Returns
    -------
    Result
        ``command = "trend"``; ``strata``: one per period (and series), with ``stratum =
        {"period": ...}``, ``total``, ``hidden``, ``observed_share``, ``reporting_rate`` (and
        ``incidence``); ``extra["periods"]`` the ordered periods and ``extra["changes"]`` the
        changes (in JSON under ``details``).
    """
    settings = FitSettings.of(levels, interval, seed, sampling)
    spec = not isinstance(data, (TrendData, pd.DataFrame)) and is_spec(data)
    if not spec and not isinstance(data, TrendData) and not is_reporting_input(data, name=name):
        return list_trend_result(data, model, settings, period=period, by=by, lists=lists, compare=compare,
                                 default_changes=default_changes, name=name,
                                 **({"priors": priors} if priors else {}), **options)
    return trend_model.trend_result(data, model, settings, period=period, by=by, unit=unit, lists=lists, priors=priors,
                                    compare=compare, default_changes=default_changes, name=name, **options)


def list_trend_result(data: pd.DataFrame | str | Path, model: str, settings: FitSettings, *,
                      period: str | None = None, by: Sequence[str] = (), lists: Sequence[str] | None = None,
                      compare: Sequence[str] = (), default_changes: bool = True, name: str | None = None,
                      **options: Any) -> Result:
    """The periods of list data fitted (jointly with ``pooled``, else one by one with the list
    pipeline) and the changes between them computed, with validated ``settings``.

    Raises
    ------
    DataError
        Unorderable periods, a single period, a period written two ways, a series missing a period.
    ModelError
        A model without a posterior (maximum likelihood).
    EstimationError
        A period without an estimate (the message gives its reason).
    """
    raw = read_table(data, name=name)
    column = period_column(raw, period)
    axis, _ = parse_periods(raw, column)
    by = tuple(b for b in by if b != column)
    source: Any = data if isinstance(data, pd.DataFrame) else str(data)
    list_input: Any = None
    if model == POOLED_NAME:
        list_input = read_list_input(source, lists=lists, by=(*by, column))
        if not isinstance(list_input, ListData):
            raise ModelError("--model pooled needs list data (0/1 list columns), not number-of-captures data")
    pooled = isinstance(list_input, ListData)
    if pooled:
        unused = sorted(k for k, v in options.items() if k not in POOLED_OPTIONS and v not in (None, (), []))
        if unused:
            raise ModelError(f"{flags(unused)} does not apply to --model pooled (it takes {flags(POOLED_OPTIONS)})")
        result = fit_pooled_lists(list_input, column, axis, by, settings, terms=options.get("terms"),
                                  priors=options.get("priors"))
    else:
        if options.get("priors"):
            raise ModelError(f"{flag('priors')} sets the priors of reporting data and of --model pooled (list data with a "
                             "period column); the per-period list models take their own options")
        result = lists_result(source, model, settings, lists=lists, by=(*by, column), **options)
    return period_trend(result, column=column, axis=axis, by=by, seed=settings.seed, compare=compare,
                        default_changes=default_changes, source=raw.source,
                        structure=POOLED_STRUCTURE if pooled else "not pooled across periods",
                        note=None if pooled else NOT_POOLED)


__all__ = ["fit_trend", "list_trend_result"]

"""``fit_lists``: the list pipeline (read, fit the model, then the fragility checks and the sensitivity tables)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from hiddenrate.analysis.sensitivity import analyse_list_result
from hiddenrate.data.lists import CaptureCountData, ListData, read_list_input
from hiddenrate.core.parallel import SERIAL, Parallel
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings
from hiddenrate.models.lists.registry import AUTO, auto_note, make_list_model
from hiddenrate.result.value import Result


def fit_lists(
    data: ListData | CaptureCountData | pd.DataFrame | str | Path,
    model: str = "auto",
    *,
    lists: Sequence[str] | None = None,
    by: Sequence[str] = (),
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int | None = DEFAULT_SEED,
    interval: str = DEFAULT_INTERVAL,
    sampling: Mapping[str, Any] | None = None,
    parallel: Parallel = SERIAL,
    **options: Any,
) -> Result:
    """Estimate the total population from overlapping lists (or number-of-captures data).

    Parameters
    ----------
    data
        A CSV path, a DataFrame in Rcapture format (0/1 list columns + optional ``count``), or
        data already read with :func:`hiddenrate.read_lists` / :func:`hiddenrate.read_capture_counts`.
    model
        ``auto`` (two lists: Bayesian two-list model; 3-6 lists: exact model averaging; 7 or
        more: the stepwise model with a selection-aware bootstrap), or a
        name from ``hiddenrate.models.lists.registry.LIST_MODELS`` (``bma``, ``loglinear``,
        ``independence``, ``bayes-loglinear``, ``bayes-2list``, ``chapman``,
        ``lincoln-petersen``, Rcapture's heterogeneity models ``mh-chao``, ``mh-poisson2``,
        ``mh-darroch``, ``mh-gamma3.5``, ``mth-chao``, ``mth-poisson2``, ``mth-darroch``,
        ``mth-gamma3.5``, ...); for number-of-captures data ``chao``, ``zelterman`` or
        ``ztpoisson``.
    lists, by
        List columns to use and stratum columns (see :func:`hiddenrate.read_lists`).
    levels, seed, interval
        Interval levels, random seed, ``equal-tailed`` or ``hdi``.
    sampling
        ``{"draws": ..., "tune": ..., "chains": ...}`` for MCMC models.
    parallel
        Where the strata are fitted: this process (the default) or Dask
        (:class:`hiddenrate.core.parallel.Parallel`); the numbers are the same.
    **options
        Model options, e.g. ``terms="A:B"``, ``delta=1.0``, ``log_odds_ratio=(0.7, 0.3)``.

    Returns
    -------
    Result

    Examples
    --------
    >>> import hiddenrate
    >>> result = hiddenrate.fit_lists(hiddenrate.example_path("spina-bifida"))  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    return lists_result(data, model, FitSettings.of(levels, interval, seed, sampling), lists=lists, by=by,
                        parallel=parallel, **options)


def lists_result(data: ListData | CaptureCountData | pd.DataFrame | str | Path, model: str, settings: FitSettings, *,
                 lists: Sequence[str] | None = None, by: Sequence[str] = (), parallel: Parallel = SERIAL,
                 **options: Any) -> Result:
    """:func:`fit_lists` with validated ``settings`` (what the list trend calls for each period set)."""
    if isinstance(data, (ListData, CaptureCountData)):
        parsed = data
    else:
        parsed = read_list_input(data, lists=lists, by=by)
    if isinstance(parsed, CaptureCountData):
        from hiddenrate.models.capture_counts.model import capture_counts_result  # noqa: PLC0415 (rarely used)

        return capture_counts_result(parsed, model, settings, options)
    estimator = make_list_model(model, parsed.k, options, settings.sampling)
    if not parallel.serial:
        estimator.parallel = parallel
    result = estimator.fit(parsed, settings=settings)
    note = auto_note(parsed.k) if model == AUTO else None
    if note is not None:
        result = replace(result, description=f"{result.description} {note}")
    return analyse_list_result(result, estimator, parsed)


def example_path(name: str) -> Path:
    """Path of a bundled example data set (see ``hiddenrate examples``)."""
    from hiddenrate.data.examples import get_example

    return get_example(name).path()

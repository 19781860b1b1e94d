"""What every list model shares: strata, seeds, totals over strata, provenance.

A model class holds only its specification and math: it sets the class attributes below and
implements :meth:`ListModel.fit_table` for one table. :meth:`ListModel.fit` does the rest and
returns an immutable :class:`~hiddenrate.result.value.Result` of the model's own numbers; the
fragility checks and sensitivity tables are added after it by :func:`hiddenrate.fit_lists`
(:func:`hiddenrate.analysis.sensitivity.analyse_list_result`). The model object keeps no state,
so the same model can be fitted twice with different seeds.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from dataclasses import replace
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData, ListTable, read_lists
from hiddenrate.core.distributions import GridDistribution, PointEstimate, sum_independent
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.parallel import SERIAL, Parallel, run_items
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings, stratum_seeds
from hiddenrate.result.value import ModelCard, Result, StratumEstimate

logger = logging.getLogger("hiddenrate")

def as_list_data(data: ListData | ListTable | pd.DataFrame | str | Path) -> ListData:
    """Accept a ListData, one ListTable, a DataFrame or a CSV path."""
    if isinstance(data, ListData):
        return data
    if isinstance(data, ListTable):
        return ListData(names=data.names, by=(), tables=(data,))
    return read_lists(data)


def input_summary(data: ListData) -> dict[str, Any]:
    """Aggregates describing the input (list sizes, overlaps, cell counts by pattern)."""
    tables = []
    for table in data.tables:
        tables.append(
            {
                "stratum": dict(table.stratum),
                "observed": table.observed,
                "list_sizes": table.list_sizes(),
                "zero_overlap_pairs": [list(p) for p in table.zero_overlap_pairs()],
                "cells": {
                    "".join(str((i >> j) & 1) for j in range(table.k)): int(c)
                    for i, c in enumerate(table.counts)
                    if i > 0
                },
            }
        )
    return {
        "source": data.source,
        "sha256": data.sha256,
        "format": "lists",
        "lists": list(data.names),
        "by": list(data.by),
        "notes": list(data.notes),
        "tables": tables,
    }


class ListModel(ABC):
    """Base class of models for overlapping lists."""

    #: registry key, e.g. ``"bma"``
    name: ClassVar[str]
    #: human name, e.g. ``"Bayesian model averaging over decomposable graphs"``
    title: ClassVar[str]
    #: one sentence on what it does
    description: ClassVar[str]
    #: assumptions, each one plain sentence
    assumptions: ClassVar[tuple[str, ...]]
    estimate_type: ClassVar[str]
    interval_type: ClassVar[str]
    min_lists: ClassVar[int] = 2
    max_lists: ClassVar[int] = 15
    #: options the model accepts (the CLI rejects any other it is given)
    option_names: ClassVar[tuple[str, ...]] = ()
    #: report options (sensitivity table, leave-one-out, ...; see hiddenrate.analysis.sensitivity), set by
    #: make_list_model; an instance attribute when set
    report_options: Mapping[str, Any] = MappingProxyType({})

    # ---------------------------------------------------------------- to implement
    @abstractmethod
    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        """Fit one table (one stratum)."""

    def priors(self) -> dict[str, Any]:
        """Priors used (merged defaults and overrides), JSON-ready; empty for likelihood models."""
        return {}

    def priors_for(self, data: ListData) -> dict[str, Any]:
        """Priors as applied to ``data`` (when they depend on the lists); default :meth:`priors`."""
        return self.priors()

    def options(self) -> dict[str, Any]:
        """Model options, JSON-ready."""
        return {}

    def describe(self, data: ListData) -> str:
        """Description of the model for this data (may mention list names)."""
        return self.description

    def structure(self, data: ListData) -> dict[str, Any] | None:
        """The model as data when the choice of model fixes it, for the renderers' words
        (:mod:`hiddenrate.render.model_words`; kept as ``extra["model_structure"]``): the terms given
        with ``--terms``, or a heterogeneity model. None when the data choose the model, or say nothing."""
        return None

    def combine_points(self, estimates: list[StratumEstimate], tables: tuple[ListTable, ...],
                       levels: tuple[float, ...]) -> PointEstimate | None:
        """Total over strata of point estimates with intervals, if the model knows how; else ``None``."""
        return None

    def run_extra(self, data: ListData, estimates: list[StratumEstimate]) -> tuple[dict[str, Any], list[str]]:
        """Model-level details and warnings after all strata are fitted (e.g. sensitivity)."""
        return {}, []

    # ---------------------------------------------------------------- shared
    def check_table(self, table: ListTable) -> None:
        """Reject tables this model cannot handle, with the reason."""
        if table.k < self.min_lists:
            raise ModelError(f"{self.title} needs at least {self.min_lists} lists; the data have {table.k}")
        if table.k > self.max_lists:
            raise ModelError(f"{self.title} handles at most {self.max_lists} lists; the data have {table.k}")

    def fit(
        self,
        data: ListData | ListTable | pd.DataFrame | str | Path,
        *,
        levels: Sequence[float] = DEFAULT_LEVELS,
        seed: int | None = DEFAULT_SEED,
        interval: str = DEFAULT_INTERVAL,
        settings: FitSettings | None = None,
    ) -> Result:
        """Fit the model to every stratum and to their total.

        Parameters
        ----------
        data
            List data (see :func:`hiddenrate.read_lists`), a DataFrame or a CSV path.
        levels, seed, interval
            Interval levels (e.g. ``(0.8, 0.95)``); seed of every random draw (same data + same
            seed = same numbers; ``None`` picks one and records it); ``"equal-tailed"`` or ``"hdi"``.
        settings
            The same, already validated (what :func:`hiddenrate.fit_lists` passes); overrides the three.

        Returns
        -------
        Result
        """
        list_data = as_list_data(data)
        settings = settings or FitSettings.of(levels, interval, seed)
        for table in list_data.tables:
            self.check_table(table)
        seeds = stratum_seeds(settings.seed, len(list_data.tables) + 1)
        # strata are independent with seeds of their own: the same numbers in this process or on Dask
        work = functools.partial(_fit_tables, self, settings.levels, settings.interval, list_data.stratified)
        estimates = run_items(work, list(zip(list_data.tables, seeds, strict=False)), self.parallel, "strata")
        extra, run_warnings = self.run_extra(list_data, estimates)
        structure = self.structure(list_data)
        if structure is not None:
            extra = {**extra, "model_structure": structure}
        if list_data.stratified:
            overall = self._combine(estimates, list_data.tables, seeds[-1], settings.levels)
            strata = tuple(estimates)
        else:
            overall, strata = estimates[0], ()
        card = ModelCard("lists", self.name, self.title, self.describe(list_data), self.assumptions,
                         self.estimate_type, self.interval_type)
        return Result.build(settings, card, overall, strata, input=input_summary(list_data),
                            priors=self.priors_for(list_data), options=self.options(),
                            warnings=(*list_data.notes, *run_warnings), extra=extra)

    #: where the strata are fitted (hiddenrate.core.parallel): this process unless fit_lists is given another
    parallel: Parallel = SERIAL

    def _combine(self, estimates: list[StratumEstimate], tables: tuple[ListTable, ...], seed: int,
                 levels: tuple[float, ...]) -> StratumEstimate:
        observed = sum(e.observed for e in estimates)
        diagnostics = diag.combine([e.diagnostics for e in estimates])
        missing = [e.label for e in estimates if e.total is None]
        if missing:
            return StratumEstimate(
                stratum={},
                observed=observed,
                total=None,
                diagnostics=diagnostics,
                reason=f"no total over strata: no estimate for {', '.join(missing)}",
            )
        parts = [e.total for e in estimates if e.total is not None]
        total = sum_independent(parts, np.random.default_rng(seed))
        if total is None:
            combined = self.combine_points(estimates, tables, levels)
            if combined is not None:
                return StratumEstimate(stratum={}, observed=observed, total=combined, diagnostics=diagnostics,
                                       details={"how": combined.interval_method})
            point = sum(float(p.median() or 0.0) for p in parts)
            return StratumEstimate(
                stratum={},
                observed=observed,
                total=PointEstimate(point, {level: (None, None) for level in levels}, "not computed"),
                diagnostics=diagnostics,
                warnings=(
                    "the total over strata is the sum of the strata's maximum-likelihood estimates; this model "
                    "gives no interval for it. Use the default model (Bayesian) for a total with its joint uncertainty",
                ),
                details={"how": "sum of point estimates (no interval)"},
            )
        return StratumEstimate(
            stratum={},
            observed=observed,
            total=total,
            diagnostics=diagnostics,
            details={"combined_from_strata": len(estimates), "how": "sum of independent stratum posteriors"},
        )


def _fit_tables(model: ListModel, levels: tuple[float, ...], interval: str, stratified: bool,
                items: list[tuple[ListTable, int]]) -> list[StratumEstimate]:
    """One task of :meth:`ListModel.fit`: each table of ``items`` with its seed."""
    out = []
    for table, seed in items:
        if stratified:
            logger.info("fitting stratum %s", table.label())
        estimate = model.fit_table(table, levels=levels, seed=seed, interval_kind=interval)
        if stratified and isinstance(estimate.total, GridDistribution):
            estimate = replace(estimate, total=estimate.total.compact())  # bounded memory per stratum
        out.append(estimate)
    return out

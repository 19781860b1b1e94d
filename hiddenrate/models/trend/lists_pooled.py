r"""List data over periods with the capture structure pooled across periods (``--model pooled``).

Each series (combination of the ``--by`` columns) is fitted with
:class:`~hiddenrate.models.trend.lists_pooled_core.PooledLoglinearSampler`: per-period intercepts,
list main effects that follow a random walk over the periods, and list interactions shared by all
periods (equations and priors in :mod:`hiddenrate.models.trend.lists_pooled_core`). The result has
the shape of :func:`hiddenrate.fit_lists` with the period as a stratum column, so
:func:`hiddenrate.api.trend.list_trend_result` computes the changes from it as for the
per-period models; here the draws of all periods of a series are joint (one draw = one posterior
sample of every period), so the changes keep the correlation between periods.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData
from hiddenrate.data.periods import PeriodAxis, parse_period
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import DataError
from hiddenrate.models.lists.base import input_summary
from hiddenrate.models.lists.two_list import independence_caveat
from hiddenrate.core.settings import DEFAULT_TUNE, FitSettings, stratum_seeds
from hiddenrate.core.design import Terms, model_label, parse_terms
from hiddenrate.models.trend.lists_pooled_core import DEFAULT_PRIORS, PooledLoglinearSampler, default_terms
from hiddenrate.result.value import ModelCard, Result, StratumEstimate
from hiddenrate.models.sampling.diagnostics import mcmc as mcmc_diagnostics

logger = logging.getLogger("hiddenrate")

NAME = "pooled"
TITLE = "Pooled Bayesian log-linear model over periods"
POOLED = ("Periods are fitted jointly (--model pooled): the dependence between lists (the interaction terms) is the same "
          "in every period, and each list's capture probability follows a random walk across periods, so a period with "
          "few records borrows from its neighbours.")
ASSUMPTIONS = (
    POOLED,
    "The chosen interaction terms capture all dependence between lists; there is no interaction among all lists at once.",
    "Closed population within each period, and records matched correctly across lists.",
)
OPTION_NAMES = ("terms", "priors")


def fit_pooled_lists(data: ListData, column: str, axis: PeriodAxis, by: Sequence[str], settings: FitSettings, *,
                     terms: str | Terms | None = None, priors: Mapping[str, Any] | None = None) -> Result:
    """Fit the pooled model to each series of ``data`` (stratified by ``(*by, column)``).

    Returns a Result with ``command="lists"`` and one stratum per (series, period) whose ``total``
    holds joint draws (the same draw index is the same posterior sample in every period).

    Raises
    ------
    DataError
        A series missing a period, or a period with no records.
    ModelError
        Bad terms or priors; fewer than 2 or more than 6 lists.
    """
    groups = _series(data, column, axis, by)
    times = np.asarray(axis.times, dtype=float)
    seeds = stratum_seeds(settings.seed, len(groups) + 1)
    strata: list[StratumEstimate] = []
    chosen: Terms = ()
    used_priors: dict[str, Any] = {}
    for (key, row), child in zip(groups.items(), seeds, strict=False):
        missing = [axis.labels[t] for t in range(len(axis.labels)) if t not in row]
        if missing:
            what = ", ".join(f"{b}={v}" for b, v in zip(by, key, strict=True)) or "the file"
            raise DataError(f"{data.source}: {what} has no records for period {missing[0]}; every stratum needs every period")
        tables = [row[t] for t in range(len(axis.labels))]
        counts = np.stack([np.asarray(t.counts) for t in tables])
        if terms is None:
            chosen = default_terms(counts, data.k)
        elif isinstance(terms, str):
            chosen = parse_terms(terms, data.names)
        else:
            chosen = tuple(tuple(t) for t in terms)
        sampler = PooledLoglinearSampler(data.k, len(tables), chosen, priors)
        used_priors = sampler.priors
        logger.info("sampling the pooled log-linear model over %d periods (the first compile takes ~15 s)", len(tables))
        idata: Any = sampler.sample(counts, times, seed=child, remedy=True, **settings.sampling)
        strata.extend(_period_estimates(idata, tables, model_label(sampler.terms, data.names), settings))
    totals = np.sum([np.asarray(s.total.draws) for s in strata if isinstance(s.total, DrawsDistribution)], axis=0)
    overall = StratumEstimate(stratum={}, observed=sum(s.observed for s in strata), total=DrawsDistribution(totals),
                              diagnostics=diag.combine([s.diagnostics for s in strata]),
                              details={"terms": model_label(chosen, data.names)})
    card = ModelCard(
        "lists", NAME, TITLE,
        ("Poisson log-linear model of the capture patterns of all periods at once: list main effects follow "
         "a random walk over the periods, interactions are shared by all periods; sampled with NUTS, each "
         f"period's N drawn afterwards. Terms: {model_label(chosen, data.names)}."),
        ASSUMPTIONS)
    options = {"terms": terms if isinstance(terms, str) or terms is None else [list(t) for t in terms],
               "sampler": "nutpie", **settings.sampling}
    warnings = (*data.notes, *([independence_caveat()] if data.k == 2 and not chosen else []))
    return Result.build(settings, card, overall, strata, input=input_summary(data),
                        priors=used_priors or dict(DEFAULT_PRIORS), options=options, warnings=warnings)


def _series(data: ListData, column: str, axis: PeriodAxis, by: Sequence[str]) -> dict[tuple[str, ...], dict[int, Any]]:
    """The tables of ``data`` by series (values of ``by``) and period position; a period written two ways is an error."""
    groups: dict[tuple[str, ...], dict[int, Any]] = {}
    for table in data.tables:
        key = tuple(str(table.stratum[b]) for b in by)
        parsed = parse_period(str(table.stratum[column]))
        label = parsed.label if parsed is not None else str(table.stratum[column])
        position = axis.index(label)
        if position in groups.setdefault(key, {}):
            raise DataError(f"{data.source}: period {label} is written in two ways in column '{column}'; write each "
                            "period one way")
        groups[key][position] = table
    return groups


def _period_estimates(idata: Any, tables: Sequence[Any], label: str, settings: FitSettings) -> list[StratumEstimate]:
    """One estimate per period of one series, from the series' joint draws."""
    chains, draws = int(idata.posterior.sizes["chain"]), int(idata.posterior.sizes["draw"])
    tune = settings.sampling.get("tune", DEFAULT_TUNE)
    method = f"NUTS (nutpie), {chains} chains x {draws} draws after {tune} tuning, periods jointly"
    monitored = [v for v in ("intercept", "main_effect", "interaction", "total") if v in idata.posterior]
    diagnostics = mcmc_diagnostics(idata, monitored, method)
    total = np.asarray(idata.posterior["total"].values).astype(float).reshape(chains * draws, len(tables))
    out = []
    for t, table in enumerate(tables):
        warnings = []
        zero = table.zero_overlap_pairs()
        if zero:
            warnings.append("lists that never overlap in this period (" + ", ".join(f"{a}-{b}" for a, b in zero)
                            + "): their dependence comes from the other periods")
        out.append(StratumEstimate(stratum=dict(table.stratum), observed=table.observed,
                                   total=DrawsDistribution(total[:, t]), diagnostics=diagnostics,
                                   warnings=tuple(warnings), details={"terms": label, "pooled": True}))
    return out


__all__ = ["ASSUMPTIONS", "NAME", "OPTION_NAMES", "POOLED", "TITLE", "fit_pooled_lists"]

"""From records to an estimate that carries the linkage's uncertainty (docs/methods.md, "Linkage
uncertainty").

:func:`fit_linked` fits the list model twice over: once to the linkage at the threshold (what a
user who links once and treats the match as exact would report: its sensitivity tables stay in the
report), and to each of M plausible linkages drawn from the match probabilities. The posterior of
the total is the equal-weight mixture of the M posteriors (exact on a grid when every fit gives an
exact posterior, else equally many draws from each), and a table shows how much wider the
interval is than the link-once interval and what share of the variance lies between linkages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from hiddenrate.api.lists import lists_result
from hiddenrate.core.distributions import (
    Distribution,
    DrawsDistribution,
    GridDistribution,
)
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.settings import (
    DEFAULT_INTERVAL,
    DEFAULT_LEVELS,
    DEFAULT_SEED,
    FitSettings,
    headline_level,
)
from hiddenrate.data.lists import read_list_input
from hiddenrate.linkage.link import Linkage
from hiddenrate.models.lists.registry import make_list_model
from hiddenrate.result.table import Column, build, interval_cell, report_levels
from hiddenrate.result.value import Result

logger = logging.getLogger("hiddenrate")
#: draws taken from each linkage's posterior when the posteriors are not all exact grids
DRAWS_PER_LINKAGE = 2_000


def pool(posteriors: Sequence[Distribution], rng: np.random.Generator) -> Distribution:
    """The equal-weight mixture of ``posteriors``: exact when all are grids, else pooled draws."""
    if all(isinstance(p, GridDistribution) for p in posteriors):
        grids = [p for p in posteriors if isinstance(p, GridDistribution)]
        values = np.unique(np.concatenate([g.values for g in grids]))
        pmf = np.zeros(values.size)
        for g in grids:
            pmf[np.searchsorted(values, g.values)] += g.pmf / len(grids)
        return GridDistribution(values, pmf, float(np.mean([g.tail_mass for g in grids])),
                                all(g.mean_exists for g in grids))
    parts = []
    for p in posteriors:
        sample = getattr(p, "sample", None)
        if sample is None:
            parts.append(np.full(DRAWS_PER_LINKAGE, float(p.median() or 0.0)))
        else:
            parts.append(np.asarray(sample(DRAWS_PER_LINKAGE, rng), dtype=float))
    return DrawsDistribution(np.concatenate(parts))


def _width(dist: Distribution, level: float, kind: str) -> float:
    lower, upper = dist.interval(level, kind)
    return float("nan") if lower is None or upper is None else float(upper - lower)


def linkage_table(once: Distribution, pooled: Distribution, posteriors: Sequence[Distribution], draws: int,
                  levels: tuple[float, ...], kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The "linkage uncertainty" table and its numbers: link-once and pooled intervals, the share of
    the interval's width and of the variance that comes from linkage."""
    level = headline_level(levels)
    ladder = report_levels(levels)
    medians = np.array([float(p.median() or np.nan) for p in posteriors])
    widths = np.array([_width(p, level, kind) for p in posteriors])
    pooled_width = _width(pooled, level, kind)
    share = float(max(0.0, 1 - np.nanmean(widths) / pooled_width)) if pooled_width > 0 else 0.0
    facts: dict[str, Any] = {
        "draws": draws, "level": level,
        "width_linked_once": _width(once, level, kind), "width_pooled": pooled_width,
        "width_share_from_linkage": share,
        "between_linkage_sd": float(np.nanstd(medians)),
        "median_range": [float(np.nanmin(medians)), float(np.nanmax(medians))],
    }
    rows = [["linked once at the threshold, treated as exact", interval_cell(once.median(), lambda x: once.interval(x, kind), ladder)],
            [f"{draws} plausible linkages, pooled", interval_cell(pooled.median(), lambda x: pooled.interval(x, kind), ladder)]]
    table = build(
        "Linkage uncertainty", [Column("linkage"), Column("total", "count", "split")], rows,
        f"{100 * share:.0f}% of the pooled {{level}} interval's width comes from "
        "not knowing which records match (1 - mean width of one linkage's interval / pooled width, at the "
        "headline level). The pooled posterior mixes the fits to linkages drawn from the match probabilities.",
        key="linkage", facts=facts)
    return table, facts


def fit_linked(link: Linkage, model: str = "auto", *, draws: int | None = None, levels: Sequence[float] = DEFAULT_LEVELS,
               seed: int | None = DEFAULT_SEED, interval: str = DEFAULT_INTERVAL,
               sampling: Mapping[str, Any] | None = None, **options: Any) -> Result:
    """Estimate the total from linked records, with the linkage's uncertainty in the interval."""
    settings = FitSettings.of(levels, interval, seed, sampling)
    count = draws or link.spec.draws
    once = lists_result(read_list_input(link.lists(), name="linked records"), model, settings, **options)
    if once.overall.total is not None and once.overall.total.kind == "point":
        raise ModelError(f"--estimate pools posteriors over linkages; --model {model} gives a point estimate. "
                         "Use a Bayesian list model (auto, bma, bayes-loglinear, latent-class, bayes-2list)")
    names = link.spec.names
    estimator = make_list_model(model, len(names), {k: v for k, v in options.items()
                                                   if k not in ("sensitivity", "leave_one_out", "merge_small",
                                                                "sensitivity_classes")}, settings.sampling)
    posteriors = []
    linkages = link.draws(count, int(settings.seed) + 1)
    for m, clusters in enumerate(linkages):
        data = read_list_input(link.lists(clusters), name=f"linkage {m + 1}")
        fitted = estimator.fit(data, settings=replace(settings, seed=int(settings.seed) + 2 + m))
        if fitted.overall.total is not None:
            posteriors.append(fitted.overall.total)
    if once.overall.total is None or not posteriors:
        return once
    logger.info("pooled %d plausible linkages", len(posteriors))
    pooled = pool(posteriors, np.random.default_rng(settings.seed))
    table, facts = linkage_table(once.overall.total, pooled, posteriors, len(posteriors), settings.levels,
                                 settings.interval)
    overall = replace(once.overall, total=pooled)
    extra = {**dict(once.extra), "tables": [table, *once.extra.get("tables", [])],
             "linkage": {**link.summary, **facts, "seed": link.seed}}
    warnings = (*once.warnings, ("the total pools fits to plausible linkages of the records; the sensitivity "
                                 "tables below are for the one linkage at the threshold"))
    return replace(once, command="link", overall=overall, extra=extra, warnings=warnings,
                   description=once.description + " Linkage uncertainty pooled over plausible linkages.",
                   options={**dict(once.options), "linkage_draws": len(posteriors), "threshold": link.spec.threshold})

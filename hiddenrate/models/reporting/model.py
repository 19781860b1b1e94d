r"""The dark figure from recorded counts and survey reporting rates: models and :func:`fit_reporting`.

The hidden volume is the recorded count divided by the reporting rate (the multiplier method),
done with the survey's sampling error, the count's own noise, pooling across strata, several
sources and the population route. Three models (``--model``):

``exact`` (:class:`ExactReporting`)
    Each stratum on its own, computed exactly on a grid (no MCMC): one or several sources,
    each with its survey, and optionally the population route; each route alone and
    combined, with a warning when they disagree. See :mod:`~hiddenrate.models.reporting.exact`.
``pooled`` (:class:`PooledReporting`)
    Reporting rates and incidence partially pooled across strata (NUTS via nutpie); strata
    without a survey borrow. One source. See :mod:`~hiddenrate.models.reporting.pooled`.
``multiplier`` (:class:`~hiddenrate.models.reporting.classical.ClassicalMultiplier`)
    The classical closed form, as a baseline.

``auto`` picks ``exact`` for one stratum, several sources or a population route, else
``pooled``.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"recorded": [100], "surveyed": [711], "reported": [195]})
>>> result = fit_reporting(frame, unit="incidents")
>>> result.overall.total.median(), result.interval(0.95)
(363.0, (296.0, 446.0))
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.reporting import ReportingData, ReportingStratum
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.options import flag
from hiddenrate.core.parallel import SERIAL, Parallel, run_items
from hiddenrate.core.settings import (
    DEFAULT_INTERVAL,
    DEFAULT_LEVELS,
    DEFAULT_SEED,
    EXACT_DRAWS,
    FitSettings,
    check_sampling,
    stratum_seeds,
)
from hiddenrate.models.reporting.base import (
    BAYES_ASSUMPTIONS,
    ROUTE_COLUMNS,
    Fitted,
    ReportingModel,
    as_reporting_data,
    distribution_cell,
    logger,
    rate_table,
)
from hiddenrate.models.reporting.classical import ClassicalMultiplier
from hiddenrate.models.reporting.exact import (
    CONFLICT_LEVEL,
    PopulationEvidence,
    SourceEvidence,
    combine,
    conflict_p_value,
    draw_prevalence,
    draw_rates,
    posterior_grid,
)
from hiddenrate.models.reporting.pooled_model import PooledReporting
from hiddenrate.result.table import Column, build, report_levels
from hiddenrate.result.value import Result, StratumEstimate
from hiddenrate.core.settings import headline_level

#: Default priors of the exact model; ``incidence``: p(lambda) ∝ lambda^(shape - 1).
EXACT_PRIORS: dict[str, dict[str, Any]] = {
    "reporting_rate": {"dist": "beta", "alpha": 1.0, "beta": 1.0},
    "incidence": {"dist": "power", "shape": 0.0},
    "incidence_if_none_recorded": {"dist": "power", "shape": 1.0},
    "victimization_prevalence": {"dist": "beta", "alpha": 1.0, "beta": 1.0},
}


def _rate_key(source: str, primary: str) -> str:
    return "reporting_rate" if source == primary else f"reporting_rate[{source}]"


class ExactReporting(ReportingModel):
    """Each stratum on its own, exactly on a grid: sources, surveys and the population route.

    Parameters
    ----------
    priors
        Overrides of :data:`EXACT_PRIORS`, e.g. ``{"reporting_rate": (0.5, 0.5)}`` (Jeffreys).
    draws
        Independent draws for the reporting rates and for sums over strata.
    """

    name = "exact"
    title = "Exact Bayesian reporting model"
    description = (
        "Recorded counts over survey reporting rates, with the survey's sampling error and the count's own noise; "
        "exact posterior on a grid, each stratum on its own."
    )
    estimate_type = "posterior median"
    interval_type = "credible interval"
    assumptions = (*BAYES_ASSUMPTIONS, "Strata are independent (nothing is borrowed between them).")
    default_priors = EXACT_PRIORS

    def __init__(self, priors: Mapping[str, Any] | None = None, draws: int = EXACT_DRAWS,
                 parallel: Parallel = SERIAL) -> None:
        super().__init__(priors)
        if int(draws) != draws or draws < 1000:
            raise ModelError(f"draws must be a whole number >= 1000, got {draws}")
        self.draws = int(draws)
        self.parallel = parallel

    def options(self) -> dict[str, Any]:
        return {"draws": self.draws}

    def fit_data(self, data: ReportingData, *, levels: tuple[float, ...], seed: int, interval: str) -> Fitted:
        seeds = stratum_seeds(seed, len(data.strata) + 1)
        primary = data.source_names[0]
        if len(data.strata) >= 100:
            logger.info("exact reporting model: %d strata, each on its own", len(data.strata))
        estimates, route_rows = [], []
        sums = _DrawSums()  # the strata's draws summed in stratum order as they come
        items = list(zip(data.strata, seeds, strict=False))
        if self.parallel.serial:  # one at a time: memory does not grow with the number of strata
            fitted: Any = (self._fit_stratum(stratum, primary, levels, child, interval) for stratum, child in items)
        else:  # strata are independent with seeds of their own: the same numbers on Dask
            fitted = run_items(functools.partial(_fit_strata, self, primary, levels, interval), items, self.parallel,
                               "strata")
        for estimate, drawn, rate, rows in fitted:
            estimates.append(estimate)
            sums.add(drawn, rate)
            route_rows.extend(rows)
        tables = [rate_table(data, estimates, levels, interval, f"Posterior medians and {interval} intervals; "
                             "reporting rate of the first source in the file.")]
        if route_rows:
            tables.append(build("Routes, each alone and combined", ROUTE_COLUMNS + [Column("conflict p", "probability")],
                                route_rows, "conflict p: two-sided probability that two independent routes' totals differ "
                                "this much (node splitting, Presanis et al. 2013); below 0.05 the routes disagree."))
        if not data.stratified:
            return Fitted(strata=estimates, overall=estimates[0], tables=tables)
        overall = self._overall(estimates, sums)
        return Fitted(strata=estimates, overall=overall, tables=tables)

    # ------------------------------------------------------------------ one stratum
    def _evidence(self, stratum: ReportingStratum) -> tuple[list[SourceEvidence], PopulationEvidence | None]:
        prior = self._priors["reporting_rate"]
        sources = [
            SourceEvidence(s.source, s.recorded, prior["alpha"] + s.reported, prior["beta"] + s.surveyed - s.reported, s.surveyed, s.reported)
            for s in stratum.sources
        ]
        population = None
        if stratum.population is not None:
            q = self._priors["victimization_prevalence"]
            population = PopulationEvidence.from_route(stratum.population, q["alpha"], q["beta"])
        return sources, population

    def _combine(self, sources: list[SourceEvidence], population: PopulationEvidence | None) -> Any:
        return combine(sources, population, self._priors["incidence"]["shape"], self._priors["incidence_if_none_recorded"]["shape"])

    def _fit_stratum(self, stratum: ReportingStratum, primary: str, levels: tuple[float, ...], seed: int, kind: str) -> tuple[StratumEstimate, np.ndarray | None, np.ndarray | None, list[list[Any]]]:
        rng = np.random.default_rng(seed)
        sources, population = self._evidence(stratum)
        method = diag.Diagnostics(method=f"exact posterior on a grid; {self.draws} independent draws for rates (no MCMC)",
                                  converged=True, chains=1, draws=self.draws)
        posterior = self._combine(sources, population)
        warnings = self._warnings(stratum, sources, posterior)
        if posterior is None:
            reason = ("nothing was recorded and there is no reporting survey with a report in it: the data bound nothing; "
                      "give a survey, a population route, or use --model pooled to borrow from other strata")
            return (StratumEstimate(stratum=stratum.stratum, observed=stratum.recorded, total=None, diagnostics=method,
                                    warnings=tuple(warnings), reason=reason), None, None, [])
        totals, rate_draws = draw_rates(posterior.total, sources, self.draws, rng)
        quantities: dict[str, Any] = {}
        for source in sources:
            quantities[_rate_key(source.name, primary)] = DrawsDistribution(rate_draws[source.name])
        details: dict[str, Any] = {"prior_shape_used": posterior.shape}
        if population is not None:
            sizes, prevalence = draw_prevalence(totals, population, rng)
            quantities["victimization_prevalence"] = DrawsDistribution(prevalence)
            details["population_median"] = float(np.median(sizes))
        rows, conflict_warnings, conflicts = self._routes(stratum, sources, population, posterior.total, levels, kind)
        warnings.extend(conflict_warnings)
        if conflicts:
            details["conflicts"] = conflicts
        if posterior.total.tail_mass > 1e-4:
            warnings.append(f"{posterior.total.tail_mass:.2%} of the posterior lies beyond 10^13: the upper end is not reliable")
        primary_rate = quantities.get("reporting_rate") or quantities[_rate_key(sources[0].name, primary)]
        estimate = StratumEstimate(stratum=stratum.stratum, observed=stratum.recorded, total=posterior.total, diagnostics=method,
                                   warnings=tuple(warnings), details=details, quantities=quantities)
        primary_draws = np.asarray(primary_rate.draws) if isinstance(primary_rate, DrawsDistribution) else None
        return estimate, totals, primary_draws, rows

    def _warnings(self, stratum: ReportingStratum, sources: list[SourceEvidence], posterior: Any) -> list[str]:
        out = []
        for source in stratum.sources:
            if source.has_survey:
                continue
            if stratum.population is not None or len(stratum.sources) > 1:
                out.append(f"no reporting survey for {source.source}: its reporting rate is inferred from its count and the "
                           "other routes (uniform prior), not measured")
            else:
                out.append(f"no reporting survey for {source.source}: its reporting rate comes from the prior alone, "
                           "so the estimate rests on that assumption (give a survey, or use --model pooled with strata)")
        if posterior is not None and posterior.heavy_tail:
            out.append("the data give almost no upper bound: the posterior of the total has no finite mean "
                       "(few or no reports in the survey); read the median and the interval, not the mean")
        if posterior is not None and posterior.shape is not None and stratum.recorded == 0:
            out.append("nothing was recorded: the estimate says how many could go unrecorded at this reporting rate, "
                       "under a flat prior on the incidence (incidence_if_none_recorded)")
        return out

    def _routes(self, stratum: ReportingStratum, sources: list[SourceEvidence], population: PopulationEvidence | None,
                combined: GridDistribution, levels: tuple[float, ...], kind: str) -> tuple[list[list[Any]], list[str], list[dict[str, Any]]]:
        """Each route alone, the conflict check, and the table rows (only with several routes)."""
        n_routes = len(sources) + (population is not None)
        if n_routes < 2:
            return [], [], []
        level = headline_level(levels)
        label = stratum.label()
        alone: list[tuple[str, GridDistribution | None]] = []
        for source in sources:
            fit = self._combine([source], None)
            alone.append((f"{source.name} (multiplier)", fit.total if fit is not None else None))
        if population is not None:
            alone.append(("population route", posterior_grid(population.log_prior, 0, population.upper)))
        conflicts = []
        pairs: list[tuple[str, GridDistribution | None, str, GridDistribution | None]] = []
        if n_routes == 2:
            pairs.append((alone[0][0], alone[0][1], alone[1][0], alone[1][1]))
        else:
            for k in range(n_routes):
                rest_sources = [s for i, s in enumerate(sources) if i != k]
                rest_population = population if k != len(sources) else None
                rest = self._combine(rest_sources, rest_population)
                pairs.append((alone[k][0], alone[k][1], "the other routes", rest.total if rest is not None else None))
        warnings = []
        for name_a, a, name_b, b in pairs:
            if a is None or b is None or a.tail_mass > 1e-4 or b.tail_mass > 1e-4:
                continue
            p_value = conflict_p_value(a, b)
            conflicts.append({"route": name_a, "versus": name_b, "p_value": p_value})
            if p_value < CONFLICT_LEVEL:
                warnings.append(
                    f"{name_a} gives {a.median():,.0f} {_ends(a, level)} but {name_b} {b.median():,.0f} {_ends(b, level)}: "
                    f"they disagree beyond their uncertainty (conflict p = {p_value:.2g}); at least one survey or "
                    "population figure does not describe these records, so do not use the combined estimate as it stands"
                )
        p_by_route = {c["route"]: c["p_value"] for c in conflicts}
        if n_routes == 2 and conflicts:
            p_by_route[alone[1][0]] = conflicts[0]["p_value"]
        ladder = report_levels(levels)
        rows = [[label, name, distribution_cell(dist, ladder, kind), p_by_route.get(name)] for name, dist in alone]
        rows.append([label, "combined", distribution_cell(combined, ladder, kind), None])
        return rows, warnings, conflicts

    @staticmethod
    def _overall(estimates: list[StratumEstimate], sums: _DrawSums) -> StratumEstimate:
        observed = sum(e.observed for e in estimates)
        diagnostics = diag.combine([e.diagnostics for e in estimates])
        missing = [e.label for e in estimates if e.total is None]
        if missing:
            return StratumEstimate(stratum={}, observed=observed, total=None, diagnostics=diagnostics,
                                   reason=f"no total over strata: no estimate for {', '.join(missing)}")
        n, weighted = sums.total, sums.weighted
        plain = sums.rates / sums.n_rates if sums.n_rates else np.nan
        rate = np.where(n > 0, weighted / np.maximum(n, 1), plain)
        return StratumEstimate(stratum={}, observed=observed, total=DrawsDistribution(n), diagnostics=diagnostics,
                               quantities={"reporting_rate": DrawsDistribution(rate)},
                               details={"combined_from_strata": len(estimates), "how": "sum of independent stratum draws"})


def _fit_strata(model: ExactReporting, primary: str, levels: tuple[float, ...], kind: str,
                items: list[tuple[ReportingStratum, int]]) -> list[Any]:
    """One task of :meth:`ExactReporting.fit_data`: each stratum of ``items`` with its seed."""
    return [model._fit_stratum(stratum, primary, levels, seed, kind) for stratum, seed in items]


class _DrawSums:
    """Running sums over strata of the drawn totals, totals x rates and rates (added in stratum order,
    as a sum over a stacked array would)."""

    def __init__(self) -> None:
        self.total: Any = 0
        self.weighted: Any = 0
        self.rates: Any = 0
        self.n_rates = 0

    def add(self, total: np.ndarray | None, rate: np.ndarray | None) -> None:
        if total is not None:
            self.total = self.total + total
            if rate is not None:
                self.weighted = self.weighted + total * rate
        if rate is not None:
            self.rates = self.rates + rate
            self.n_rates += 1


def _ends(dist: GridDistribution, level: float) -> str:
    lower, upper = dist.interval(level)
    return f"[{lower:,.0f}, {upper:,.0f}]"


MODELS: dict[str, type[ReportingModel]] = {
    "exact": ExactReporting,
    "pooled": PooledReporting,
    "multiplier": ClassicalMultiplier,
}


def choose_model(data: ReportingData) -> str:
    """``auto``: exact for one stratum, several sources or a population route; pooled otherwise."""
    if len(data.strata) == 1 or data.multi_source or data.has_population:
        return "exact"
    return "pooled"


def make_model(name: str, data: ReportingData, priors: Mapping[str, Any] | None = None,
               sampling: Mapping[str, Any] | None = None, parallel: Parallel = SERIAL) -> ReportingModel:
    """Build the model ``name`` (or the ``auto`` choice for ``data``); ``parallel`` says where the
    exact model fits its strata (the others fit all strata at once, in this process)."""
    chosen = choose_model(data) if name == "auto" else name
    if chosen not in MODELS:
        raise ModelError(f"unknown model '{name}'; use one of auto, {', '.join(MODELS)}")
    if not parallel.serial and chosen != "exact":
        raise ModelError(f"{flag('parallel')} apply to --model exact, which fits each stratum on its own; "
                         f"--model {chosen} fits all strata together in this process")
    if chosen == "pooled":
        return PooledReporting(priors, **check_sampling(sampling))
    if chosen == "exact":
        return ExactReporting(priors, parallel=parallel)
    if priors:
        raise ModelError(f"the classical multiplier has no priors; {flag('priors')} does not apply to "
                         "--model multiplier")
    return ClassicalMultiplier()


def fit_reporting(
    data: ReportingData | pd.DataFrame | str | Path,
    model: str = "auto",
    *,
    by: Sequence[str] = (),
    unit: str | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int | None = DEFAULT_SEED,
    interval: str = DEFAULT_INTERVAL,
    sampling: Mapping[str, Any] | None = None,
    priors: Mapping[str, Any] | None = None,
    population: tuple[float, float] | None = None,
    prevalence: tuple[int, int] | None = None,
    parallel: Parallel = SERIAL,
) -> Result:
    """Estimate the true count (recorded + never recorded) from recorded counts and reporting surveys.

    Parameters
    ----------
    data
        A CSV path or DataFrame with ``recorded``, ``surveyed``, ``reported`` (and optionally
        ``source``, ``unit``, the population columns and stratum columns), or data read with
        :func:`hiddenrate.data.reporting.read_reporting`.
    model
        ``auto``, ``exact``, ``pooled`` or ``multiplier`` (see the module docstring).
    by, unit
        Stratum columns; ``incidents`` or ``victims`` (required unless the data say it).
    levels, seed, interval
        Interval levels, random seed, ``equal-tailed`` or ``hdi``.
    priors
        Overrides, e.g. ``{"reporting_rate": (0.5, 0.5)}`` (exact) or
        ``{"log_incidence_sd": 1.0}`` (pooled); unknown names raise a ModelError listing the
        valid ones.
    sampling
        ``{"draws", "tune", "chains"}`` for the pooled model.
    population, prevalence
        The population route for unstratified data: a 95% interval ``(low, high)`` for the
        population size and ``(victimized, respondents)`` from a victimisation survey.
    parallel
        Where the exact model fits its strata: in this process (the default) or on Dask
        (:class:`hiddenrate.core.parallel.Parallel`); the numbers are the same.

    Returns
    -------
    Result
        ``command = "reporting"``, ``unit`` the unit; per stratum ``observed`` = recorded,
        ``total`` = true count, ``hidden`` = never recorded, ``observed_share`` = recorded /
        total, and the quantity ``reporting_rate``.
    """
    settings = FitSettings.of(levels, interval, seed, sampling)
    parsed = as_reporting_data(data, by=by, unit=unit, population=population, prevalence=prevalence)
    estimator = make_model(model, parsed, priors, settings.sampling, parallel)
    return estimator.fit(parsed, settings=settings)


__all__ = ["EXACT_PRIORS", "MODELS", "ExactReporting", "PooledReporting", "choose_model", "fit_reporting", "make_model"]

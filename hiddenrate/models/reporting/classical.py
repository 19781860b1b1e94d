r"""The classical multiplier method, as a baseline and a check.

For a recorded count :math:`y` and a survey in which :math:`r` of :math:`m` incidents reached
the source, :math:`\hat p = r/m` and

.. math::

    \hat N = y / \hat p = y\, m / r,

with the interval :math:`[\,y / p_U,\ y / p_L\,]` from the Wilson score interval
:math:`[p_L, p_U]` of the reporting rate (Wilson 1927). This is the multiplier method of the
UNAIDS/WHO (2010) guidelines. It takes the recorded count as exact: its own Poisson noise is
left out, so the interval is too narrow (for 100 recorded and 195 of 711 reported:
[324, 412] against the exact Bayesian [296, 446]).

Other routes and combinations, all closed form:

* a stratum without a survey borrows the pooled rate :math:`\sum r / \sum m` of the strata
  that have one (for the same source);
* the population route :math:`\hat N = \hat P \hat q` (population size, the geometric mean of
  its 95% interval, times the share victimised :math:`k/m`) with the log-normal interval of
  variance :math:`\sigma_P^2 + (1 - \hat q)/k` (delta method);
* several routes for one stratum are combined by inverse-variance weighting on the log
  scale, their agreement tested with Cochran's :math:`Q` (:math:`\chi^2_{K-1}`);
* the total over strata :math:`\sum_s \hat N_s` has the delta-method variance over the
  independent survey proportions (strata that borrow the same pooled rate are correlated),
  and a log-normal interval.

A zero count gives :math:`\hat N = 0` whatever the rate: the classical method cannot say how
many a zero hides. Nobody reporting in the survey (:math:`r = 0`) gives no estimate.

References
----------
UNAIDS/WHO Working Group on Global HIV/AIDS and STI Surveillance (2010). *Guidelines on
estimating the size of populations most at risk to HIV*. Geneva: WHO.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22, 209-212.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.stats import chi2, norm

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.reporting import ReportingData, ReportingStratum
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.models.reporting.base import ROUTE_COLUMNS, Fitted, ReportingModel, distribution_cell, rate_table
from hiddenrate.result.table import Column, build, interval_cell
from hiddenrate.result.value import StratumEstimate


def wilson(reported: int, surveyed: int, level: float) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    z = float(norm.ppf(0.5 + level / 2))
    p = reported / surveyed
    denominator = 1 + z**2 / surveyed
    centre = (p + z**2 / (2 * surveyed)) / denominator
    half = z * np.sqrt(p * (1 - p) / surveyed + z**2 / (4 * surveyed**2)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@dataclass
class Route:
    """One route's closed-form estimate of a stratum's total."""

    label: str
    point: float | None = None
    intervals: dict[float, tuple[float | None, float | None]] = field(default_factory=dict)
    gradient: dict[str, float] = field(default_factory=dict)  # d log N / d input
    log_variance: float | None = None
    reason: str | None = None
    rate: PointEstimate | None = None


class ClassicalMultiplier(ReportingModel):
    """The classical multiplier (count / survey reporting rate) with Wilson-based intervals."""

    name = "multiplier"
    title = "Classical multiplier"
    description = "Recorded count divided by the survey's reporting rate; the interval inverts the rate's Wilson interval."
    estimate_type = "point estimate (closed form)"
    interval_type = "confidence interval: Wilson interval of the rate, inverted (log-normal, delta method, when combined)"
    assumptions: ClassVar[tuple[str, ...]] = (
        "The recorded count is exact: its own random variation is ignored, so the interval is too narrow.",
        "The survey's reporting rate applies to the recorded incidents (same population, period and definition).",
        "Survey respondents are a simple random sample (no design effect).",
    )

    def fit_data(self, data: ReportingData, *, levels: tuple[float, ...], seed: int, interval: str) -> Fitted:
        inputs: dict[str, float] = {}  # input id -> variance
        pooled = self._pooled_surveys(data, inputs)
        estimates, routes_rows, run_warnings, gradients = [], [], [], []
        for index, stratum in enumerate(data.strata):
            routes = [self._multiplier(index, stratum, name, pooled, inputs, levels) for name in (s.source for s in stratum.sources)]
            if stratum.population is not None:
                routes.append(self._population(index, stratum, inputs, levels))
            estimate, gradient, rows = self._stratum(stratum, routes, levels)
            estimates.append(estimate)
            gradients.append(gradient)
            routes_rows.extend(rows)
        tables = [rate_table(data, estimates, levels, interval, "Reporting rate = reported / surveyed (Wilson interval); "
                             "a stratum without a survey borrows the pooled rate of the others.")]
        if routes_rows:
            tables.append(build("Routes, each alone and combined (classical)",
                                ROUTE_COLUMNS + [Column("heterogeneity p", "probability")], routes_rows,
                                "Combined by inverse-variance weighting on the log scale; heterogeneity p from Cochran's Q."))
        run_warnings.append(
            "the classical multiplier treats the recorded count as exact, so its interval is too narrow; "
            "use it as a baseline (hiddenrate reporting --model exact or pooled for the full uncertainty)"
        )
        if data.stratified:
            overall = self._total(data, estimates, gradients, inputs, levels, pooled)
        else:
            overall = estimates[0]
        return Fitted(strata=estimates, overall=overall, tables=tables, warnings=run_warnings)

    # ------------------------------------------------------------------ routes
    @staticmethod
    def _pooled_surveys(data: ReportingData, inputs: dict[str, float]) -> dict[str, list[tuple[str, int, int]]]:
        """Per source, the (input id, reported, surveyed) of every stratum's own survey."""
        pooled: dict[str, list[tuple[str, int, int]]] = {}
        for index, stratum in enumerate(data.strata):
            for source in stratum.sources:
                if source.has_survey:
                    key = f"survey:{index}:{source.source}"
                    p = source.reported / source.surveyed
                    inputs[key] = p * (1 - p) / source.surveyed
                    pooled.setdefault(source.source, []).append((key, source.reported, source.surveyed))
        return pooled

    @staticmethod
    def _multiplier(index: int, stratum: ReportingStratum, name: str, pooled: dict[str, list[tuple[str, int, int]]],
                    inputs: dict[str, float], levels: tuple[float, ...]) -> Route:
        source = next(s for s in stratum.sources if s.source == name)
        route = Route(label=f"{name} (multiplier)")
        if source.has_survey:
            reported, surveyed = source.reported, source.surveyed
            parts = [(f"survey:{index}:{name}", reported, surveyed)]
        else:
            parts = pooled.get(name, [])
            reported, surveyed = sum(p[1] for p in parts), sum(p[2] for p in parts)
            route.label += ", pooled rate"
            if surveyed == 0:
                route.reason = f"no survey of how often incidents reach {name}, in this or any stratum"
                return route
        rate_intervals = {lv: wilson(reported, surveyed, lv) for lv in levels}
        route.rate = PointEstimate(reported / surveyed, dict(rate_intervals), "Wilson score interval")
        if reported == 0:
            route.reason = f"nobody in the survey reported to {name}: the multiplier is infinite"
            return route
        rate = reported / surveyed
        route.point = source.recorded / rate
        route.intervals = {lv: (source.recorded / hi, source.recorded / lo) for lv, (lo, hi) in rate_intervals.items()}
        if source.recorded > 0:
            route.log_variance = (1 - rate) / reported
            route.gradient = {key: -(m / surveyed) / rate for key, _, m in parts}
        return route

    @staticmethod
    def _population(index: int, stratum: ReportingStratum, inputs: dict[str, float], levels: tuple[float, ...]) -> Route:
        pop = stratum.population
        route = Route(label="population route")
        if pop is None:  # pragma: no cover - only called with a route
            return route
        size = float(np.sqrt(pop.low * pop.high))
        sigma = float((np.log(pop.high) - np.log(pop.low)) / (2 * norm.ppf(0.5 + pop.level / 2)))
        share = pop.victimized / pop.respondents
        route.point = size * share
        if pop.victimized == 0:
            route.intervals = {lv: (0.0, 0.0) for lv in levels}
            return route
        inputs[f"population:{index}"] = sigma**2
        inputs[f"prevalence:{index}"] = share * (1 - share) / pop.respondents
        route.log_variance = sigma**2 + (1 - share) / pop.victimized
        route.gradient = {f"population:{index}": 1.0, f"prevalence:{index}": 1 / share}
        route.intervals = {lv: _lognormal(route.point, route.log_variance, lv) for lv in levels}
        return route

    def _stratum(self, stratum: ReportingStratum, routes: list[Route], levels: tuple[float, ...]) -> tuple[StratumEstimate, dict[str, float], list[list[Any]]]:
        method = diag.exact("closed form (classical multiplier)")
        warnings: list[str] = [r.reason for r in routes if r.reason and len(routes) > 1]
        rate = next((r.rate for r in routes if r.rate is not None), None)
        quantities = {"reporting_rate": rate} if rate is not None else {}
        usable = [r for r in routes if r.point is not None]
        positive = [r for r in usable if r.log_variance is not None]
        rows: list[list[Any]] = []
        label = stratum.label()
        if not usable:
            reason = "; ".join(r.reason for r in routes if r.reason) or "no route gives an estimate"
            return StratumEstimate(stratum=stratum.stratum, observed=stratum.recorded, total=None, diagnostics=method,
                                   reason=reason, quantities=quantities), {}, rows
        if len(positive) > 1:
            weights = np.array([1 / r.log_variance for r in positive])  # type: ignore[operator]
            logs = np.log([r.point for r in positive])  # type: ignore[arg-type]
            centre = float(np.dot(weights, logs) / weights.sum())
            variance = float(1 / weights.sum())
            q_stat = float(np.dot(weights, (logs - centre) ** 2))
            p_het = float(chi2.sf(q_stat, len(positive) - 1))
            point = float(np.exp(centre))
            total = PointEstimate(point, {lv: _lognormal(point, variance, lv) for lv in levels}, self.interval_type)
            gradient: dict[str, float] = {}
            for w, route in zip(weights / weights.sum(), positive, strict=True):
                for key, value in route.gradient.items():
                    gradient[key] = gradient.get(key, 0.0) + float(w) * value
            for route in routes:  # closed form: the intervals at the fit's levels only
                ends = dict(route.intervals)
                rows.append([label, route.label, interval_cell(route.point, lambda lv: ends.get(lv, (None, None)), levels), None])
            rows.append([label, "combined", distribution_cell(total, levels, "equal-tailed"), p_het])
            if p_het < 0.05:
                warnings.append(f"the routes disagree beyond their sampling error (Cochran's Q p = {p_het:.3g}); "
                                "at least one survey does not describe these records")
        else:
            best = positive[0] if positive else usable[0]
            point = float(best.point)  # type: ignore[arg-type]
            total = PointEstimate(point, dict(best.intervals), self.interval_type)
            gradient = dict(best.gradient)
            if not positive:
                warnings.append("nothing was recorded: the classical multiplier gives 0 whatever the reporting rate; "
                                "the Bayesian models (--model exact or pooled) say how many a zero can hide")
        return StratumEstimate(stratum=stratum.stratum, observed=stratum.recorded, total=total, diagnostics=method,
                               warnings=tuple(warnings), quantities=quantities), gradient, rows

    def _total(self, data: ReportingData, estimates: list[StratumEstimate], gradients: list[dict[str, float]],
               inputs: dict[str, float], levels: tuple[float, ...], pooled: dict[str, list[tuple[str, int, int]]]) -> StratumEstimate:
        method = diag.exact("closed form (classical multiplier)")
        observed = sum(e.observed for e in estimates)
        missing = [e.label for e in estimates if e.total is None]
        quantities: dict[str, Any] = {}
        primary = pooled.get(data.source_names[0], [])
        reported, surveyed = sum(p[1] for p in primary), sum(p[2] for p in primary)
        if surveyed > 0:
            quantities["reporting_rate"] = PointEstimate(reported / surveyed, {lv: wilson(reported, surveyed, lv) for lv in levels}, "Wilson score interval (pooled survey)")
        if missing:
            return StratumEstimate(stratum={}, observed=observed, total=None, diagnostics=method, quantities=quantities,
                                   reason=f"no total over strata: no estimate for {', '.join(missing)}")
        points = [float(e.total.median() or 0.0) for e in estimates if e.total is not None]
        total = float(sum(points))
        derivative: dict[str, float] = {}
        for point, gradient in zip(points, gradients, strict=True):
            for key, value in gradient.items():
                derivative[key] = derivative.get(key, 0.0) + point * value
        variance = sum(value**2 * inputs[key] for key, value in derivative.items())
        log_variance = variance / total**2 if total > 0 else 0.0
        estimate = PointEstimate(total, {lv: _lognormal(total, log_variance, lv) for lv in levels}, self.interval_type)
        return StratumEstimate(stratum={}, observed=observed, total=estimate, diagnostics=method, quantities=quantities,
                               details={"how": "sum of stratum estimates; delta-method variance over the survey proportions"})


def _lognormal(point: float, log_variance: float, level: float) -> tuple[float, float]:
    if point <= 0 or log_variance <= 0:
        return float(point), float(point)
    spread = float(np.exp(norm.ppf(0.5 + level / 2) * np.sqrt(log_variance)))
    return point / spread, point * spread


__all__ = ["ClassicalMultiplier", "wilson"]

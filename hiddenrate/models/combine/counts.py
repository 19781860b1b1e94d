r"""One stratum of unlinked counts with surveys (and a population route), computed exactly.

Unlinked counts are records that are not matched across sources: the police recorded
:math:`y_1`, an NGO :math:`y_2`, and nobody knows who is on both. Each person (or incident) of
the :math:`N` reaches source :math:`j` with probability :math:`p_j`, independently across
sources, so given :math:`N` the counts are independent binomials; a survey says how often
victims reach a source:

.. math::

    N \sim \text{Poisson}(\lambda),\quad y_j \mid N \sim \text{Binomial}(N, p_j),\quad
    r_j \sim \text{Binomial}(m_j, p_j),\quad p_j \sim \text{Beta}(\alpha, \beta),\quad
    p(\lambda) \propto 1/\lambda .

Marginally :math:`y_j \sim \text{Poisson}(\lambda p_j)` (thinning), but the counts share the
same people, so they are *not* independent given :math:`\lambda`; conditioning on :math:`N`
keeps that dependence. Integrating each :math:`p_j` leaves a one-dimensional posterior of
:math:`N` (a product of beta-binomials), computed exactly on a grid by
:mod:`hiddenrate.models.reporting.exact`; the population route (:math:`N \sim
\text{Binomial}(P, q)`) replaces the prior on :math:`N`. Given :math:`N`,
:math:`p_j \sim \text{Beta}(\alpha + r_j + y_j,\ \beta + m_j - r_j + N - y_j)`, drawn exactly.
No MCMC. The assumption that sources reach people independently of each other cannot be
checked without matched records: with matched lists use ``[lists]`` instead.

Conflict check: each survey is split off (its source keeps its count) and compared with the
capture probability the rest implies; the population route is split on the total (exact, from
the grids). See :mod:`hiddenrate.models.combine.checks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.spec import CombineSpec, StratumEvidence
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import EstimationError
from hiddenrate.models.combine.checks import (
    Conflict,
    StratumFit,
    Summary,
    ladder_cell,
    ppc_warning,
    predictive_check,
    survey_conflict_p_value,
)
from hiddenrate.models.reporting.exact import (
    PopulationEvidence,
    SourceEvidence,
    StratumPosterior,
    combine,
    conflict_p_value,
    draw_prevalence,
    draw_rates,
    posterior_grid,
)
from hiddenrate.result.value import StratumEstimate
from hiddenrate.core.settings import headline_level

_ROUTE_HINT = "The population size or the victimisation survey may not describe the people these sources count"


def _grid_summary(posterior: StratumPosterior | None, level: float) -> Summary | None:
    if posterior is None or posterior.total.tail_mass > 1e-4:
        return None
    return Summary.of_grid(posterior.total, level)


def evidence_of(evidence: StratumEvidence, spec: CombineSpec) -> tuple[list[SourceEvidence], PopulationEvidence | None]:
    """Each source's count and Beta(alpha + r, beta + m - r), and the population route."""
    prior = spec.priors["capture_probability"]
    sources = []
    for name in spec.count_sources:
        survey = evidence.surveys.get(name)
        m, r = (survey.surveyed, survey.reported) if survey is not None else (0, 0)
        sources.append(SourceEvidence(name, evidence.counts[name], prior["alpha"] + r, prior["beta"] + m - r, m, r))
    population = None
    if evidence.population is not None:
        q = spec.priors["prevalence"]
        population = PopulationEvidence.from_route(evidence.population, q["alpha"], q["beta"])
    return sources, population


def _posterior(sources: list[SourceEvidence], population: PopulationEvidence | None) -> StratumPosterior | None:
    try:
        return combine(sources, population, 0.0, 1.0)
    except EstimationError:
        return None


def fit_counts_stratum(evidence: StratumEvidence, spec: CombineSpec, draws: int, levels: tuple[float, ...], seed: int,
                       checks: bool = True) -> StratumFit:
    """Fit one stratum of unlinked counts exactly: estimate, quantities, warnings, table rows."""
    level = headline_level(levels)
    rng = np.random.default_rng(seed)
    sources, population = evidence_of(evidence, spec)
    method = diag.Diagnostics(method=f"exact posterior on a grid; {draws} independent draws for the capture probabilities "
                              "(no MCMC)", converged=True, chains=1, draws=draws)
    if not any(s.surveyed > 0 for s in sources) and population is None:
        reason = ("the evidence does not bound the total: no source has a survey of its reach and there is no population "
                  "route, so the total would come from the prior alone (give a survey of at least one source)")
        return StratumFit(StratumEstimate(stratum=evidence.stratum, observed=evidence.observed, total=None,
                                          diagnostics=method, reason=reason))
    try:
        posterior = combine(sources, population, 0.0, 1.0)
    except EstimationError as err:
        return StratumFit(StratumEstimate(stratum=evidence.stratum, observed=evidence.observed, total=None,
                                          diagnostics=method, reason=str(err)))
    warnings = [f"no survey for {s.name}: its capture probability is inferred from the other evidence, not measured"
                for s in sources if s.surveyed == 0 and (len(sources) > 1 or population is not None)]
    if posterior is None:
        reason = ("the evidence does not bound the total: no source has a survey with a report in it and there is no "
                  "population route (give a survey of at least one source)")
        return StratumFit(StratumEstimate(stratum=evidence.stratum, observed=evidence.observed, total=None,
                                          diagnostics=method, warnings=tuple(warnings), reason=reason))
    if posterior.heavy_tail:
        warnings.append("the evidence gives almost no upper bound: the posterior of the total has no finite mean; read the "
                        "median and the interval, not the mean")
    if posterior.total.tail_mass > 1e-4:
        warnings.append(f"{posterior.total.tail_mass:.2%} of the posterior lies beyond 10^13: the upper end is not reliable")
    totals, rates = draw_rates(posterior.total, sources, draws, rng)
    quantities: dict[str, Any] = {f"capture_probability[{s.name}]": DrawsDistribution(rates[s.name]) for s in sources}
    if population is not None:
        _, prevalence = draw_prevalence(totals, population, rng)
        quantities["victimization_prevalence"] = DrawsDistribution(prevalence)
    conflicts: list[Conflict] = []
    sources_rows = _sources_rows(evidence, sources, population, posterior, level)
    check_rows: list[list[Any]] = []
    check_p = None
    if checks:
        conflicts = _conflicts(evidence, spec, sources, population, draws, level, rng)
        check_rows, check_p = _predictive(sources, totals, rates, level, rng)
        warnings += [w for c in conflicts if (w := c.warning()) is not None]
        warning = ppc_warning(check_p)
        if warning:
            warnings.append(warning)
    joint_rows = [[f"capture probability of {s.name}", Summary.of(rates[s.name], level).cell] for s in sources]
    if population is not None:
        joint_rows.append(["victimisation prevalence", Summary.of(np.asarray(quantities["victimization_prevalence"].draws), level).cell])
    estimate = StratumEstimate(
        stratum=evidence.stratum, observed=evidence.observed, total=posterior.total, diagnostics=method,
        warnings=tuple(dict.fromkeys(warnings)), quantities=quantities,
        details={"conflicts": [{"evidence": c.evidence, "p_value": c.p_value, "fires": c.fires} for c in conflicts],
                 "posterior_predictive_p": check_p},
    )
    return StratumFit(estimate, totals.astype(float), {s.name: rates[s.name] for s in sources}, sources_rows, joint_rows,
                      [c.row() for c in conflicts], check_rows, check_p)


def _conflicts(evidence: StratumEvidence, spec: CombineSpec, sources: list[SourceEvidence],
               population: PopulationEvidence | None, draws: int, level: float, rng: np.random.Generator) -> list[Conflict]:
    prior = spec.priors["capture_probability"]
    out = []
    for index, source in enumerate(sources):
        survey = evidence.surveys.get(source.name)
        if survey is None:
            continue
        label, counts = f"survey of {source.name}", survey.text()
        quantity = f"capture probability of {source.name}"
        alone = Summary.of_beta(source.a, source.b, level)
        rest_sources = [s if i != index else SourceEvidence(s.name, s.recorded, prior["alpha"], prior["beta"])
                        for i, s in enumerate(sources)]
        if not (any(s.surveyed > 0 for s in rest_sources) or population is not None):
            out.append(Conflict(label, quantity, counts, alone, None, None, "no other source has a survey"))
            continue
        rest = _posterior(rest_sources, population)
        if rest is None or rest.total.tail_mass > 1e-4:
            out.append(Conflict(label, quantity, counts, alone, None, None, "the rest of the evidence gives no bounded estimate"))
            continue
        totals = rest.total.sample(draws, rng)
        implied = rng.beta(prior["alpha"] + source.recorded, prior["beta"] + totals - source.recorded)
        p_value = survey_conflict_p_value(implied, survey, (prior["alpha"], prior["beta"]))
        out.append(Conflict(label, quantity, counts, alone, Summary.of(implied, level), p_value))
    if population is not None:
        label = "population route (population size x share victimised)"
        route_counts = f"{evidence.population.victimized}/{evidence.population.respondents}" if evidence.population else ""
        alone_grid = posterior_grid(population.log_prior, 0, population.upper)
        alone_summary = Summary.of_grid(alone_grid, level)
        rest = _posterior(sources, None)
        summary = _grid_summary(rest, level)
        if rest is None or summary is None:
            out.append(Conflict(label, "total", route_counts, alone_summary, None, None,
                                "the sources alone do not bound the total", hint=_ROUTE_HINT))
        else:
            out.append(Conflict(label, "total", route_counts, alone_summary, summary,
                                conflict_p_value(alone_grid, rest.total), hint=_ROUTE_HINT))
    return out


def _sources_rows(evidence: StratumEvidence, sources: list[SourceEvidence], population: PopulationEvidence | None,
                  posterior: StratumPosterior, level: float) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for source in sources:
        survey = evidence.surveys.get(source.name)
        rate = Summary.of_beta(source.a, source.b, level).cell if survey is not None else None
        alone = _grid_summary(_posterior([source], None), level) if survey is not None else None
        rows.append([f"{source.name} (count / survey)", source.recorded, survey.text() if survey else "none", rate,
                     alone.cell if alone is not None else None])
    if population is not None and evidence.population is not None:
        route = evidence.population
        grid = posterior_grid(population.log_prior, 0, population.upper)
        rows.append([f"population route alone ({route.low:,.0f} to {route.high:,.0f} people x share victimised)", None,
                     f"{route.victimized}/{route.respondents}", None, ladder_cell(grid.median(), grid.interval, level)])
    rows.append(["all evidence combined", evidence.observed, "", None,
                 ladder_cell(posterior.total.median(), posterior.total.interval, level)])
    return rows


def _predictive(sources: list[SourceEvidence], totals: np.ndarray, rates: dict[str, np.ndarray], level: float,
                rng: np.random.Generator) -> tuple[list[list[Any]], float]:
    labels, observed, expected, replicate = [], [], [], []
    for source in sources:
        p = rates[source.name]
        labels.append(f"count of {source.name}")
        observed.append(float(source.recorded))
        expected.append(totals * p)
        replicate.append(rng.binomial(totals.astype(np.int64), p).astype(float))
        if source.surveyed > 0:
            labels.append(f"survey: known to {source.name}")
            observed.append(float(source.reported))
            expected.append(source.surveyed * p)
            replicate.append(rng.binomial(source.surveyed, p).astype(float))
    return predictive_check(np.array(observed), np.column_stack(expected), np.column_stack(replicate), labels, level)


__all__ = ["evidence_of", "fit_counts_stratum"]

"""One stratum of matched lists with surveys (and a population route): the joint fit, what each
piece of evidence says alone, the conflict check and the posterior predictive check.

The model and its sampler are in :mod:`hiddenrate.models.combine.core`; the checks in
:mod:`hiddenrate.models.combine.checks`. Here one stratum is fitted several times with the same
compiled model: once with all the evidence (the estimate), once per survey without it and once
without the population route (the conflict check), and once with the lists alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.reporting import PopulationRoute
from hiddenrate.data.spec import CombineSpec, StratumEvidence, Survey
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import EstimationError
from hiddenrate.models.combine.checks import (
    Conflict,
    StratumFit,
    Summary,
    ladder_cell,
    draws_conflict_p_value,
    ppc_warning,
    predictive_check,
    survey_conflict_p_value,
)
from hiddenrate.models.combine.core import JointFit, JointSampler, RouteData
from hiddenrate.models.combine.latent import LatentJointSampler
from hiddenrate.models.lists.latent_class import tempering_text
from hiddenrate.core.design import term_label
from hiddenrate.models.reporting.exact import SourceEvidence, combine
from hiddenrate.models.lists.two_list import lognormal_interval
from hiddenrate.result.value import StratumEstimate
from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE, headline_level
from hiddenrate.models.sampling.diagnostics import mcmc as mcmc_diagnostics

MONITORED = ["log_observed_mean", "main_effect", "log_odds_ratio", "prevalence", "total", "log_odds_unseen"]


@dataclass(frozen=True)
class Settings:
    """NUTS settings and what to compute."""

    draws: int = DEFAULT_DRAWS
    tune: int = DEFAULT_TUNE
    chains: int = DEFAULT_CHAINS
    checks: bool = True


def route_data(route: PopulationRoute) -> RouteData:
    """Log-normal population size with the route's interval, and its prevalence survey."""
    z = norm.ppf(0.5 + route.level / 2)
    mu = (np.log(route.low) + np.log(route.high)) / 2
    sigma = (np.log(route.high) - np.log(route.low)) / (2 * z)
    return RouteData(float(mu), float(sigma), route.victimized, route.respondents)


def route_alone(route: PopulationRoute, prior: dict[str, float], size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of the total from the population route alone: N ~ Poisson(P q) (as in the joint model)."""
    data = route_data(route)
    population = np.exp(rng.normal(data.log_population_mu, data.log_population_sigma, size))
    prevalence = rng.beta(prior["alpha"] + route.victimized, prior["beta"] + route.respondents - route.victimized, size)
    return rng.poisson(population * prevalence).astype(float)


def quantity_names(spec: CombineSpec) -> tuple[list[str], list[str]]:
    """Names of the capture probabilities and of the log odds ratios, as in the Result."""
    capture = [f"capture_probability[{name}]" for name in spec.list_names]
    if len(spec.terms) == 1 and spec.lists_data is not None and spec.lists_data.k == 2:
        return capture, ["log_odds_ratio"]
    return capture, [f"log_odds_ratio[{term_label(t, spec.list_names)}]" for t in spec.terms]


def lists_identify(spec: CombineSpec) -> bool:
    """True when the matched lists alone identify the total: the log-linear model lacks the K-way
    term; the latent-class model needs three lists or more (with two, its dependence is the prior's)."""
    if spec.dependence == "latent-class":
        return len(spec.list_names) >= 3
    return tuple(range(len(spec.list_names))) not in spec.terms


def fit_lists_stratum(evidence: StratumEvidence, spec: CombineSpec, sampler: JointSampler | LatentJointSampler,
                      settings: Settings,
                      levels: tuple[float, ...], seed: int) -> StratumFit:
    """Fit one stratum: the estimate, its quantities, warnings and table rows."""
    table = evidence.table
    if table is None:  # pragma: no cover - the spec reader guarantees a table
        raise EstimationError("no matched lists in this stratum")
    names = spec.list_names
    level = headline_level(levels)
    surveyed = np.array([evidence.surveys[n].surveyed if n in evidence.surveys else 0 for n in names])
    reported = np.array([evidence.surveys[n].reported if n in evidence.surveys else 0 for n in names])
    route = route_data(evidence.population) if evidence.population is not None else None
    seeds = np.random.SeedSequence(seed).spawn(len(names) + 4)
    method = sampler.method(settings.draws, settings.tune, settings.chains)
    fits: dict[tuple[Any, ...], JointFit | str] = {}

    def fit(surveyed_here: np.ndarray, route_here: RouteData | None, child: np.random.SeedSequence) -> JointFit | str:
        key = (tuple(surveyed_here), route_here is not None)
        if key not in fits:
            try:
                fits[key] = sampler.sample(table.counts, surveyed_here, np.where(surveyed_here > 0, reported, 0),
                                           route=route_here, priors={k: dict(v) for k, v in spec.priors.items()},
                                           draws=settings.draws, tune=settings.tune, chains=settings.chains,
                                           seed=int(child.generate_state(1)[0]), remedy=True)
            except EstimationError as err:
                fits[key] = str(err)
        return fits[key]

    joint = fit(surveyed, route, seeds[0])
    if isinstance(joint, str):
        failed = diag.Diagnostics(method=method, converged=False, messages=(joint,))
        return StratumFit(StratumEstimate(stratum=evidence.stratum, observed=table.observed, total=None,
                                          diagnostics=failed, reason=joint))
    monitored = [v for v in MONITORED if v in joint.idata.posterior]
    method += tempering_text(joint.idata)  # "" unless a latent-class fit was sampled again with tempering
    diagnostics = mcmc_diagnostics(joint.idata, monitored, method)
    capture_names, odds_names = quantity_names(spec)
    quantities: dict[str, Any] = {n: DrawsDistribution(joint.capture[:, j]) for j, n in enumerate(capture_names)}
    for index, name in enumerate(odds_names):
        quantities[name] = DrawsDistribution(joint.theta[:, len(names) + index])
    if joint.prevalence is not None:
        quantities["victimization_prevalence"] = DrawsDistribution(joint.prevalence)
    warnings = _warnings(evidence, spec)
    conflicts: list[Conflict] = []
    sources_rows: list[list[Any]]
    check_rows: list[list[Any]] = []
    check_p: float | None = None
    rng = np.random.default_rng(seeds[1])
    if not settings.checks:
        sources_rows = _sources_rows(evidence, spec, joint, None, level, rng)
    else:
        conflicts = _conflicts(evidence, spec, joint, surveyed, reported, route, fit, seeds[3:], level, rng)
        alone = fit(np.zeros_like(surveyed), None, seeds[2]) if (surveyed.any() or route is not None) else joint
        sources_rows = _sources_rows(evidence, spec, joint, alone, level, rng)
        check_rows, check_p = _predictive(evidence, spec, joint, surveyed, reported, level, rng)
        warnings += [w for c in conflicts if (w := c.warning()) is not None]
        warning = ppc_warning(check_p)
        if warning:
            warnings.append(warning)
        for key, other in fits.items():
            if isinstance(other, str) or other is joint:
                continue
            other_diag = mcmc_diagnostics(other.idata, [v for v in MONITORED if v in other.idata.posterior], method)
            if not other_diag.converged:
                warnings.append("a fit of the conflict check (without one piece of evidence) did not converge: "
                                + "; ".join(other_diag.messages))
    estimate = StratumEstimate(
        stratum=evidence.stratum, observed=table.observed, total=DrawsDistribution(joint.total.astype(float)),
        diagnostics=diagnostics, warnings=tuple(dict.fromkeys(warnings)), quantities=quantities, idata=joint.idata,
        details={"conflicts": [{"evidence": c.evidence, "p_value": c.p_value, "fires": c.fires} for c in conflicts],
                 "posterior_predictive_p": check_p},
    )
    joint_rows = [[label, Summary.of(draws, level).cell] for label, draws in _joint_quantities(spec, joint)]
    return StratumFit(estimate, joint.total.astype(float), {n: joint.capture[:, j] for j, n in enumerate(names)},
                      sources_rows, joint_rows, [c.row() for c in conflicts], check_rows, check_p)


def _joint_quantities(spec: CombineSpec, joint: JointFit) -> list[tuple[str, np.ndarray]]:
    names = spec.list_names
    out = [(f"capture probability of {name}", joint.capture[:, j]) for j, name in enumerate(names)]
    for index, term in enumerate(spec.terms):
        gamma = joint.theta[:, len(names) + index]
        out.append((f"log odds ratio {term_label(term, names)}", gamma))
        out.append((f"odds ratio {term_label(term, names)}", np.exp(gamma)))
    if joint.prevalence is not None:
        out.append(("victimisation prevalence", joint.prevalence))
    return out


def _warnings(evidence: StratumEvidence, spec: CombineSpec) -> list[str]:
    out = []
    table = evidence.table
    if table is not None and table.zero_overlap_pairs():
        pairs = ", ".join(f"{a} & {b}" for a, b in table.zero_overlap_pairs())
        out.append(f"lists that never overlap ({pairs}): their dependence rests on the prior and the estimate is fragile")
    unmeasured = not lists_identify(spec) and not any(n in evidence.surveys for n in spec.list_names)
    if unmeasured and spec.dependence == "latent-class":
        out.append(f"nothing measures the dependence between {' and '.join(spec.list_names)}: with two lists the latent-"
                   "class model cannot tell visible and hidden classes apart, so the estimate rests on its priors "
                   "(LCMCR's); a survey of one list's reach would settle it")
    elif unmeasured and evidence.population is None:
        prior = spec.priors["log_odds_ratio"]
        out.append(
            f"nothing measures the dependence between {' and '.join(spec.list_names)}: with {len(spec.list_names)} lists "
            f"and no survey or population route the estimate rests on the prior for their log odds ratio "
            f"(Normal({prior['mu']:g}, {prior['sigma']:g})); a survey of one list's reach would settle it"
        )
    return out


def _conflicts(evidence: StratumEvidence, spec: CombineSpec, joint: JointFit, surveyed: np.ndarray, reported: np.ndarray,
               route: RouteData | None, fit: Callable[..., JointFit | str], seeds: list[np.random.SeedSequence],
               level: float, rng: np.random.Generator) -> list[Conflict]:
    names = spec.list_names
    out = []
    identified = lists_identify(spec)
    for j, name in enumerate(names):
        survey = evidence.surveys.get(name)
        if survey is None:
            continue
        label, counts = f"survey of {name}", survey.text()
        quantity = f"capture probability of {name}"
        alone = Summary.of_beta(1 + survey.reported, 1 + survey.surveyed - survey.reported, level)
        others = surveyed.copy()
        others[j] = 0
        if not (identified or others.any() or route is not None):
            out.append(Conflict(label, quantity, counts, alone, None, None, f"with {len(names)} lists only this survey "
                                "measures their dependence"))
            continue
        rest = fit(others, route, seeds[j])
        if isinstance(rest, str):
            out.append(Conflict(label, quantity, counts, alone, None, None, "the rest of the evidence gives no bounded estimate"))
            continue
        p_value = survey_conflict_p_value(rest.capture[:, j], survey)
        out.append(Conflict(label, quantity, counts, alone, Summary.of(rest.capture[:, j], level), p_value))
    if evidence.population is not None:
        route_draws = route_alone(evidence.population, dict(spec.priors["prevalence"]), joint.total.size, rng)
        label = "population route (population size x share victimised)"
        counts = f"{evidence.population.victimized}/{evidence.population.respondents}"
        hint = "The population size or the victimisation survey may not describe the people on these lists"
        alone_summary = Summary.of(route_draws, level)
        if not (identified or surveyed.any()):
            out.append(Conflict(label, "total", counts, alone_summary, None, None,
                                "the lists alone do not bound the total without their dependence prior", hint=hint))
        else:
            rest = fit(surveyed, None, seeds[-1])
            if isinstance(rest, str):
                out.append(Conflict(label, "total", counts, alone_summary, None, None, "the rest gives no bounded estimate",
                                    hint=hint))
            else:
                out.append(Conflict(label, "total", counts, alone_summary, Summary.of(rest.total, level),
                                    draws_conflict_p_value(route_draws, rest.total), hint=hint))
    return out


def _sources_rows(evidence: StratumEvidence, spec: CombineSpec, joint: JointFit, alone: JointFit | str | None,
                  level: float, rng: np.random.Generator) -> list[list[Any]]:
    """Rows of "what each source says alone"; ``alone`` is the fit of the lists without surveys or route
    (a message if it failed, ``None`` if not run: with the checks off the row is there without a total)."""
    table = evidence.table
    if table is None:  # pragma: no cover - the spec reader guarantees a table
        return []
    sizes = table.list_sizes()
    prior = spec.priors["capture_probability"]
    rows: list[list[Any]] = []
    for name in spec.list_names:
        survey: Survey | None = evidence.surveys.get(name)
        rate: dict[str, Any] | None = None
        total: dict[str, Any] | None = None
        if survey is not None:
            a, b = prior["alpha"] + survey.reported, prior["beta"] + survey.surveyed - survey.reported
            rate = Summary.of_beta(a, b, level).cell
            posterior = combine([SourceEvidence(name, sizes[name], a, b)], None, 0.0, 1.0)
            if posterior is not None and posterior.total.tail_mass < 1e-4:
                total = ladder_cell(posterior.total.median(), posterior.total.interval, level)
        rows.append([f"{name} (list size / survey)", sizes[name], survey.text() if survey else "none", rate, total])
    if spec.dependence == "latent-class":
        dependence = "latent classes"
    elif not spec.terms:
        dependence = "independent lists"
    else:
        dependence = (f"dependence prior Normal({spec.priors['log_odds_ratio']['mu']:g}, "
                      f"{spec.priors['log_odds_ratio']['sigma']:g})")
    lists_total = Summary.of(alone.total, level).cell if isinstance(alone, JointFit) else None
    skipped = "; not fitted with the checks off" if alone is None else ""
    rows.append([f"matched lists alone ({dependence}{skipped})", table.observed, "", None, lists_total])
    if len(spec.list_names) == 2:
        c = table.counts
        n11, n1, n2 = int(c[3]), int(c[1] + c[3]), int(c[2] + c[3])
        chapman: dict[str, Any] | None = None
        if n11 > 0:
            point = (n1 + 1) * (n2 + 1) / (n11 + 1) - 1
            variance = (n1 + 1) * (n2 + 1) * (n1 - n11) * (n2 - n11) / ((n11 + 1) ** 2 * (n11 + 2))
            chapman = ladder_cell(point, lambda x: lognormal_interval(table.observed, point - table.observed, variance, x),
                                  level)
        rows.append(["matched lists alone, if independent (Chapman)", table.observed, "", None, chapman])
    if evidence.population is not None:
        route = evidence.population
        draws = route_alone(route, dict(spec.priors["prevalence"]), joint.total.size, rng)
        rows.append([f"population route alone ({route.low:,.0f} to {route.high:,.0f} people x share victimised)", None,
                     f"{route.victimized}/{route.respondents}", None, Summary.of(draws, level).cell])
    rows.append(["all evidence combined", table.observed, "", None, Summary.of(joint.total, level).cell])
    return rows


def _predictive(evidence: StratumEvidence, spec: CombineSpec, joint: JointFit, surveyed: np.ndarray, reported: np.ndarray,
                level: float, rng: np.random.Generator) -> tuple[list[list[Any]], float]:
    table = evidence.table
    if table is None:  # pragma: no cover
        return [], 1.0
    names = spec.list_names
    pi = joint.cell_probabilities
    cell_means = np.exp(joint.log_observed_mean)[:, None] * pi[:, 1:] / (1 - pi[:, :1])
    labels = [" + ".join(n for j, n in enumerate(names) if (c >> j) & 1) for c in range(1, len(table.counts))]
    observed = [table.counts[1:].astype(float)]
    expected = [cell_means]
    replicate = [rng.poisson(cell_means).astype(float)]
    for j, name in enumerate(names):
        if surveyed[j] > 0:
            labels.append(f"survey: known to {name}")
            observed.append(np.array([float(reported[j])]))
            expected.append(surveyed[j] * joint.capture[:, j : j + 1])
            replicate.append(rng.binomial(int(surveyed[j]), joint.capture[:, j : j + 1]).astype(float))
    return predictive_check(np.concatenate(observed), np.concatenate(expected, axis=1), np.concatenate(replicate, axis=1),
                            labels, level)


__all__ = ["Settings", "fit_lists_stratum", "lists_identify", "quantity_names", "route_alone", "route_data"]

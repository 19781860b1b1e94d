r"""``hiddenrate combine``: one posterior from matched lists, unlinked counts, surveys and the
population route, with a check that the pieces agree.

Why. With two lists (police and one NGO, the common case) capture-recapture cannot tell list
dependence from population size: if the NGO refers its clients to the police, the overlap is
inflated and the estimate far too low. A survey that says how often victims reach the police
measures the police list's capture probability, and with it the dependence. Conversely, the
lists check a survey rate taken in another place or year. No source alone gives this estimate.

Two models, chosen by the evidence:

``joint-lists`` (matched lists, see :mod:`~hiddenrate.models.combine.core`)
    Poisson log-linear cells with a log odds ratio per pair of lists (default), each survey a
    binomial observation of its list's marginal capture probability, optionally the population
    route :math:`\lambda = P q`; NUTS (nutpie), compiled once per number of lists and terms;
    the number on no list drawn afterwards.
``joint-counts`` (unlinked counts, see :mod:`~hiddenrate.models.combine.counts`)
    Binomial counts given the total, beta-binomial surveys, optionally the population route;
    exact on a grid.

Every fit also reports what each piece of evidence says alone, a conflict check (each survey,
and the population route, against the rest of the evidence; :mod:`~hiddenrate.models.combine.checks`)
and a posterior predictive check of the observed counts.

Examples
--------
>>> import hiddenrate
>>> spec = {"sources": {"police": {"count": 100, "surveyed": 711, "reported": 195},
...                     "ngo": {"count": 140, "surveyed": 400, "reported": 150}}}
>>> result = hiddenrate.fit_combined(spec)
>>> result.model, round(result.overall.total.median())
('joint-counts', 370)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.spec import CombineSpec, read_spec
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.models.lists.base import input_summary
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings, stratum_seeds
from hiddenrate.models.combine.checks import CONFLICT_LEVEL, ROUTE_LABEL, StratumFit, resample
from hiddenrate.models.combine.counts import fit_counts_stratum
from hiddenrate.models.combine.lists import Settings, fit_lists_stratum
from hiddenrate.core.design import model_label
from hiddenrate.result.table import Column, build
from hiddenrate.result.value import ModelCard, Result, StratumEstimate

logger = logging.getLogger("hiddenrate")

_SURVEY_ASSUMPTION = (
    "Each survey's respondents are a simple random sample of the same {unit} the sources count, in the same place and "
    "period: 'r of m known to the police' measures the police's capture probability."
)
_ROUTE_ASSUMPTION = (
    "Population route: the population size is log-normal with the given interval and the victimisation survey is a "
    "simple random sample of that population."
)


def fit_combined(
    spec: CombineSpec | Mapping[str, Any] | str | Path,
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int | None = DEFAULT_SEED,
    interval: str = DEFAULT_INTERVAL,
    sampling: Mapping[str, Any] | None = None,
    checks: bool = True,
    base_dir: str | Path | None = None,
) -> Result:
    """Combine matched lists, unlinked counts, surveys and a population route into one estimate.

    Parameters
    ----------
    spec
        A spec read with :func:`hiddenrate.read_spec`, a path to a TOML spec, or the same as a
        dict (see :mod:`hiddenrate.data.spec`).
    levels, seed, interval
        Interval levels, seed of every random draw (``None``: random, recorded), ``equal-tailed``
        or ``hdi``.
    sampling
        ``{"draws", "tune", "chains"}``: NUTS settings for matched lists (``draws x chains`` is
        also the number of exact draws of the capture probabilities for unlinked counts, at
        least 4,000).
    checks
        Compute the conflict check, the posterior predictive check and, for matched lists, the
        total from the lists alone (several extra fits for matched lists). ``False`` skips them;
        the table of what each source says alone is always given (with the checks off, without
        the lists-alone total).
    base_dir
        Where relative paths of a dict spec point (default: the current directory).

    Returns
    -------
    Result
        ``command = "combine"``; per stratum the total, and the quantities
        ``capture_probability[SOURCE]``, ``log_odds_ratio`` (two lists; with more,
        ``log_odds_ratio[A:B]`` per pair) and ``victimization_prevalence`` (population route).
        ``details["tables"]`` holds what each source says alone, the joint posterior of the
        capture probabilities and dependence, the conflict check and the posterior predictive
        check.
    """
    parsed = spec if isinstance(spec, CombineSpec) else read_spec(spec, base_dir=base_dir)
    return combined_result(parsed, FitSettings.of(levels, interval, seed, sampling), checks)


def combined_result(parsed: CombineSpec, settings: FitSettings, checks: bool = True) -> Result:
    """:func:`fit_combined` on a read spec with validated settings: fit every stratum, then the Result."""
    mcmc = settings.mcmc()
    seeds = stratum_seeds(settings.seed, len(parsed.strata) + 1)
    if parsed.list_names:
        fits = _fit_matched(parsed, Settings(int(mcmc["draws"]), int(mcmc["tune"]), int(mcmc["chains"]), checks),
                            settings.levels, seeds)
        model, title = "joint-lists", "Joint model of matched lists" + _evidence_words(parsed)
    else:
        exact_draws = max(int(mcmc["draws"]) * int(mcmc["chains"]), 4000)
        fits = [fit_counts_stratum(evidence, parsed, exact_draws, settings.levels, child, checks)
                for evidence, child in zip(parsed.strata, seeds, strict=False)]
        model, title = "joint-counts", "Exact joint model of unlinked counts" + _evidence_words(parsed)
    overall = fits[0].estimate if not parsed.stratified else _overall(fits, seeds[-1])
    card = ModelCard("combine", model, title, _description(parsed), _assumptions(parsed))
    options = {"dependence": parsed.dependence,
               "terms": (None if not parsed.list_names or parsed.dependence == "latent-class"
                         else model_label(parsed.terms, parsed.list_names)),
               "draws": int(mcmc["draws"]), "tune": int(mcmc["tune"]), "chains": int(mcmc["chains"]), "checks": checks,
               "conflict_level": CONFLICT_LEVEL,
               "sampler": ("exact" if not parsed.list_names else
                           "gibbs-hmc" if parsed.dependence == "latent-class" else "nutpie")}
    extra = {"tables": _tables(parsed, fits),
             "spec": {"title": parsed.title, "description": parsed.description, "sources": dict(parsed.descriptions)}}
    return Result.build(settings, card, overall, [f.estimate for f in fits] if parsed.stratified else (),
                        input=_input(parsed), priors=_priors(parsed), options=options,
                        warnings=parsed.lists_data.notes if parsed.lists_data is not None else (), extra=extra,
                        unit=parsed.unit)


def _fit_matched(parsed: CombineSpec, settings: Settings, levels: tuple[float, ...],
                 seeds: list[int]) -> list[StratumFit]:
    """Each stratum's joint model of matched lists (log-linear or latent-class), compiled once."""
    from hiddenrate.models.combine.core import JointSampler, _COMPILED
    from hiddenrate.models.combine.latent import LatentJointSampler

    sampler: JointSampler | LatentJointSampler
    if parsed.dependence == "latent-class":
        sampler = LatentJointSampler(len(parsed.list_names))
        logger.info("latent-class joint model for %d lists (the first fit compiles for about 10 s)", sampler.k)
    else:
        sampler = JointSampler(len(parsed.list_names), parsed.terms)
        if (sampler.k, sampler.terms) not in _COMPILED:
            logger.info("compiling the joint model for %d lists (once per process; about 10-30 s)", sampler.k)
    fits = []
    for evidence, child in zip(parsed.strata, seeds, strict=False):
        if parsed.stratified:
            logger.info("fitting stratum %s", evidence.label())
        fits.append(fit_lists_stratum(evidence, parsed, sampler, settings, levels, child))
    return fits


def _overall(fits: list[StratumFit], seed: int) -> StratumEstimate:
    """The total over strata (sum of independent stratum posteriors, draw by draw) and each source's
    capture probability over all strata (captured over total, draw by draw)."""
    estimates = [f.estimate for f in fits]
    observed = sum(e.observed for e in estimates)
    diagnostics = diag.combine([e.diagnostics for e in estimates])
    missing = [f.estimate.label for f in fits if f.estimate.total is None or f.totals is None]
    if missing:
        return StratumEstimate(stratum={}, observed=observed, total=None, diagnostics=diagnostics,
                               reason=f"no total over strata: no estimate for {', '.join(missing)}")
    rng = np.random.default_rng(seed)
    size = max(f.totals.size for f in fits if f.totals is not None)
    indices = [resample(np.arange(f.totals.size), size, rng) if f.totals is not None else np.arange(size) for f in fits]
    total = np.sum([f.totals[i] for f, i in zip(fits, indices, strict=True) if f.totals is not None], axis=0)
    quantities: dict[str, Any] = {}
    for name in fits[0].capture or {}:
        captured = np.sum([f.totals[i] * f.capture[name][i] for f, i in zip(fits, indices, strict=True)
                           if f.totals is not None and f.capture is not None], axis=0)
        quantities[f"capture_probability[{name}]"] = DrawsDistribution(captured / np.maximum(total, 1))
    return StratumEstimate(stratum={}, observed=observed, total=DrawsDistribution(total), diagnostics=diagnostics,
                           quantities=quantities,
                           details={"combined_from_strata": len(fits), "how": "sum of independent stratum posteriors"})


def _evidence_words(spec: CombineSpec) -> str:
    parts = [word for word, present in (("surveys", spec.has_surveys), ("the population route", spec.has_population)) if present]
    return (" with " + " and ".join(parts)) if parts else ""


def _description(spec: CombineSpec) -> str:
    route = ", and the population route (population size x share victimised)" if spec.has_population else ""
    if spec.list_names and spec.dependence == "latent-class":
        return ("One posterior over the total and each list's capture probability: matched lists from the latent-class "
                "model (people in latent classes that differ in how visible they are; lists independent within a class; "
                "LCMCR's priors), each survey a binomial observation of its list's capture probability; Gibbs-HMC, the "
                "number on no list drawn from its exact conditional.")
    if spec.list_names:
        return (f"One posterior over the total, each list's capture probability and the dependence between lists "
                f"({model_label(spec.terms, spec.list_names)}): matched lists as Poisson log-linear cells, each survey a "
                f"binomial observation of its list's capture probability{route}; NUTS, the number on no list drawn "
                "afterwards.")
    return (f"One posterior over the total and each source's capture probability from unlinked counts (binomial given "
            f"the total) and their surveys{route}; exact on a grid.")


def _assumptions(spec: CombineSpec) -> tuple[str, ...]:
    out = ["Closed population: every piece of evidence refers to the same people (or incidents) and period."]
    if spec.list_names:
        out.append("Records are matched correctly across the lists.")
        if spec.dependence == "latent-class":
            out.append("All dependence between lists comes from people differing in visibility: within a latent class, "
                       "being on one list does not change the chance of being on another (K = 10 classes at first, "
                       "doubled up to 40 while the last one holds over 2% of the population).")
        elif spec.dependence == "independent":
            out.append("The lists are independent of each other (no dependence is modelled).")
        elif spec.dependence == "pairwise":
            out.append("Dependence between lists is one log odds ratio per pair of lists, with no interaction among three or "
                       "more; with two lists that odds ratio is identified only by a survey or the population route.")
        else:
            out.append(f"Dependence between lists is captured by the terms {model_label(spec.terms, spec.list_names)}.")
        if spec.dependence != "latent-class":
            out.append("Within a stratum everyone has the same chances of being on each list, beyond the modelled "
                       "dependence.")
    else:
        out.append("Each victim (or incident) reaches each source independently of the other sources and with the same "
                   "probability; without matched records this cannot be checked.")
    if spec.has_surveys:
        out.append(_SURVEY_ASSUMPTION.format(unit=spec.unit))
    if spec.has_population:
        out.append(_ROUTE_ASSUMPTION)
    return tuple(out)


def _priors(spec: CombineSpec) -> dict[str, Any]:
    priors = spec.priors
    out: dict[str, Any] = {}
    if spec.list_names and spec.dependence == "latent-class":
        from hiddenrate.models.lists.latent_class_core import DEFAULT_PRIORS as LATENT_PRIORS

        out["alpha"] = {"distribution": "gamma", **LATENT_PRIORS["alpha"],
                        "meaning": "concentration of the class weights (integrated out; LCMCR's default)"}
        out["capture"] = {"distribution": "beta", **LATENT_PRIORS["capture"],
                          "meaning": "every class's capture probability of every list"}
        out["N"] = {"distribution": "p(N) ∝ 1/N", "meaning": "scale invariant"}
    elif spec.list_names:
        if spec.terms:
            out["log_odds_ratio"] = {"distribution": "normal", **priors["log_odds_ratio"],
                                     "meaning": "dependence between two lists (log odds ratio)"}
        out["main_effect"] = {"distribution": "normal", **priors["main_effect"],
                              "meaning": "log odds of being on one list only rather than on none"}
        out["log_observed_mean"] = {"distribution": "flat", "meaning": "p(N) ∝ 1/N (scale invariant)"}
    else:
        out["capture_probability"] = {"distribution": "beta", **priors["capture_probability"],
                                      "meaning": "each source's capture probability"}
        out["incidence"] = {"distribution": "p(lambda) ∝ 1/lambda", "meaning": "p(N) ∝ 1/N (scale invariant)"}
    if spec.has_population:
        out["prevalence"] = {"distribution": "beta", **priors["prevalence"], "meaning": "victimisation prevalence"}
    return out


def _population_summary(route: Any) -> dict[str, Any] | None:
    if route is None:
        return None
    return {"low": route.low, "high": route.high, "level": route.level, "victimized": route.victimized,
            "respondents": route.respondents}


def _input(spec: CombineSpec) -> dict[str, Any]:
    if spec.lists_data is not None:
        out = input_summary(spec.lists_data)
        out["surveys"] = [{"stratum": dict(s.stratum), "source": name, "surveyed": v.surveyed, "reported": v.reported}
                          for s in spec.strata for name, v in s.surveys.items()]
        populations = [{"stratum": dict(s.stratum), **(_population_summary(s.population) or {})}
                       for s in spec.strata if s.population is not None]
        if populations:
            out["population"] = populations
    else:
        rows = []
        for stratum in spec.strata:
            for name in spec.count_sources:
                survey = stratum.surveys.get(name)
                row: dict[str, Any] = {"stratum": dict(stratum.stratum), "source": name, "recorded": stratum.counts[name],
                                       "surveyed": survey.surveyed if survey else 0, "reported": survey.reported if survey else 0}
                if stratum.population is not None:
                    row["population"] = _population_summary(stratum.population)
                rows.append(row)
        out = {"format": "reporting", "unit": spec.unit, "by": list(spec.by), "sources": list(spec.count_sources),
               "notes": [], "rows": rows}
    out.update({"source": spec.source, "sha256": spec.sha256, "spec": spec.source, "files": dict(spec.files)})
    return out


def _interval(label: str, kind: str) -> Column:
    return Column(label, kind, "split", ("{level} low", "high"))


def _tables(spec: CombineSpec, fits: list[StratumFit]) -> list[dict[str, Any]]:
    """The combine tables; their interval cells hold every report level (the renderer picks one)."""
    prefix = [Column("stratum")] if spec.stratified else []

    def rows(attribute: str) -> list[list[Any]]:
        out = []
        for fit in fits:
            for row in getattr(fit, attribute) or []:
                out.append([fit.estimate.label, *row] if spec.stratified else list(row))
        return out

    tables = [build(
        "What each source says alone",
        [*prefix, Column("evidence"), Column("recorded", "count"), Column("survey"),
         _interval("capture probability (survey)", "probability"), _interval("total", "count")],
        rows("sources_rows"),
        "A source with a survey alone gives recorded / capture probability (the multiplier, with the survey's "
        "sampling error and the count's own noise)"
        + ("; the matched lists alone rest on their dependence model" if spec.list_names else "")
        + ". Survey: of how many surveyed, how many were known to the source. The last row uses all the evidence.",
    ), build(
        "Joint posterior: capture probabilities and dependence",
        [*prefix, Column("quantity"), _interval("probability or ratio", "number")],
        rows("joint_rows"),
        f"Posterior medians and {{level}} intervals. Capture probability: the share of all {spec.unit} (seen or not) "
        "on that source."
        + (" Odds ratio above 1: people on one list are more likely to be on the other (then independence would "
           "underestimate the total)." if spec.terms else ""),
    )]
    conflict_rows = rows("conflict_rows")
    column = 1 if spec.stratified else 0
    survey_rows = [r for r in conflict_rows if not str(r[column]).startswith(ROUTE_LABEL)]
    route_rows = [r for r in conflict_rows if str(r[column]).startswith(ROUTE_LABEL)]
    how = ("left out in turn; what it says alone is compared with what all the other evidence says about the same "
           f"quantity. Conflict p below {CONFLICT_LEVEL:g}: they disagree beyond their uncertainty (node splitting; with "
           "consistent evidence each check fires about 5% of the time).")
    verdict = [Column("conflict p", "probability"), Column("verdict")]
    if survey_rows:
        tables.append(build(
            "Conflict check: each survey against the rest of the evidence",
            [*prefix, Column("evidence"), Column("survey"), _interval("capture probability alone", "probability"),
             _interval("capture probability from the rest", "probability"), *verdict],
            survey_rows, "Each survey is " + how))
    if route_rows:
        tables.append(build(
            "Conflict check: the population route against the rest of the evidence",
            [*prefix, Column("evidence"), Column("prevalence survey"), _interval("total alone", "count"),
             _interval("total from the rest", "count"), *verdict],
            route_rows, "The population route is " + how))
    check_rows = rows("check_rows")
    if check_rows:
        p_values = ", ".join(f"{f.estimate.label}: {f.check_p_value:.2f}" if spec.stratified else f"{f.check_p_value:.2f}"
                             for f in fits if f.check_p_value is not None)
        tables.append(build(
            "Posterior predictive check of the observed counts",
            [*prefix, Column("counts"), Column("observed", "count"), _interval("predicted count", "count")],
            check_rows,
            f"Replicates of the data drawn from the joint posterior. Posterior predictive p-value (Freeman-Tukey): "
            f"{p_values}; below 0.05 the model does not reproduce the data (a large value proves little)."
            + (" Cells name the lists a record is on, and no other." if spec.list_names else "")))
    return tables


__all__ = ["combined_result", "fit_combined", "read_spec"]

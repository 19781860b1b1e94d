"""What every reporting-rate model shares: priors, the Result, the summary tables, diagnostics.

A model class holds only its specification (priors, options) and math: it implements
:meth:`ReportingModel.fit_data`, which returns the per-stratum estimates and the estimate over
all strata. :meth:`ReportingModel.fit` turns that into an immutable
:class:`~hiddenrate.result.value.Result`; the model keeps no state, so it can be fitted twice.
"""

from __future__ import annotations

import copy
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hiddenrate.data.reporting import ReportingData, ReportingStratum, read_reporting
from hiddenrate.core.diagnostics import ESS_MIN, RHAT_MAX, Diagnostics, convergence_messages
from hiddenrate.models.sampling.diagnostics import rank_diagnostics, remedy_note, tuning_steps
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.priors import merge_priors
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings
from hiddenrate.result.table import Column, build, interval_cell, report_levels
from hiddenrate.result.value import ModelCard, Result, StratumEstimate

logger = logging.getLogger("hiddenrate")

#: positional parameters of each prior family, and the checks on them
FAMILIES: dict[str, tuple[str, ...]] = {
    "beta": ("alpha", "beta"),
    "normal": ("mu", "sigma"),
    "halfnormal": ("sigma",),
    "flat": (),
    "power": ("shape",),
}
_POSITIVE = {"alpha", "beta", "sigma"}

#: the assumptions of both Bayesian reporting models
BAYES_ASSUMPTIONS = (
    "Each incident reaches the source independently with the same probability within a stratum "
    "(one case with many victims is not many independent reports).",
    "The survey's respondents report like the incidents in the records (same population, period and definition of the crime).",
    "Survey respondents are a simple random sample of incidents (no design effect).",
)


def _entry(name: str, base: Mapping[str, Any], value: Any, errors: list[str]) -> dict[str, Any]:
    """One prior override merged onto its default; its problems are appended to ``errors``.

    The family stays the default's, except that a flat default may be replaced by a Normal
    (give two numbers, mu and sigma) and set back to ``"flat"``.
    """
    default = str(base["dist"])
    allowed = ("flat", "normal") if default == "flat" else (default,)
    if isinstance(value, str):
        if value.strip() == "flat" and "flat" in allowed:
            return {"dist": "flat"}
        errors.append(f"prior '{name}': '{value}' is not allowed; give {', '.join(FAMILIES[default]) or 'no numbers'}")
        return dict(base)
    if isinstance(value, Mapping):
        fields = {k: v for k, v in value.items() if k != "note"}
        family = str(fields.pop("dist", "normal" if default == "flat" and fields else default))
    else:
        numbers = list(value) if isinstance(value, (list, tuple)) else [value]
        family = "normal" if default == "flat" and len(numbers) == 2 else default
        names = FAMILIES[family]
        if len(numbers) != len(names):
            errors.append(f"prior '{name}' ({family}) takes {len(names)} number(s): {', '.join(names) or 'none'}")
            return dict(base)
        fields = dict(zip(names, numbers, strict=True))
    return prior_fields(name, family, allowed, fields, base, FAMILIES, _POSITIVE, errors, nonnegative={"shape"})


def prior_fields(name: str, family: str, allowed: Sequence[str], fields: Mapping[str, Any], base: Mapping[str, Any],
                 families: Mapping[str, Sequence[str]], positive: set[str], errors: list[str], *,
                 nonnegative: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """Check one prior's family and numbers and fill what is not given from ``base``.

    Shared by the reporting and trend priors. Problems are appended to ``errors`` (all are
    reported at once by the caller); the returned spec holds what could be read.

    Parameters
    ----------
    name, family, allowed
        The prior's name, the family asked for and the families it may take.
    fields, base
        The given fields (``{"mu": 0, ...}``) and the default spec they override.
    families
        Field names of each family.
    positive, nonnegative
        Fields that must be > 0, and >= 0.
    errors
        Where problems are appended.
    """
    if family not in allowed:
        errors.append(f"prior '{name}': dist must be {' or '.join(allowed)}, got {family!r}")
        return dict(base)
    unknown = sorted(set(fields) - set(families[family]))
    if unknown:
        errors.append(f"prior '{name}' has unknown field(s) {', '.join(unknown)}; valid: {', '.join(families[family]) or 'none'}")
    merged: dict[str, Any] = {"dist": family}
    for key in families[family]:
        raw = fields.get(key, base.get(key))
        try:
            number = float(raw)
        except (TypeError, ValueError):
            errors.append(f"prior '{name}': {key} must be a number, got {raw!r}")
            continue
        if not math.isfinite(number) or (key in positive and number <= 0) or (key in nonnegative and number < 0):
            need = "> 0" if key in positive else ">= 0" if key in nonnegative else "a finite number"
            errors.append(f"prior '{name}': {key} = {raw!r} is not allowed (it must be {need})")
            continue
        merged[key] = number
    return merged


def reporting_priors(defaults: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any] | None,
                     model: str) -> dict[str, dict[str, Any]]:
    """A reporting model's default priors with ``overrides`` merged in (:func:`hiddenrate.core.priors.merge_priors`).

    An override is a dict of fields (``{"alpha": 2}``), the numbers in the family's order
    (``(2, 5)`` for a Beta's alpha and beta, ``0.5`` for a half-normal's sigma) or ``"flat"``
    where a flat prior is allowed; every problem is reported at once.
    """
    return merge_priors(defaults, overrides, _entry, model=model)


def as_reporting_data(
    data: ReportingData | pd.DataFrame | str | Path,
    by: Sequence[str] = (),
    unit: str | None = None,
    population: tuple[float, float] | None = None,
    prevalence: tuple[int, int] | None = None,
) -> ReportingData:
    """Accept ReportingData, a DataFrame or a CSV path."""
    if isinstance(data, ReportingData):
        if by or population is not None or prevalence is not None:
            raise ModelError("by, population and prevalence apply when reading data; the data are already read")
        if unit is not None and unit != data.unit:
            raise ModelError(f"the data count {data.unit}, not {unit}")
        return data
    return read_reporting(data, by=by, unit=unit, population=population, prevalence=prevalence)


def input_summary(data: ReportingData) -> dict[str, Any]:
    """Aggregates describing the input (they are the input: counts per stratum and source)."""
    rows = []
    for stratum in data.strata:
        for source in stratum.sources:
            row: dict[str, Any] = {
                "stratum": dict(stratum.stratum),
                "source": source.source,
                "recorded": source.recorded,
                "surveyed": source.surveyed,
                "reported": source.reported,
            }
            route = stratum.population
            if route is not None:
                row["population"] = {
                    "low": route.low,
                    "high": route.high,
                    "level": route.level,
                    "victimized": route.victimized,
                    "respondents": route.respondents,
                }
            rows.append(row)
    return {
        "source": data.source,
        "sha256": data.sha256,
        "format": "reporting",
        "unit": data.unit,
        "by": list(data.by),
        "sources": list(data.source_names),
        "notes": list(data.notes),
        "rows": rows,
    }


def survey_text(stratum: ReportingStratum, source_name: str | None = None) -> str:
    """``195/711`` or ``none`` for a stratum's (primary) source."""
    source = next((s for s in stratum.sources if s.source == source_name), stratum.sources[0])
    return f"{source.reported}/{source.surveyed}" if source.has_survey else "none"


#: the first columns of a routes table: each route's total at every report level
ROUTE_COLUMNS = [Column("stratum"), Column("route"), Column("total", "count", "split", ("{level} low", "high"))]


def distribution_cell(dist: Any, levels: Sequence[float], kind: str) -> dict[str, Any] | None:
    """An interval cell of ``dist`` at each of ``levels`` it holds (a closed-form estimate holds only
    the fit's levels; the others are left out, so a report at them says so); ``None`` without ``dist``."""
    if dist is None:
        return None
    held: dict[float, Any] = {}
    for level in levels:
        try:
            held[level] = dist.interval(level, kind)
        except ModelError:
            continue
    return interval_cell(dist.median(), held.__getitem__, held)


def rate_table(data: ReportingData, estimates: Sequence[StratumEstimate], levels: Sequence[float], kind: str, note: str) -> dict[str, Any]:
    """The table of reporting rates and totals by stratum (the text output's headline lacks rates),
    its intervals at every report level."""
    ladder = report_levels(levels)
    primary = data.source_names[0]
    if any(len(stratum.sources) > 1 for stratum in data.strata):
        return _rate_table_by_source(data, estimates, ladder, kind, note)
    rows = []
    for stratum, estimate in zip(data.strata, estimates, strict=True):
        rows.append([stratum.label(), int(stratum.recorded), survey_text(stratum, primary),
                     distribution_cell(estimate.quantities.get("reporting_rate"), ladder, kind),
                     distribution_cell(estimate.total, ladder, kind)])
    columns = [Column("stratum"), Column("recorded", "count"), Column("survey"),
               Column("reporting rate", "probability", "split", ("rate {level} low", "high")),
               Column("total", "count", "split", ("total {level} low", "high"))]
    return build(f"Reporting rate ({primary}) and total by stratum", columns, rows, note)


def _rate_table_by_source(data: ReportingData, estimates: Sequence[StratumEstimate], ladder: Sequence[float],
                          kind: str, note: str) -> dict[str, Any]:
    """Several sources: each on its own row with its own count and survey, so a row never puts one
    source's count beside another's survey; the rate is the first source's, the total the stratum's."""
    primary = data.source_names[0]
    rows = []
    for stratum, estimate in zip(data.strata, estimates, strict=True):
        for i, source in enumerate(stratum.sources):
            first = source.source == primary
            rows.append([stratum.label() if i == 0 else "", source.source, int(source.recorded),
                         f"{source.reported}/{source.surveyed}" if source.has_survey else "none",
                         distribution_cell(estimate.quantities.get("reporting_rate"), ladder, kind) if first else None,
                         distribution_cell(estimate.total, ladder, kind) if i == 0 else None])
    columns = [Column("stratum"), Column("source"), Column("recorded", "count"), Column("survey"),
               Column(f"reporting rate ({primary})", "probability", "split", ("rate {level} low", "high")),
               Column("total", "count", "split", ("total {level} low", "high"))]
    return build(f"Sources, the reporting rate ({primary}) and the total by stratum", columns, rows,
                 note + " Each source on its own row with its own count and survey; the total combines them.")


# ----------------------------------------------------------------------------- MCMC diagnostics


def _extreme(values: list[np.ndarray], pick: Any) -> float | None:
    flat = np.concatenate([np.ravel(v) for v in values]) if values else np.array([])
    flat = flat[np.isfinite(flat)]
    return float(pick(flat)) if flat.size else None


def mcmc_diagnostics(idata: Any, hyper: list[str], per_stratum: list[str], method: str) -> tuple[Diagnostics, list[Diagnostics]]:
    """R-hat, bulk/tail ESS and divergences, for the whole fit and for each stratum's variables.

    Computed once over all variables (ArviZ vectorises over strata), with the thresholds and
    wording of :func:`hiddenrate.core.diagnostics.mcmc`. Divergences belong to the joint fit, so
    every stratum carries them.
    """
    names = hyper + per_stratum
    method += remedy_note(idata)
    rhat, bulk, tail = rank_diagnostics(idata, names)
    posterior = idata.posterior
    chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    divergences = int(np.asarray(idata.sample_stats["diverging"].values).sum()) if "diverging" in idata.sample_stats else None
    checks = {"rhat_max": RHAT_MAX, "ess_min": ESS_MIN}
    tune = tuning_steps(idata)

    def build(r: float | None, eb: float | None, et: float | None) -> Diagnostics:
        messages = convergence_messages(r, eb, et, divergences, chains=chains)
        return Diagnostics(method=method, converged=not messages, rhat_max=r, ess_bulk_min=eb, ess_tail_min=et,
                           divergences=divergences, chains=chains, draws=draws, tune=tune, messages=tuple(messages),
                           checks=dict(checks))

    overall = build(
        _extreme([rhat[v].values for v in names], np.max),
        _extreme([bulk[v].values for v in names], np.min),
        _extreme([tail[v].values for v in names], np.min),
    )
    n_strata = int(posterior.sizes.get("stratum", 0))
    strata = []
    for s in range(n_strata):
        strata.append(
            build(
                _extreme([rhat[v].values[s] for v in per_stratum], np.max),
                _extreme([bulk[v].values[s] for v in per_stratum], np.min),
                _extreme([tail[v].values[s] for v in per_stratum], np.min),
            )
        )
    return overall, strata


# ----------------------------------------------------------------------------- the base class


@dataclass(frozen=True)
class Fitted:
    """What :meth:`ReportingModel.fit_data` returns."""

    strata: list[StratumEstimate]
    overall: StratumEstimate
    tables: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class ReportingModel(ABC):
    """Base class of the reporting-rate models: a specification; :meth:`fit` returns a Result."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    estimate_type: ClassVar[str]
    interval_type: ClassVar[str]
    assumptions: ClassVar[tuple[str, ...]]
    default_priors: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, priors: Mapping[str, Any] | None = None) -> None:
        self._priors = reporting_priors(self.default_priors, priors, self.name)

    def priors(self) -> dict[str, Any]:
        """The merged priors (a copy, JSON-ready)."""
        return copy.deepcopy(self._priors)

    def options(self) -> dict[str, Any]:
        """Model options, JSON-ready."""
        return {}

    def check(self, data: ReportingData) -> None:
        """Reject data this model cannot fit, with the reason (default: anything goes)."""

    @abstractmethod
    def fit_data(self, data: ReportingData, *, levels: tuple[float, ...], seed: int, interval: str) -> Fitted:
        """Fit every stratum and the total over strata."""

    def fit(
        self,
        data: ReportingData | pd.DataFrame | str | Path,
        *,
        by: Sequence[str] = (),
        unit: str | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
        seed: int | None = DEFAULT_SEED,
        interval: str = DEFAULT_INTERVAL,
        settings: FitSettings | None = None,
    ) -> Result:
        """Fit the model to every stratum and to their total.

        Parameters
        ----------
        data
            :class:`~hiddenrate.data.reporting.ReportingData`, a DataFrame or a CSV path
            (see :func:`~hiddenrate.data.reporting.read_reporting`).
        by, unit
            Stratum columns and ``incidents``/``victims`` when reading ``data``.
        levels, seed, interval
            Interval levels; seed of every random draw (``None``: a random one, recorded);
            ``equal-tailed`` (default) or ``hdi``.
        settings
            The same, already validated (what :func:`fit_reporting` passes); overrides the three.
        """
        parsed = as_reporting_data(data, by=by, unit=unit)
        settings = settings or FitSettings.of(levels, interval, seed)
        self.check(parsed)
        fitted = self.fit_data(parsed, levels=settings.levels, seed=settings.seed, interval=settings.interval)
        card = ModelCard("reporting", self.name, self.title, self.description, tuple(self.assumptions),
                         self.estimate_type, self.interval_type)
        return Result.build(settings, card, fitted.overall, fitted.strata if parsed.stratified else (),
                            input=input_summary(parsed), priors=self.priors(), options=self.options(),
                            warnings=(*parsed.notes, *fitted.warnings), extra={**fitted.extra, "tables": fitted.tables},
                            unit=parsed.unit)


__all__ = [
    "BAYES_ASSUMPTIONS",
    "ROUTE_COLUMNS",
    "Fitted",
    "ReportingModel",
    "as_reporting_data",
    "distribution_cell",
    "input_summary",
    "mcmc_diagnostics",
    "reporting_priors",
    "rate_table",
    "survey_text",
]

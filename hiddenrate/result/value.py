"""The one result type every hiddenrate model returns.

A :class:`Result` holds, per stratum and for the total over strata, the estimate of the
total population (a :mod:`~hiddenrate.core.distributions` object), from which the hidden count
(``total - observed``) and the observed share (``observed / total``) follow. It also carries
diagnostics, warnings, the model's assumptions and priors, the seed and versions, so that a
saved result can be re-rendered without the original files. It is immutable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core.caveats import NOTE, Caveat, as_caveat, ranked
from hiddenrate.core.diagnostics import Diagnostics
from hiddenrate.core.distributions import Distribution, Interval, format_level, summarise
from hiddenrate.core.provenance import provenance
from hiddenrate.core.settings import FitSettings
from hiddenrate.result.table import is_table

QUANTITIES = ("total", "hidden", "observed_share")


@dataclass(frozen=True)
class StratumEstimate:
    """The estimate for one stratum (or for the whole data).

    ``total`` is ``None`` when the model could not give an estimate for this stratum; then
    ``reason`` says why in one plain sentence (e.g. no upper bound without an assumption).
    """

    stratum: Mapping[str, str]
    observed: int
    total: Distribution | None
    diagnostics: Diagnostics
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    idata: Any = None
    #: further named quantities reported like the total, e.g. ``{"reporting_rate": ...}``
    quantities: Mapping[str, Distribution] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``region=North, year=2020``; ``all`` for the whole data."""
        if not self.stratum:
            return "all"
        return ", ".join(f"{k}={v}" for k, v in self.stratum.items())

    def quantity(self, name: str) -> Distribution | None:
        """``total``, ``hidden`` (total - observed) or ``observed_share`` (observed / total)."""
        if self.total is None:
            return None
        observed = float(self.observed)
        if name == "total":
            return self.total
        if name == "hidden":
            return self.total.map(lambda t: t - observed)
        if name == "observed_share":
            return self.total.map(lambda t: np.divide(observed, t, out=np.zeros_like(t, dtype=float), where=t > 0), decreasing=True, bounded=True)
        if name in self.quantities:
            return self.quantities[name]
        raise KeyError(f"unknown quantity '{name}'; use one of {', '.join([*QUANTITIES, *self.quantities])}")

    def to_dict(self, levels: Sequence[float], interval_kind: str) -> dict[str, Any]:
        """JSON-ready form (the per-stratum part of the JSON contract)."""
        out: dict[str, Any] = {}
        if self.stratum:
            out["stratum"] = dict(self.stratum)
        out["observed"] = int(self.observed)
        out["estimated"] = self.total is not None
        for name in QUANTITIES:
            dist = self.quantity(name)
            out[name] = summarise(dist, tuple(levels), interval_kind) if dist is not None else None
        for name, dist in self.quantities.items():
            out[name] = summarise(dist, tuple(levels), interval_kind)
        if self.reason:
            out["reason"] = self.reason
        out["diagnostics"] = self.diagnostics.to_dict()
        out.update(caveat_lists(self.warnings))
        out["caveats"] = [c.to_dict() for c in ranked(self.warnings)]
        out["details"] = _jsonable(dict(self.details))
        return out


@dataclass(frozen=True)
class ModelCard:
    """What a model says about itself in every result: command, name, description, assumptions and
    what its estimate and interval are (``posterior median`` / ``credible interval`` unless told)."""

    command: str
    model: str
    model_name: str
    description: str
    assumptions: tuple[str, ...]
    estimate_type: str = "posterior median"
    interval_type: str = "credible interval"


@dataclass(frozen=True)
class Result:
    """Result of fitting one model to one data set.

    Attributes
    ----------
    command, model
        What produced it (``"lists"``, ``"bma"``).
    model_name, description, assumptions
        For readers: the model's name, one sentence on what it does, and its assumptions.
    estimate_type, interval_type
        E.g. ``"posterior median"`` and ``"equal-tailed credible interval"``, or
        ``"maximum-likelihood estimate"`` and ``"profile-likelihood confidence interval"``.
    levels, interval_kind
        The interval levels computed and how (``equal-tailed`` or ``hdi``).
    overall
        The estimate for all the data (the sum over strata when stratified).
    strata
        One estimate per stratum (empty when unstratified).
    seed, priors, options, input, provenance
        Everything needed to reproduce and cite the run (aggregates only, never records).
    warnings
        Warnings about the whole run (per-stratum warnings live in each stratum).
    extra
        Model-level details (ranking of models, posterior model probabilities, sensitivity).
    """

    command: str
    model: str
    model_name: str
    description: str
    assumptions: tuple[str, ...]
    estimate_type: str
    interval_type: str
    levels: tuple[float, ...]
    interval_kind: str
    overall: StratumEstimate
    strata: tuple[StratumEstimate, ...] = ()
    seed: int | None = None
    priors: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    unit: str | None = None

    @classmethod
    def build(
        cls,
        settings: FitSettings,
        card: ModelCard,
        overall: StratumEstimate,
        strata: Sequence[StratumEstimate] = (),
        *,
        input: Mapping[str, Any],
        priors: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        warnings: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
        unit: str | None = None,
    ) -> Result:
        """The one way a model makes its Result: levels, interval kind and seed come from the fit's
        ``settings``; provenance from the input summary's ``source`` and ``sha256``."""
        return cls(
            command=card.command, model=card.model, model_name=card.model_name, description=card.description,
            assumptions=tuple(card.assumptions), estimate_type=card.estimate_type, interval_type=card.interval_type,
            levels=settings.levels, interval_kind=settings.interval, overall=overall, strata=tuple(strata),
            seed=settings.seed, priors=dict(priors or {}), options=dict(options or {}), input=input,
            provenance=provenance(input.get("source"), input.get("sha256")), warnings=tuple(warnings),
            extra=dict(extra or {}), unit=unit,
        )

    # ------------------------------------------------------------------ access
    @property
    def converged(self) -> bool:
        """True when every fit's diagnostics passed."""
        return self.overall.diagnostics.converged and all(s.diagnostics.converged for s in self.strata)

    @property
    def estimated(self) -> bool:
        """True when there is an estimate of the total."""
        return self.overall.total is not None

    def all_warnings(self) -> list[Caveat]:
        """Run-level warnings, then each stratum's (prefixed by its label), notes included, each a
        :class:`~hiddenrate.core.caveats.Caveat` (a ``str`` with a code and a severity)."""
        out = [as_caveat(m) for m in self.warnings]
        for message in self.overall.warnings:
            if message not in out:
                out.append(as_caveat(message))
        for stratum in self.strata:
            out.extend(as_caveat(m).prefixed(f"[{stratum.label}] ") for m in stratum.warnings)
        return out

    def caveats(self) -> list[Caveat]:
        """Every warning and note, most serious first (:func:`hiddenrate.core.caveats.ranked`); a fit
        whose diagnostics failed leads with "the fit did not converge" even when no warning says so."""
        found = ranked(self.all_warnings())
        failed = [m for e in (self.overall, *self.strata) for m in e.diagnostics.messages]
        if not self.converged and not any(c.code in NOT_CONVERGED for c in found):
            reasons = "; ".join(dict.fromkeys(failed)) or "its diagnostics failed"
            found.insert(0, Caveat(f"the fit did not converge ({reasons}): do not use these numbers as they stand",
                                   "not-converged"))
        return found

    def interval(self, level: float = 0.95, quantity: str = "total") -> Interval:
        """Interval of a quantity for the overall estimate."""
        dist = self.overall.quantity(quantity)
        if dist is None:
            return (None, None)
        return dist.interval(level, self.interval_kind)

    # ------------------------------------------------------------------ tables
    def model_tables(self) -> list[dict[str, Any]]:
        """The model tables every report shows, in order: the result's own (``extra["tables"]``,
        e.g. a trend's changes between periods), then the model's (``overall.details["tables"]``,
        e.g. a list model's sensitivity table), in their stored form
        (:meth:`hiddenrate.result.table.Table.to_dict`, or the older dict of strings): numbers at
        several levels that :mod:`hiddenrate.render.tables` lays out at one."""
        tables = [*self.extra.get("tables", []), *self.overall.details.get("tables", [])]
        return [dict(t) for t in tables if is_table(t)]

    def summary(self, levels: Sequence[float] | None = None) -> pd.DataFrame:
        """One row per stratum plus the total: observed, and median, mean and interval ends of
        ``total``, ``hidden`` and ``observed_share`` at each level. Values are raw floats."""
        levels = tuple(levels) if levels is not None else self.levels
        rows = []
        for estimate in [*self.strata, self.overall]:
            row: dict[str, Any] = {"stratum": estimate.label if estimate is not self.overall else "total" if self.strata else "all"}
            row["observed"] = estimate.observed
            names = [*QUANTITIES, *(n for n in estimate.quantities if n not in QUANTITIES)]
            for name in names:
                dist = estimate.quantity(name)
                row[f"{name}_median"] = dist.median() if dist is not None else np.nan
                row[f"{name}_mean"] = dist.mean() if dist is not None else np.nan
                for level in levels:
                    lower, upper = dist.interval(level, self.interval_kind) if dist is not None else (None, None)
                    tag = format_level(level)
                    row[f"{name}_lower_{tag}"] = np.nan if lower is None else lower
                    row[f"{name}_upper_{tag}"] = np.nan if upper is None else upper
            row["converged"] = estimate.diagnostics.converged
            rows.append(row)
        return pd.DataFrame(rows).set_index("stratum")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: one object that other tools read.

        Keys: ``hiddenrate_version``, ``command``, ``model`` (+ ``model_name``, ``description``,
        ``assumptions``), ``unit``, ``observed``, ``total``, ``hidden``, ``observed_share`` (each
        ``{"median", "mean", "intervals": {"0.95": [lower, upper]}}``; ``null`` for an end that
        does not exist), ``estimate_type``, ``interval_type``, ``interval_kind``, ``levels``,
        ``diagnostics`` (with boolean ``converged``), ``warnings`` (texts, in the order written;
        notes left out), ``notes`` (the minor ones), ``caveats`` (both, most serious first, each
        ``{"code", "severity", "message"}``; :mod:`hiddenrate.core.caveats`), ``seed``, ``priors``,
        ``options``, ``input``, ``provenance``, ``details`` and ``strata`` (list of per-stratum
        objects with ``stratum`` values; empty when unstratified).
        """
        overall = self.overall.to_dict(self.levels, self.interval_kind)
        out: dict[str, Any] = {
            "hiddenrate_version": self.provenance.get("hiddenrate_version"),
            "command": self.command,
            "model": self.model,
            "model_name": self.model_name,
            "description": self.description,
            "assumptions": list(self.assumptions),
            "unit": self.unit,
            "observed": int(self.overall.observed),
            "estimated": overall["estimated"],
            "total": overall["total"],
            "hidden": overall["hidden"],
            "observed_share": overall["observed_share"],
            **{name: overall[name] for name in self.overall.quantities},
            "reason": self.overall.reason,
            "estimate_type": self.estimate_type,
            "interval_type": self.interval_type,
            "interval_kind": self.interval_kind,
            "levels": list(self.levels),
            "diagnostics": overall["diagnostics"],
            "converged": self.converged,
            **caveat_lists(self.all_warnings()),
            "caveats": [c.to_dict() for c in self.caveats()],
            "seed": self.seed,
            "priors": _jsonable(dict(self.priors)),
            "options": _jsonable(dict(self.options)),
            "input": _jsonable(dict(self.input)),
            "provenance": _jsonable(dict(self.provenance)),
            "details": _jsonable({**dict(self.overall.details), **dict(self.extra)}),
            "strata": [s.to_dict(self.levels, self.interval_kind) for s in self.strata],
        }
        return out

    # ------------------------------------------------------------------ persistence & figures
    def save(self, path: str) -> None:
        """Write the result (with data, priors, options, seed and versions) to netCDF."""
        from hiddenrate.result.io import save_result

        save_result(self, path)

    @classmethod
    def load(cls, path: str) -> Result:
        """Read a result written by :meth:`save`."""
        from hiddenrate.result.io import load_result

        return load_result(path)

    def plot(self, ax: Any = None, quantity: str = "total") -> Any:
        """Posterior (or estimate and interval) of a quantity, with the observed count marked;
        a forest plot when stratified. Returns the matplotlib Axes."""
        from hiddenrate.render.plots import plot_result

        return plot_result(self, ax=ax, quantity=quantity)

    def with_levels(self, levels: Sequence[float]) -> Result:
        """The same result reported at other levels (posteriors only; a maximum-likelihood
        result knows only the levels it was fitted with)."""
        return replace(self, levels=tuple(float(x) for x in levels))


#: the codes that say a fit did not converge (a report then leads with that)
NOT_CONVERGED = ("not-converged", "rhat", "chains-disagree", "divergences")


def caveat_lists(messages: Sequence[str]) -> dict[str, list[str]]:
    """``{"warnings": [...], "notes": [...]}``: the texts, notes apart, in the order written."""
    caveats = [as_caveat(m) for m in messages]
    return {"warnings": [str(c) for c in caveats if c.severity != NOTE],
            "notes": [str(c) for c in caveats if c.severity == NOTE]}


def _jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays and tuples to JSON-ready Python values; non-finite -> None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value

"""Rcapture's heterogeneity models as list models: ``--model mh-chao``, ``mth-darroch``, ...

Eight models, Mh or Mth with Chao's lower bound, Poisson2, Darroch or Gamma3.5 (the rows of
Rcapture's ``closedp.t``); the engine is :mod:`hiddenrate.models.lists.heterogeneity_core`
(docs/methods.md#heterogeneity). Each is a maximum-likelihood fit with the multinomial
profile-likelihood interval; an upper end that does not exist is reported as absent, never as
a number.

:func:`fit_heterogeneity_model` is the small public entry point for other analyses (one table,
one model, numbers only); :func:`rank_heterogeneity_models` fits all eight for a ranking by
AIC or BIC together with the hierarchical log-linear models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.quantiles import chi2_1_cdf, chi2_1_ppf
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.models.lists.base import ListModel
from hiddenrate.models.lists.heterogeneity_core import (
    HETEROGENEITY_MODELS,
    HeterogeneityEstimate,
    HeterogeneityFit,
    fit_heterogeneity,
    heterogeneity_curve,
    heterogeneity_profile,
)
from hiddenrate.models.lists.strata_profile import (
    MARGIN,
    StratumProfile,
    total_profile_intervals,
)
from hiddenrate.result.value import StratumEstimate

__all__ = ["HeterogeneityModel", "fit_heterogeneity_model", "heterogeneity_estimate", "rank_heterogeneity_models"]

_SPREAD = {
    "chao": "No shape is assumed for the spread of visibility: the estimate is a lower bound (Chao 1987), "
            "valid whatever the spread; the true total is likely larger.",
    "poisson2": "The spread of visibility has the shape of Rcapture's Poisson2 term (2^x - 1 in the number of lists "
                "x a person is on): a mild spread.",
    "darroch": "The spread of visibility is roughly normal on the logit scale (Darroch et al. 1993: x^2/2 in the "
               "number of lists x a person is on).",
    "gamma3.5": "The spread of visibility follows Rcapture's Gamma3.5 term (-log(3.5 + x)): a long tail of barely "
                "visible people, which gives the largest totals of the four.",
}


def fit_heterogeneity_model(table: ListTable, name: str, levels: Sequence[float] = (0.95,)) -> HeterogeneityEstimate:
    """Fit one heterogeneity model to one table: estimate and profile-likelihood intervals.

    Parameters
    ----------
    table
        Counts by capture pattern (3 or more lists).
    name
        ``mh-chao``, ``mh-poisson2``, ``mh-darroch``, ``mh-gamma3.5``, ``mth-chao``,
        ``mth-poisson2``, ``mth-darroch`` or ``mth-gamma3.5``.
    levels
        Confidence levels of the intervals.

    Returns
    -------
    HeterogeneityEstimate
        ``total`` (also ``point``; None when the model gives no estimate), ``lower`` and
        ``upper`` at the first level (``upper`` None when the data put no upper limit on N),
        ``intervals`` by level, and ``fit`` (Poisson MLE, deviance, df, AIC, BIC).
    """
    return heterogeneity_profile(table.counts, table.k, name, levels)


def rank_heterogeneity_models(table: ListTable, criterion: str = "bic") -> list[HeterogeneityFit]:
    """The eight models' Poisson fits, best first by ``criterion`` (``bic`` or ``aic``); fits that
    did not converge last. Their criteria are on the scale of the hierarchical models'
    (:mod:`hiddenrate.models.lists.ranking`), so the two rankings merge."""
    if table.k < 3:
        return []
    fits = [fit_heterogeneity(table.counts, table.k, name) for name in HETEROGENEITY_MODELS]
    return sorted(fits, key=lambda fit: (not fit.valid, fit.bic if criterion == "bic" else fit.aic))


def heterogeneity_estimate(table: ListTable, name: str, levels: tuple[float, ...],
                           interval_type: str = "profile-likelihood confidence interval (Cormack 1992)") -> StratumEstimate:
    """The stratum estimate of heterogeneity model ``name`` (what ``--model NAME`` reports, and
    what a log-linear ranking reports when this model ranks first)."""
    result = heterogeneity_profile(table.counts, table.k, name, levels)
    fit = result.fit
    method = diag.exact("maximum likelihood (Newton), profile likelihood by root finding")
    details = {
        "rcapture": fit.label,
        "structure": {"heterogeneity": name},
        "poisson_total": fit.total,
        "deviance": fit.deviance,
        "df": fit.df,
        "aic": fit.aic,
        "bic": fit.bic,
        "eta_set_to_zero": list(fit.dropped),
    }
    if result.total is None:
        return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None, diagnostics=method,
                               details=details, reason=result.message)
    warnings = [f"the {100 * level:g}% profile interval has no upper end: the data put no upper limit on N "
                "under this model" for level, (_, upper) in result.intervals.items() if upper is None]
    if result.total - table.observed < 1e-6 * max(table.observed, 1):
        warnings.append("the estimate is the number observed: under this model the most likely number of hidden "
                        "people is 0 (the model fits the overlaps of these lists badly; compare the other models)")
    if HETEROGENEITY_MODELS[name][1] == "chao":
        warnings.append("this is a lower bound (Chao): people who are barely visible on every list may be "
                        "many more than it counts")
    return StratumEstimate(stratum=table.stratum, observed=table.observed,
                           total=PointEstimate(result.total, result.intervals, interval_type),
                           diagnostics=method, warnings=tuple(warnings), details=details)


class HeterogeneityModel(ListModel):
    """Base of the eight models; a subclass sets ``name`` (a key of ``HETEROGENEITY_MODELS``)."""

    estimate_type = "maximum-likelihood estimate (multinomial profile)"
    interval_type = "profile-likelihood confidence interval (Cormack 1992)"
    min_lists = 3

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        return heterogeneity_estimate(table, self.name, levels, self.interval_type)

    def structure(self, data: ListData) -> dict[str, Any] | None:
        return {"heterogeneity": self.name}

    def combine_points(self, estimates: list[StratumEstimate], tables: tuple[ListTable, ...],
                       levels: tuple[float, ...]) -> PointEstimate | None:
        """Profile likelihood of the total over independent strata (as the log-linear model's)."""
        strata = []
        for estimate, table in zip(estimates, tables, strict=True):
            if estimate.total is None or estimate.total.median() is None:
                return None
            strata.append(stratum_profile(table, self.name, float(estimate.total.median() or 0.0), levels))
        total, intervals = total_profile_intervals(strata, levels)
        return PointEstimate(total, intervals, "profile likelihood of the total over independent strata")


def stratum_profile(table: ListTable, name: str, total: float, levels: tuple[float, ...]) -> StratumProfile:
    """What the profile of a total over strata needs from one stratum fitted by model ``name``
    (:mod:`hiddenrate.models.lists.strata_profile`); ``total`` is the stratum's estimate."""
    wide = chi2_1_cdf(chi2_1_ppf(max(levels)) + MARGIN)
    reach = heterogeneity_profile(table.counts, table.k, name, (wide,)).upper

    def curve(hidden: np.ndarray) -> np.ndarray:
        return heterogeneity_curve(table.counts, table.k, name, hidden)

    return StratumProfile(observed=table.observed, hidden_hat=total - table.observed,
                          reach=None if reach is None else reach - table.observed, curve=curve)


def _model_class(name: str) -> type[HeterogeneityModel]:
    family, kind, label = HETEROGENEITY_MODELS[name]
    if family == "Mh":
        family_text = ("Everyone has the same chance of being on each list, apart from their own visibility: "
                       "no list reaches people more easily than another.")
    else:
        family_text = ("Each list has its own reach, and a person's visibility raises or lowers their chance on "
                       "every list alike.")
    attributes = {
        "name": name,
        "title": f"{label} heterogeneity model (maximum likelihood; Rcapture)",
        "description": (f"Rcapture's {label} log-linear model: people differ in how visible they are, through a term "
                        "in the number of lists each person is on; N from the multinomial profile likelihood."),
        "assumptions": (
            family_text,
            "Given a person's visibility, being on one list does not change the chance of being on another.",
            _SPREAD[kind],
            "Closed population, and records matched correctly across lists.",
        ),
        "estimate_type": ("lower-bound estimate (maximum likelihood, multinomial profile)" if kind == "chao"
                          else HeterogeneityModel.estimate_type),
        "__doc__": f"Rcapture's {label} model (``closedp.t``); see :mod:`hiddenrate.models.lists.heterogeneity_core`.",
        "__module__": __name__,
    }
    class_name = "".join(part.capitalize() for part in name.replace(".", "").split("-")) + "Model"
    attributes["__qualname__"] = class_name
    return type(class_name, (HeterogeneityModel,), attributes)


MhChaoModel = _model_class("mh-chao")
MhPoisson2Model = _model_class("mh-poisson2")
MhDarrochModel = _model_class("mh-darroch")
MhGamma35Model = _model_class("mh-gamma3.5")
MthChaoModel = _model_class("mth-chao")
MthPoisson2Model = _model_class("mth-poisson2")
MthDarrochModel = _model_class("mth-darroch")
MthGamma35Model = _model_class("mth-gamma3.5")

r"""Classical (maximum-likelihood) log-linear models for three or more lists.

The engine is in :mod:`hiddenrate.models.lists.loglinear_core` (fits, existence of the MLE, extended
MLE), :mod:`~hiddenrate.models.lists.loglinear_profile` (multinomial profile likelihood of N,
Cormack 1992, as Rcapture's ``closedpCI.t``) and :mod:`~hiddenrate.models.lists.ranking` (every
hierarchical model ranked by BIC or AIC; stepwise search when there are too many). This module
makes the answer a :class:`~hiddenrate.result.value.Result` and says what a reader must know:

* which terms have no finite MLE (lists that never overlap) and how N was then obtained
  (extended MLE, as SparseMSE reports), or that the model gives no estimate at all;
* after model selection, that the interval is conditional on the chosen model and ignores the
  selection (such intervals cover far less often than they claim: Chan, Silverman & Vincent
  2021), and how far the totals of nearly-as-good models spread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.quantiles import chi2_1_cdf, chi2_1_ppf
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.core.design import Terms, model_label, model_structure, normalize_terms, parse_terms, rcapture_label
from hiddenrate.models.lists.heterogeneity_core import HeterogeneityFit
from hiddenrate.models.lists.loglinear_core import LoglinearFit, fit_loglinear
from hiddenrate.models.lists.loglinear_profile import profile_curve, profile_likelihood
from hiddenrate.models.lists.strata_profile import MARGIN, StratumProfile, total_profile_intervals
from hiddenrate.models.lists.ranking import count_models, rank_models, stepwise
from hiddenrate.result.value import StratumEstimate

MAX_RANKED = 200_000
TOP_MODELS = 10
CLOSE_BIC = 2.0


class LoglinearModel(ListModel):
    """Maximum-likelihood log-linear model with a profile-likelihood interval for N.

    Parameters
    ----------
    terms
        Interaction terms (``"NGO:PF,LA:GO"`` or Rcapture's ``"[12,13,4]"``); ``""`` is the
        independence model. ``None`` (default): rank every hierarchical model with terms up to
        ``max_order`` by ``criterion`` and report the best (stepwise search beyond 200,000 models).
    max_order
        Highest interaction order searched when ranking (default 2: pairs of lists).
    criterion
        ``bic`` (default) or ``aic``; BIC uses log(number observed) and counts a parameter for
        every term fixed at minus infinity, as SparseMSE does.
    """

    name = "loglinear"
    title = "Log-linear model (maximum likelihood)"
    description = "Poisson log-linear model of the capture patterns; N from the multinomial profile likelihood."
    estimate_type = "maximum-likelihood estimate"
    interval_type = "profile-likelihood confidence interval (Cormack 1992)"
    min_lists = 2
    option_names: ClassVar[tuple[str, ...]] = ("terms", "max_order", "criterion")
    assumptions: ClassVar[tuple[str, ...]] = (
        "The model's interaction terms capture all dependence between lists; there is no interaction among all "
        "lists at once.",
        "Capture probabilities do not vary between people beyond what the interaction terms absorb.",
        "Closed population, and records matched correctly across lists.",
    )

    def __init__(self, terms: str | Terms | None = None, max_order: int | None = None,
                 criterion: str | None = None) -> None:
        self.terms_spec = terms
        self.max_order = int(max_order) if max_order is not None else 2
        self.criterion = (criterion or "bic").lower()
        if self.criterion not in ("bic", "aic"):
            raise ModelError(f"unknown criterion '{criterion}'; use bic or aic")
        if terms is not None and (max_order is not None or criterion is not None):
            raise ModelError("--max-order and --criterion choose among models; they do not apply with --terms")

    @property
    def selecting(self) -> bool:
        """True when the model is chosen by ranking rather than given."""
        return self.terms_spec is None

    def _terms_for(self, names: tuple[str, ...]) -> Terms:
        if isinstance(self.terms_spec, str):
            return parse_terms(self.terms_spec, names)
        return normalize_terms(self.terms_spec or ())

    def options(self) -> dict[str, Any]:
        if self.selecting:
            return {"selection": f"all hierarchical models up to order {self.max_order}", "criterion": self.criterion}
        return {"terms": self.terms_spec if isinstance(self.terms_spec, str) else [list(t) for t in self.terms_spec or ()]}

    def structure(self, data: ListData) -> dict[str, Any] | None:
        return None if self.selecting else model_structure(self._terms_for(data.names), data.names)

    def describe(self, data: ListData) -> str:
        if self.selecting:
            return (f"{self.description} The model is the best by {self.criterion.upper()} among hierarchical models "
                    f"with interactions up to order {self.max_order} and Rcapture's eight heterogeneity models (Mh, Mth; "
                    "people differ in how visible they are).")
        terms = self._terms_for(data.names)
        return f"{self.description} Terms: {model_label(terms, data.names)} (Rcapture: {rcapture_label(terms, data.k)})."

    # ------------------------------------------------------------------ fitting
    def _select(self, table: ListTable) -> tuple[LoglinearFit, dict[str, Any], list[str], HeterogeneityFit | None]:
        names = table.names
        n_models = count_models(table.k, self.max_order, limit=MAX_RANKED + 1)
        warnings = [
            "the interval is conditional on the chosen model and ignores the model choice; such intervals cover the "
            "truth much less often than stated (Chan, Silverman & Vincent 2021 found 61% for a nominal 95%). Prefer "
            "the default model averaging (--model auto) for an interval that accounts for model uncertainty"
        ]
        if n_models > MAX_RANKED:
            best = stepwise(table.counts, table.k, self.criterion, max_order=self.max_order, names=names)
            details: dict[str, Any] = {"selection": f"stepwise {self.criterion.upper()} search (more than {MAX_RANKED:,} models)"}
            warnings.append(f"too many models to rank all of them; a stepwise {self.criterion.upper()} search chose one")
            challengers = self._heterogeneity(table)
            winner = challengers[0] if challengers and self._value(challengers[0]) < self._value(best) else None
            if winner is not None:
                details["selection"] += f", against Rcapture's {len(challengers)} heterogeneity models"
            return best, details, warnings, winner
        ranked = rank_models(table.counts, table.k, self.max_order, self.criterion, MAX_RANKED, names=names)
        valid = [fit for fit in ranked if fit.valid]
        if not valid:
            raise ModelError("no log-linear model has a finite estimate of N on these data")
        challengers = self._heterogeneity(table)
        best = valid[0]
        value = self._value
        winner = challengers[0] if challengers and value(challengers[0]) < value(best) else None
        top = min(value(best), value(winner)) if winner is not None else value(best)
        candidates: list[tuple[float, list[Any], dict[str, Any]]] = [
            (value(fit), [model_label(fit.terms, names), fit.total, value(fit) - top, fit.status],
             model_structure(fit.terms, names)) for fit in valid[:TOP_MODELS]]
        candidates += [(value(fit), [f"{fit.label} (heterogeneity)", fit.total, value(fit) - top, "heterogeneity"],
                        {"heterogeneity": fit.name}) for fit in challengers]
        shown = sorted(candidates, key=lambda item: item[0])[:TOP_MODELS]
        everyone: list[LoglinearFit | HeterogeneityFit] = [*valid, *challengers]
        close_totals = [float(f.total) for f in everyone if value(f) - top <= CLOSE_BIC and f.total is not None]
        lowest, highest = min(close_totals), max(close_totals)
        flagged = len(ranked) - len(valid)
        details = {
            "selection": f"{len(ranked):,} hierarchical models and {len(challengers)} heterogeneity models (Rcapture's "
                         f"Mh, Mth) ranked by {self.criterion.upper()}",
            "models_ranked": len(ranked),
            "models_without_estimate": flagged,
            "close_models_range": [lowest, highest],
            "tables": [{
                "title": f"Best models by {self.criterion.upper()} (of {len(ranked) + len(challengers):,}; {flagged:,} have no "
                         "finite estimate of N and are excluded)",
                "columns": ["model", "N (Poisson MLE)", f"Δ{self.criterion.upper()}", "status"],
                "rows": [row for _, row, _ in shown],
                "note": "'extended' means some terms are at minus infinity (lists that never overlap) and N comes "
                        "from the extended MLE; 'heterogeneity' rows are Rcapture's Mh and Mth models (people differ "
                        "in how visible they are).",
                "facts": {"models": [structure for _, _, structure in shown]},
            }],
        }
        excluded = [fit for fit in ranked if not fit.valid]
        if excluded:
            details["tables"].append({
                "title": "Models excluded: no finite estimate of N",
                "columns": ["model", "status", "why"],
                "rows": [[model_label(fit.terms, names), fit.status, fit.message] for fit in excluded[:TOP_MODELS]],
                "facts": {"models": [model_structure(fit.terms, names) for fit in excluded[:TOP_MODELS]]},
                "note": f"{len(excluded):,} models in all." if len(excluded) > TOP_MODELS else "",
            })
        if len(close_totals) > 1 and highest / lowest > 1.25:
            warnings.append(
                f"{len(close_totals)} models are within {CLOSE_BIC:g} {self.criterion.upper()} units of the best, and their "
                f"totals range from {lowest:,.0f} to {highest:,.0f}: the data do not choose between them"
            )
        return best, details, warnings, winner

    def _value(self, fit: LoglinearFit | HeterogeneityFit) -> float:
        return fit.bic if self.criterion == "bic" else fit.aic

    def _heterogeneity(self, table: ListTable) -> list[HeterogeneityFit]:
        """Rcapture's eight heterogeneity models, ranked with the hierarchical ones (3 or more lists)."""
        from hiddenrate.models.lists.heterogeneity import rank_heterogeneity_models

        return [fit for fit in rank_heterogeneity_models(table, self.criterion) if fit.valid]

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        names = table.names
        warnings: list[str] = []
        details: dict[str, Any] = {}
        if self.selecting:
            fit, details, warnings, winner = self._select(table)
            if winner is not None:
                return self._heterogeneity_choice(table, winner, details, warnings, levels)
        else:
            fit = fit_loglinear(table.counts, table.k, self._terms_for(names), names=names)
        method = diag.exact("maximum likelihood (Newton), profile likelihood by root finding")
        details.update({
            "terms": model_label(fit.terms, names),
            "structure": model_structure(fit.terms, names),
            "term_indices": [list(t) for t in fit.terms],
            "rcapture": rcapture_label(fit.terms, table.k),
            "status": fit.status,
            "infinite_terms": [model_label((t,), names) for t in fit.infinite_terms],
            "poisson_total": fit.total,
            "deviance": fit.deviance,
            "df": fit.df,
            "aic": fit.aic,
            "bic": fit.bic,
        })
        if not fit.valid:
            return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None, diagnostics=method,
                                   warnings=tuple(warnings), details=details,
                                   reason=f"the model {model_label(fit.terms, names)} gives no estimate: {fit.message}")
        if fit.status == "extended":
            warnings.append(fit.message)
        profiles = {level: profile_likelihood(table.counts, table.k, fit.terms, level, names=names) for level in levels}
        first = profiles[levels[0]]
        if first.total is None:
            return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None, diagnostics=method,
                                   warnings=tuple(warnings), details=details, reason=first.message)
        intervals = {level: (p.lower, p.upper) for level, p in profiles.items()}
        for level, (lower, upper) in intervals.items():
            if upper is None:
                warnings.append(f"the {100 * level:g}% profile interval has no upper end: the data put no upper "
                                "limit on N under this model")
        zero_pairs = table.zero_overlap_pairs()
        if zero_pairs and fit.status == "ok":
            listed = ", ".join(f"{a}-{b}" for a, b in zero_pairs)
            warnings.append(f"{len(zero_pairs)} pair(s) of lists never overlap ({listed}): estimates are fragile")
        return StratumEstimate(
            stratum=table.stratum,
            observed=table.observed,
            total=PointEstimate(first.total, intervals, self.interval_type),
            diagnostics=method,
            warnings=tuple(warnings),
            details=details,
        )


    def _heterogeneity_choice(self, table: ListTable, winner: HeterogeneityFit, details: dict[str, Any],
                              warnings: list[str], levels: tuple[float, ...]) -> StratumEstimate:
        """The estimate when a heterogeneity model ranks first."""
        from hiddenrate.models.lists.heterogeneity import heterogeneity_estimate

        estimate = heterogeneity_estimate(table, winner.name, levels, self.interval_type)
        details.update(estimate.details)
        details.update({"terms": f"{winner.label} (heterogeneity)", "heterogeneity_model": winner.name})
        warnings.append(f"the best model by {self.criterion.upper()} is Rcapture's {winner.label}: people differ in "
                        "how visible they are. It assumes, instead of the assumptions above, that lists are independent "
                        "given a person's visibility and that the spread of visibility has the shape the model sets "
                        f"(see --model {winner.name})")
        return replace(estimate, warnings=(*warnings, *estimate.warnings), details=details)

    def combine_points(self, estimates: list[StratumEstimate], tables: tuple[ListTable, ...],
                       levels: tuple[float, ...]) -> PointEstimate | None:
        """Profile likelihood of the total over independent strata (max-plus convolution of the
        strata's profile curves; :mod:`hiddenrate.models.lists.strata_profile`)."""
        from hiddenrate.models.lists.heterogeneity import stratum_profile

        wide = chi2_1_cdf(chi2_1_ppf(max(levels)) + MARGIN)
        strata = []
        for estimate, table in zip(estimates, tables, strict=True):
            if estimate.total is None or estimate.total.median() is None:
                return None
            if "heterogeneity_model" in estimate.details:
                strata.append(stratum_profile(table, estimate.details["heterogeneity_model"],
                                              float(estimate.total.median() or 0.0), levels))
                continue
            terms = tuple(tuple(t) for t in estimate.details["term_indices"])
            reach = profile_likelihood(table.counts, table.k, terms, wide).upper

            def curve(hidden: np.ndarray, counts: np.ndarray = table.counts, k: int = table.k,
                      model: Terms = terms) -> np.ndarray:
                return profile_curve(counts, k, model, hidden)

            strata.append(StratumProfile(
                observed=table.observed,
                hidden_hat=float(estimate.total.median() or 0.0) - table.observed,
                reach=None if reach is None else reach - table.observed,
                curve=curve,
            ))
        total, intervals = total_profile_intervals(strata, levels)
        return PointEstimate(total, intervals, "profile likelihood of the total over independent strata")


class IndependenceModel(LoglinearModel):
    """The log-linear model with independent lists (Rcapture's ``Mt``)."""

    name = "independence"
    title = "Independence log-linear model (maximum likelihood; Rcapture's Mt)"
    option_names: ClassVar[tuple[str, ...]] = ()
    assumptions: ClassVar[tuple[str, ...]] = (
        "The lists are independent: being on one does not change the chance of being on another.",
        "Everyone has the same chance of being on each list (no heterogeneity).",
        "Closed population, and records matched correctly across lists.",
    )

    def __init__(self) -> None:
        super().__init__(terms="")

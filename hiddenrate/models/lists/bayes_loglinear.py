r"""Bayesian log-linear model for any number of lists, sampled with NUTS (nutpie).

The math, priors and identification notes are in
:mod:`hiddenrate.models.lists.bayes_loglinear_core`; in short, observed cells are Poisson with
log-linear means, the intercept is flat (the scale-invariant :math:`p(N) \propto 1/N`), main
effects Normal(0, 5), chosen interactions Normal(0, 2), and the number on no list is drawn
after sampling, :math:`n_0 \sim \text{Poisson}(e^{\alpha})`, so NUTS sees only continuous
parameters. This module turns a fit into the standard :class:`~hiddenrate.result.value.Result`,
with R-hat, ESS and divergences recorded.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.core.design import Terms, model_label, model_structure, normalize_terms, parse_terms
from hiddenrate.result.value import StratumEstimate
from hiddenrate.models.sampling.diagnostics import mcmc as mcmc_diagnostics

logger = logging.getLogger("hiddenrate")


class BayesLoglinearModel(ListModel):
    """Bayesian Poisson log-linear model (independence unless interaction terms are given).

    Parameters
    ----------
    terms
        Interaction terms: a string (``"NGO:PF,LA:GO"`` or Rcapture's ``"[12,13,4]"``), or
        index tuples. Default: none (independent lists).
    priors
        Overrides of the default priors, e.g. ``{"main": {"mu": 0, "sigma": 5},
        "interaction:0,1": {"mu": 0.5, "sigma": 0.3}}``.
    draws, tune, chains
        NUTS settings per chain.
    """

    name = "bayes-loglinear"
    title = "Bayesian log-linear model"
    description = "Poisson log-linear model of the observed capture patterns, sampled with NUTS; N drawn afterwards."
    estimate_type = "posterior median"
    interval_type = "credible interval"
    option_names: ClassVar[tuple[str, ...]] = ("terms", "priors", "draws", "tune", "chains")
    assumptions: ClassVar[tuple[str, ...]] = (
        "The chosen interaction terms capture all dependence between lists (with no terms: lists are independent).",
        "There is no interaction among all lists at once (it cannot be estimated from the observed patterns).",
        "Closed population, and records matched correctly across lists.",
        "Capture probabilities do not vary between people beyond what the interaction terms absorb.",
    )

    def __init__(self, terms: str | Terms | None = None, priors: dict[str, Any] | None = None,
                 draws: int = DEFAULT_DRAWS, tune: int = DEFAULT_TUNE, chains: int = DEFAULT_CHAINS) -> None:
        self.terms_spec = terms
        self.prior_overrides = dict(priors or {})
        if draws < 100 or tune < 100 or chains < 1:
            raise ModelError("draws and tune must be at least 100, chains at least 1")
        self.draws, self.tune, self.chains = int(draws), int(tune), int(chains)

    def _terms_for(self, names: tuple[str, ...]) -> Terms:
        if self.terms_spec is None:
            return ()
        if isinstance(self.terms_spec, str):
            return parse_terms(self.terms_spec, names)
        return normalize_terms(self.terms_spec)

    def _sampler(self, table: ListTable) -> Any:
        from hiddenrate.models.lists.bayes_loglinear_core import LoglinearSampler

        return LoglinearSampler(table.k, self._terms_for(table.names), self.prior_overrides)

    def structure(self, data: ListData) -> dict[str, Any] | None:
        return model_structure(self._terms_for(data.names), data.names)

    def describe(self, data: ListData) -> str:
        label = model_label(self._terms_for(data.names), data.names)
        return f"{self.description} Terms: {label}."

    def priors(self) -> dict[str, Any]:
        return {"overrides": self.prior_overrides}

    def priors_for(self, data: ListData) -> dict[str, Any]:
        from hiddenrate.models.lists.bayes_loglinear_core import loglinear_priors

        return loglinear_priors(data.k, self._terms_for(data.names), self.prior_overrides)

    def options(self) -> dict[str, Any]:
        return {"terms": self.terms_spec if isinstance(self.terms_spec, str) else self.terms_spec,
                "draws": self.draws, "tune": self.tune, "chains": self.chains, "sampler": "nutpie"}

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        sampler = self._sampler(table)
        logger.info("compiling and sampling the log-linear model (%d chains x %d draws; the first compile takes ~10 s)",
                    self.chains, self.draws)
        method = f"NUTS (nutpie), {self.chains} chains x {self.draws} draws after {self.tune} tuning"
        try:
            idata = sampler.sample(table.counts, draws=self.draws, tune=self.tune, chains=self.chains, seed=seed, remedy=True)
        except EstimationError as err:
            return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None,
                                   diagnostics=diag.Diagnostics(method=method, converged=False,
                                                                messages=(str(err),)),
                                   reason=str(err))
        monitored = [v for v in ("intercept", "main_effect", "interaction", "total") if v in idata.posterior]
        diagnostics = mcmc_diagnostics(idata, monitored, method)
        total = idata.posterior["total"].values
        warnings = []
        zero_pairs = table.zero_overlap_pairs()
        if zero_pairs:
            pairs = ", ".join(f"{a}-{b}" for a, b in zero_pairs)
            warnings.append(f"lists that never overlap ({pairs}): estimates from such tables are fragile")
        return StratumEstimate(
            stratum=table.stratum,
            observed=table.observed,
            total=DrawsDistribution(np.asarray(total, dtype=float)),
            diagnostics=diagnostics,
            warnings=tuple(warnings),
            details={"terms": model_label(sampler.terms, table.names),
                     "structure": model_structure(sampler.terms, table.names)},
            idata=idata,
        )

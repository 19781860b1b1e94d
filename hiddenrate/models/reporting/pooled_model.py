"""The pooled reporting model as a :class:`~hiddenrate.models.reporting.base.ReportingModel`.

The math and the sampler are in :mod:`hiddenrate.models.reporting.pooled`; this module turns
the posterior draws into per-stratum estimates, the total over strata (the sum of the strata's
joint draws) and the diagnostics of every stratum.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE, check_sampling
from hiddenrate.data.reporting import ReportingData
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.reporting.base import BAYES_ASSUMPTIONS, Fitted, ReportingModel, logger, mcmc_diagnostics, rate_table
from hiddenrate.models.reporting.pooled import DEFAULT_PRIORS as POOLED_PRIORS
from hiddenrate.models.reporting.pooled import TARGET_ACCEPT, PooledSampler
from hiddenrate.result.value import StratumEstimate


class PooledReporting(ReportingModel):
    """Reporting rates (logit) and incidence (log) partially pooled across strata; NUTS via nutpie.

    Parameters
    ----------
    priors
        Overrides of :data:`~hiddenrate.models.reporting.pooled.DEFAULT_PRIORS`.
    draws, tune, chains
        NUTS settings (per chain).
    target_accept
        NUTS target acceptance (default 0.99; see :mod:`~hiddenrate.models.reporting.pooled`).
    """

    name = "pooled"
    title = "Pooled Bayesian reporting model"
    description = (
        "Recorded counts over survey reporting rates, with reporting rates and incidence partially pooled across strata; "
        "strata without a survey borrow. NUTS (nutpie); the unrecorded counts are drawn from their exact conditional."
    )
    estimate_type = "posterior median"
    interval_type = "credible interval"
    assumptions = (
        *BAYES_ASSUMPTIONS,
        "Across strata, reporting rates are logit-normal and incidence rates log-normal (partial pooling): "
        "a stratum without a survey reports like a typical stratum.",
    )
    default_priors = POOLED_PRIORS

    def __init__(self, priors: Mapping[str, Any] | None = None, draws: int = DEFAULT_DRAWS, tune: int = DEFAULT_TUNE,
                 chains: int = DEFAULT_CHAINS, target_accept: float = TARGET_ACCEPT) -> None:
        super().__init__(priors)
        check_sampling({"draws": draws, "tune": tune, "chains": chains, "target_accept": target_accept})
        self.draws, self.tune, self.chains = int(draws), int(tune), int(chains)
        self.target_accept = float(target_accept)

    def options(self) -> dict[str, Any]:
        return {"draws": self.draws, "tune": self.tune, "chains": self.chains, "target_accept": self.target_accept}

    def check(self, data: ReportingData) -> None:
        if data.multi_source or data.has_population:
            raise ModelError("the pooled model takes one source and no population route; use --model exact "
                             "(each stratum on its own, several sources and the population route)")

    def fit_data(self, data: ReportingData, *, levels: tuple[float, ...], seed: int, interval: str) -> Fitted:
        sources = [s.sources[0] for s in data.strata]
        recorded = np.array([s.recorded for s in sources])
        surveyed = np.array([s.surveyed for s in sources])
        reported = np.array([s.reported for s in sources])
        n = len(sources)
        started = time.perf_counter()
        logger.info("pooled reporting model: %d strata, %d chains x %d draws (compiling the model takes ~20 s the first time)",
                    n, self.chains, self.draws)
        sampler = PooledSampler(n, self._priors)
        idata = sampler.sample(recorded, surveyed, reported, draws=self.draws, tune=self.tune, chains=self.chains,
                               seed=seed, labels=[s.label() for s in data.strata], target_accept=self.target_accept,
                               remedy=True)
        logger.info("sampled in %.1f s", time.perf_counter() - started)
        method = f"NUTS (nutpie), {self.chains} chains x {self.draws} draws"
        hyper = ["logit_rate_mean", "logit_rate_sd", "log_incidence_mean", "log_incidence_sd", "total_all", "reporting_rate_all"]
        overall_diag, strata_diag = mcmc_diagnostics(idata, hyper, ["reporting_rate", "incidence", "total"], method)
        post = idata["posterior"]
        total = post["total"].values.reshape(-1, n)
        rate = post["reporting_rate"].values.reshape(-1, n)
        estimates = []
        for s, stratum in enumerate(data.strata):
            warnings = []
            if not sources[s].has_survey:
                warnings.append("no survey in this stratum: its reporting rate is borrowed from the other strata "
                                "(the pooled distribution of rates), so its interval is wider")
            estimates.append(StratumEstimate(stratum=stratum.stratum, observed=stratum.recorded, total=DrawsDistribution(total[:, s]),
                                             diagnostics=strata_diag[s], warnings=tuple(warnings),
                                             quantities={"reporting_rate": DrawsDistribution(rate[:, s])}))
        run_warnings = []
        if surveyed.sum() == 0:
            run_warnings.append("no stratum has a reporting survey: every reporting rate comes from the prior alone")
        if not overall_diag.converged:
            run_warnings.append("the sampler did not converge: " + "; ".join(overall_diag.messages))
        hyper_means = {v: float(post[v].median()) for v in hyper[:4]}
        tables = [rate_table(data, estimates, levels, interval, "Reporting rates partially pooled on the logit scale; "
                             f"typical rate {100 / (1 + np.exp(-hyper_means['logit_rate_mean'])):.1f}% (posterior median).")]
        if data.stratified:
            overall = StratumEstimate(stratum={}, observed=int(recorded.sum()), total=DrawsDistribution(post["total_all"].values),
                                      diagnostics=overall_diag, quantities={"reporting_rate": DrawsDistribution(post["reporting_rate_all"].values)},
                                      details={"how": "sum of the strata's joint posterior draws"}, idata=idata)
        else:
            overall = estimates[0]
        return Fitted(strata=estimates, overall=overall, tables=tables, warnings=run_warnings,
                      extra={"hyperparameters_median": hyper_means})


__all__ = ["PooledReporting"]

r"""Hierarchical reporting model over strata, sampled with nutpie; the true counts never sampled.

The model
---------
For strata :math:`s = 1, \dots, S` (areas x crime types x periods) with recorded counts
:math:`y_s`, and surveys in which :math:`r_s` of :math:`m_s` incidents reached the police
(:math:`m_s = 0`: no survey in that stratum),

.. math::

    N_s \sim \text{Poisson}(\lambda_s), \quad y_s \mid N_s \sim \text{Binomial}(N_s, p_s),
    \quad r_s \sim \text{Binomial}(m_s, p_s),

    \operatorname{logit} p_s \sim \text{Normal}(\mu_p, \sigma_p), \qquad
    \log \lambda_s \sim \text{Normal}(\mu_\lambda, \sigma_\lambda).

Never sample N (docs/methods.md#thinning): :math:`y_s \sim \text{Poisson}(\lambda_s p_s)` and the
unrecorded count :math:`U_s = N_s - y_s \sim \text{Poisson}(\lambda_s (1 - p_s))` is
independent of :math:`y_s` given the rates. NUTS samples only the continuous parameters; then,
draw by draw, :math:`U_s` is drawn with numpy and :math:`N_s = y_s + U_s`. The total over
strata is the sum of the :math:`N_s` draw by draw, so it carries their joint uncertainty.

Priors (:data:`DEFAULT_PRIORS`, all overridable)
------------------------------------------------
* ``logit_rate_mean``: Normal(0, 1.5) — the typical reporting rate is between 5% and 95%.
* ``logit_rate_sd``: HalfNormal(1) — between strata, reporting rates typically differ by a
  factor of up to about 2 in the odds; larger differences are allowed.
* ``log_incidence_mean``: flat — the analogue of :math:`p(\lambda) \propto 1/\lambda`; scale
  free, so the answer does not depend on the units of the count. (Improper when every stratum
  recorded 0: then give a Normal prior.)
* ``log_incidence_sd``: HalfNormal(2) — incidence can differ by orders of magnitude between
  crime types and areas.

What pooling does. A stratum without a survey gets its reporting rate from the distribution
of rates across the other strata (its interval is wider: the spread between strata is
added). A stratum with :math:`y_s = 0` gets its incidence from the distribution across the
other strata, cut down by the zero: its posterior says "at the low end of what the other
strata show", never exactly 0, and never more than a zero allows (:math:`\lambda_s p_s` of a few
at most).

Parameterisation. Each stratum's parameters are sampled between centred and non-centred
(Gorinova, Moore & Hoffman 2020), by how much its own data pin them down relative to the
spread between strata (see :func:`sampler_inputs`); the incidence is sampled through the log
recorded mean :math:`\log(\lambda_s p_s)`, which the count fixes even when the rate is
uncertain. The weights are data (swapped into the compiled model with the counts), not part of
the model; they remove the funnels and ridges that make a purely centred or purely non-centred
model mix slowly. NUTS uses ``target_accept = 0.99`` by default (with few or nearly
identical strata the spreads' posteriors reach from near 0 to large values; 0.99 removes most
divergent transitions there, at about twice the time of 0.95).

References
----------
Gorinova, M. I., Moore, D. & Hoffman, M. D. (2020). Automatic reparameterisation of
probabilistic programs. *ICML*, PMLR 119, 3648-3657.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit, logit

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.core.limits import MAX_FIT_BYTES, size_text
from hiddenrate.models.sampling.nuts import compile_once, sample_nuts
from hiddenrate.models.sampling.reporting_kernel import install_kernel, kernel_installed

if TYPE_CHECKING:
    import arviz

#: Default priors of the pooled model (see the module docstring).
DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    "logit_rate_mean": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "logit_rate_sd": {"dist": "halfnormal", "sigma": 1.0},
    "log_incidence_mean": {"dist": "flat"},
    "log_incidence_sd": {"dist": "halfnormal", "sigma": 2.0},
}
#: NUTS target acceptance: high, because with few or homogeneous strata the posterior of a spread
#: reaches from near 0 to large values, where no single parameterisation is easy everywhere
TARGET_ACCEPT = 0.99
_MAX_POISSON_MEAN = 1e15
#: what decides the sampler's R-hat / ESS remedy: the variables the model's diagnostics check, or the
#: internal ones the per-stratum rate and incidence are monotone maps of (same ranks, same R-hat and ESS)
REMEDY_MONITOR = ("logit_rate_mean", "logit_rate_sd", "log_incidence_mean", "log_incidence_sd", "_logit_rate",
                  "_log_incidence")
_COMPILED: dict[tuple[int, str], Any] = {}
_COMPILE_LOCK = threading.Lock()
#: 8-byte values held per stratum and draw while sampling and summarising (nutpie's trace, the rates,
#: incidences, hidden and total counts and their copies: 1,000 strata x 4,000 draws peaked at 1.24 GB in
#: benchmarks/bench_strata.py)
_VALUES_PER_STRATUM_DRAW = 20
#: memory of the compiled model and the libraries, besides the draws
_BASE_BYTES = 600 * 2**20


def pooled_bytes(n_strata: int, draws: int, chains: int) -> float:
    """Memory a pooled fit needs, estimated before it starts: it grows with strata x draws x chains."""
    return _BASE_BYTES + 8.0 * _VALUES_PER_STRATUM_DRAW * n_strata * draws * chains


def pooled_draws_max(n_strata: int, chains: int) -> int:
    """Most draws per chain a pooled fit of ``n_strata`` strata may take within :data:`~hiddenrate.core.limits.MAX_FIT_BYTES`."""
    return int((MAX_FIT_BYTES - _BASE_BYTES) / (8.0 * _VALUES_PER_STRATUM_DRAW * n_strata * chains))


def check_pooled_memory(n_strata: int, draws: int, chains: int) -> None:
    """Refuse a pooled fit that would need more than :data:`~hiddenrate.core.limits.MAX_FIT_BYTES`, saying what to do."""
    needed = pooled_bytes(n_strata, draws, chains)
    if needed > MAX_FIT_BYTES:
        fits = pooled_draws_max(n_strata, chains)
        raise ModelError(f"the pooled model on {n_strata:,} strata with {chains} chains of {draws:,} draws would need "
                         f"about {size_text(needed)} of memory (more than {size_text(MAX_FIT_BYTES)}); use --model exact "
                         f"(each stratum on its own, no MCMC), or --draws {max(fits, 1)} or fewer, or fewer strata")


def _normal_log_density(x: Any, mu: Any, sigma: Any) -> Any:
    import pytensor.tensor as pt

    return -0.5 * ((x - mu) / sigma) ** 2 - pt.log(sigma)


def _build_model(n_strata: int, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """The PyMC model; counts, parameterisation weights and offsets enter through ``pm.Data``.

    Per stratum, ``raw`` parameters are sampled with a flat base measure and their
    hierarchical prior added as a potential, in the variationally inferred parameterisation
    of Gorinova, Moore & Hoffman (2020): for a Normal(m, sigma) parameter and a weight
    ``w`` in [0, 1] (1 = centred, 0 = non-centred) and offset ``o``,

        raw ~ Normal(w (m - o), sigma^w),   theta = m + sigma^(1 - w) (raw - w (m - o)),

    so theta ~ Normal(m, sigma) for every w, and theta = o at raw = 0 when w = 1. For the
    reporting rate theta = logit p_s, m = mu_p; for the incidence theta = log(lambda_s p_s) (the
    log recorded mean, which the count pins down even when p_s is uncertain) with
    m = mu_lambda + log p_s.
    """
    import pymc as pm
    import pytensor.tensor as pt

    zeros_int = np.zeros(n_strata, dtype=np.int64)
    zeros = np.zeros(n_strata)
    with pm.Model(coords={"stratum": list(range(n_strata))}) as model:
        recorded = pm.Data("recorded", zeros_int, dims="stratum")
        surveyed = pm.Data("surveyed", zeros_int, dims="stratum")
        reported = pm.Data("reported", zeros_int, dims="stratum")
        weight_rate = pm.Data("weight_rate", zeros, dims="stratum")
        weight_incidence = pm.Data("weight_incidence", zeros, dims="stratum")
        offset_rate = pm.Data("offset_rate", zeros, dims="stratum")
        offset_recorded = pm.Data("offset_recorded", zeros, dims="stratum")
        offset_mean = pm.Data("offset_incidence_mean", 0.0)

        spec = priors["logit_rate_mean"]
        rate_mean = pm.Normal("logit_rate_mean", mu=spec["mu"], sigma=spec["sigma"])
        rate_sd = pm.HalfNormal("logit_rate_sd", sigma=priors["logit_rate_sd"]["sigma"])
        spec = priors["log_incidence_mean"]
        # sampled as offset + raw, the offset set per data set so chains start near the answer;
        # a flat prior is shift invariant, a Normal prior is shifted with it
        if spec["dist"] == "flat":
            raw_mean = pm.Flat("_log_incidence_mean_raw")
        else:
            raw_mean = pm.Normal("_log_incidence_mean_raw", mu=spec["mu"] - offset_mean, sigma=spec["sigma"])
        incidence_mean = pm.Deterministic("log_incidence_mean", offset_mean + raw_mean)
        incidence_sd = pm.HalfNormal("log_incidence_sd", sigma=priors["log_incidence_sd"]["sigma"])

        raw_rate = pm.Flat("_rate_raw", dims="stratum")
        shift = weight_rate * (rate_mean - offset_rate)
        logit_rate = rate_mean + pt.exp((1 - weight_rate) * pt.log(rate_sd)) * (raw_rate - shift)
        rate_prior = _normal_log_density(raw_rate, shift, pt.exp(weight_rate * pt.log(rate_sd)))
        log_rate = pt.log(pt.sigmoid(logit_rate))

        raw_incidence = pm.Flat("_incidence_raw", dims="stratum")
        centre = incidence_mean + log_rate
        shift = weight_incidence * (centre - offset_recorded)
        log_recorded_mean = centre + pt.exp((1 - weight_incidence) * pt.log(incidence_sd)) * (raw_incidence - shift)
        incidence_prior = _normal_log_density(raw_incidence, shift, pt.exp(weight_incidence * pt.log(incidence_sd)))
        pm.Potential("stratum_priors", pt.sum(rate_prior) + pt.sum(incidence_prior))
        pm.Poisson("recorded_count", mu=pt.exp(log_recorded_mean), observed=recorded, dims="stratum")
        pm.Binomial("reported_count", n=surveyed, logit_p=logit_rate, observed=reported, dims="stratum")
        pm.Deterministic("_logit_rate", logit_rate, dims="stratum")
        pm.Deterministic("_log_incidence", log_recorded_mean - log_rate, dims="stratum")
    return model


def _compiled(n_strata: int, priors: Mapping[str, Mapping[str, Any]], kernel: bool = True) -> Any:
    """Compile (once per process) the nutpie model for this number of strata and priors.

    With ``kernel`` (what the sampler uses), its log density and gradient are then evaluated by
    the hand-written kernel of :mod:`hiddenrate.models.sampling.reporting_kernel` (same function, checked
    against PyTensor's, which ``kernel=False`` returns).
    """
    key = (n_strata, json.dumps(priors, sort_keys=True))
    compiled = compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(n_strata, priors))
    return install_kernel(compiled, n_strata, priors) if kernel else compiled


def _between_variance(estimates: np.ndarray, variances: np.ndarray, fallback: float) -> float:
    """DerSimonian-Laird moment estimate of the between-strata variance (``fallback`` below 2 strata)."""
    if estimates.size < 2:
        return fallback
    weights = 1 / variances
    centre = np.sum(weights * estimates) / weights.sum()
    q_stat = np.sum(weights * (estimates - centre) ** 2)
    scale = weights.sum() - np.sum(weights**2) / weights.sum()
    return float(max(0.0, (q_stat - (estimates.size - 1)) / scale)) if scale > 0 else fallback


def _weights(variance: np.ndarray, spread: tuple[float, float]) -> np.ndarray:
    """Per-stratum weights (1 = centred, 0 = non-centred) for a spread between ``spread[0]`` and ``spread[1]``.

    In the parameterisation of :func:`_build_model`, a stratum whose data have sampling
    variance ``v`` has a conditional posterior scale (in the sampled coordinate) of about
    ``(sigma^(2 - 2w) / v + sigma^(-2w))^(-1/2)`` at spread ``sigma``: ``sigma^w`` when
    ``sigma^2 << v``, ``sqrt(v) sigma^(w - 1)`` when ``sigma^2 >> v``. The weight that makes
    the scale equal at both ends of the spread's plausible range ``[lo, hi]`` is
    ``(log hi - log(v) / 2) / (log hi - log lo)``, clipped to [0, 1]: NUTS then meets no funnel
    over that range. Strata without data (``v`` infinite) are non-centred.
    """
    low, high = max(spread[0], 1e-6), max(spread[1], 1e-6)
    if high <= low * 1.01:
        return np.where(np.isfinite(variance), high**2 / (high**2 + variance), 0.0)
    with np.errstate(divide="ignore"):
        weight = (np.log(high) - 0.5 * np.log(variance)) / (np.log(high) - np.log(low))
    return np.clip(np.where(np.isfinite(variance), weight, 0.0), 0.0, 1.0)


def spread_range(estimate: float, n_informative: int, prior_sigma: float) -> tuple[float, float]:
    """Plausible range of a spread between strata, to choose the parameterisation (never the model).

    When the data look alike (the DerSimonian-Laird estimate ``tau`` is 0) or fewer than two
    strata inform the spread, its posterior reaches down to 0 and every stratum is sampled
    non-centred: the range is ``(0, 0)``. Otherwise, with ``k`` strata informing it, ``log tau``
    has a standard error of about ``1 / sqrt(2 (k - 1))``; the range is ``[tau / a^3, tau a]``
    with ``a = exp(3 / sqrt(2 (k - 1)))`` (a spread's posterior has a long tail towards 0), kept
    inside ``[sigma / 1000, 2 sigma]`` for a half-normal prior of scale ``sigma``. A range too
    wide costs speed; too narrow, divergent transitions.
    """
    low, high = prior_sigma / 1000, 2 * prior_sigma
    if n_informative < 2 or estimate <= 0:
        return 0.0, 0.0  # the data look alike (or say nothing): the spread can be ~0, so non-centred
    factor = float(np.exp(3 / np.sqrt(2 * (n_informative - 1))))
    narrow = (max(low, estimate / factor**3), min(high, estimate * factor))
    return narrow if narrow[0] < narrow[1] else (low, high)


def sampler_inputs(
    recorded: np.ndarray,
    surveyed: np.ndarray,
    reported: np.ndarray,
    priors: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The data swapped into the compiled model: counts, parameterisation weights, offsets.

    The weights (see :func:`_weights`) depend on each stratum's sampling variance (``1 / (m p
    (1 - p))`` for a survey, ``1 / y`` for a count) and on the plausible range of the spread
    between strata (:func:`spread_range`, from the DerSimonian-Laird estimate and the priors).
    They change only how the sampler moves, never the model.
    """
    priors = priors or DEFAULT_PRIORS
    with_survey = surveyed > 0
    pooled = (reported.sum() + 0.5) / (surveyed.sum() + 1.0)
    rate_hat = np.where(with_survey, (reported + 0.5) / (surveyed + 1.0), pooled)
    rate_var = np.where(with_survey, 1 / ((surveyed + 1.0) * rate_hat * (1 - rate_hat)), np.inf)
    seen = recorded > 0
    count_var = np.where(seen, 1 / np.maximum(recorded, 1), np.inf)
    tau_rate = np.sqrt(_between_variance(logit(rate_hat[with_survey]), rate_var[with_survey], 0.0))
    log_incidence_hat = np.log(np.maximum(recorded, 0.5) / rate_hat)
    tau_incidence = np.sqrt(
        _between_variance(log_incidence_hat[seen], (count_var + np.where(with_survey, rate_var, 0.25))[seen], 0.0)
    )
    rate_range = spread_range(tau_rate, int(with_survey.sum()), float(priors["logit_rate_sd"]["sigma"]))
    incidence_range = spread_range(tau_incidence, int(seen.sum()), float(priors["log_incidence_sd"]["sigma"]))
    return {
        "recorded": recorded.astype(np.int64),
        "surveyed": surveyed.astype(np.int64),
        "reported": reported.astype(np.int64),
        "weight_rate": _weights(rate_var, rate_range),
        "weight_incidence": _weights(count_var, incidence_range),
        "offset_rate": logit(rate_hat),
        "offset_recorded": np.log(np.maximum(recorded, 0.5)),
        "offset_incidence_mean": float(np.log(max(recorded.mean(), 0.5) / pooled)),
    }



def unrecorded_mean(posterior: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reporting rate, incidence and the Poisson mean of the unrecorded count, draw by draw.

    From the ``_logit_rate`` and ``_log_incidence`` draws of the pooled and trend models: the
    unrecorded count is Poisson with mean ``incidence * (1 - rate)`` (thinning).

    Raises
    ------
    EstimationError
        When that mean is unbounded (draws above 1e15 or not finite): the data and priors do not
        bound the total.
    """
    rate = expit(posterior["_logit_rate"].values)
    incidence = np.exp(posterior["_log_incidence"].values)
    hidden_mean = incidence * (1 - rate)
    if not np.all(np.isfinite(hidden_mean) & (hidden_mean <= _MAX_POISSON_MEAN)):
        raise EstimationError(
            "the posterior of the unrecorded count is unbounded (its mean reached "
            f"{np.nanmax(hidden_mean):.3g}); give informative priors or more surveys"
        )
    return rate, incidence, hidden_mean

class PooledSampler:
    """Compile the pooled reporting model once per number of strata and priors; sample it many times.

    Parameters
    ----------
    n_strata
        Number of strata.
    priors
        Merged priors (see :data:`DEFAULT_PRIORS`).

    Notes
    -----
    The nutpie model is cached per process, keyed by ``(n_strata, priors)``; every
    :meth:`sample` swaps the data in with ``CompiledModel.with_data`` (no recompiling).
    """

    def __init__(self, n_strata: int, priors: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        if n_strata < 1:
            raise ModelError("the pooled model needs at least one stratum")
        self.n_strata = int(n_strata)
        self.priors = copy.deepcopy(dict(priors or DEFAULT_PRIORS))

    def sample(
        self,
        recorded: np.ndarray,
        surveyed: np.ndarray,
        reported: np.ndarray,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int = DEFAULT_TUNE,
        chains: int = DEFAULT_CHAINS,
        seed: int = DEFAULT_SEED,
        labels: list[str] | None = None,
        target_accept: float = TARGET_ACCEPT,
        remedy: bool = False,
    ) -> arviz.InferenceData:
        """Sample the posterior and draw the unrecorded counts.

        Parameters
        ----------
        recorded, surveyed, reported
            Counts per stratum (``surveyed = 0``: no survey).
        draws, tune, chains
            NUTS settings (per chain).
        seed
            Seeds everything: one ``SeedSequence(seed)`` spawns the NUTS seed and the generator
            of the unrecorded counts.
        labels
            Stratum labels (the ``stratum`` coordinate).
        target_accept
            NUTS target acceptance.
        remedy
            Sample once more with the usual remedy when the run fails its checks (``sample_nuts``); fits ask for it.

        Returns
        -------
        arviz.InferenceData
            ``posterior``: hyperparameters ``logit_rate_mean``, ``logit_rate_sd``,
            ``log_incidence_mean``, ``log_incidence_sd``; per stratum (dim ``stratum``)
            ``reporting_rate`` (:math:`p_s`), ``incidence`` (:math:`\\lambda_s`), ``hidden``
            (:math:`U_s`, int64) and ``total`` (:math:`N_s`, int64); ``total_all`` (the sum)
            and ``reporting_rate_all`` (:math:`\\sum \\lambda_s p_s / \\sum \\lambda_s`).
            ``sample_stats`` from nutpie; ``observed_data`` the counts.

        Raises
        ------
        ModelError
            Every recorded count is 0 under the flat prior on the mean log incidence.
        EstimationError
            A drawn unrecorded mean is not finite or above 1e15.
        """
        recorded, surveyed, reported = self._checked_counts(recorded, surveyed, reported)
        check_pooled_memory(self.n_strata, draws, chains)
        nuts_seq, count_seq = np.random.SeedSequence(seed).spawn(2)
        compiled = _compiled(self.n_strata, self.priors)
        compiled = compiled.with_data(**sampler_inputs(recorded, surveyed, reported, self.priors))
        idata = sample_nuts(compiled, draws=draws, tune=tune, chains=chains, seed=nuts_seq, target_accept=target_accept,
                            remedy=remedy, max_draws=pooled_draws_max(self.n_strata, chains), monitor=REMEDY_MONITOR)
        post = idata.posterior
        rate, incidence, hidden_mean = unrecorded_mean(post)
        hidden = np.random.default_rng(count_seq).poisson(hidden_mean).astype(np.int64)
        total = hidden + recorded
        labels = labels or [str(i) for i in range(self.n_strata)]
        dims = ("chain", "draw", "stratum")
        keep = ["logit_rate_mean", "logit_rate_sd", "log_incidence_mean", "log_incidence_sd"]
        posterior = post[keep].assign(
            reporting_rate=(dims, rate),
            incidence=(dims, incidence),
            hidden=(dims, hidden),
            total=(dims, total),
            total_all=(("chain", "draw"), total.sum(axis=2)),
            reporting_rate_all=(("chain", "draw"), (incidence * rate).sum(axis=2) / incidence.sum(axis=2)),
        )
        return self._inference_data(posterior, idata.sample_stats, compiled, labels, (recorded, surveyed, reported),
                                    seed=seed, draws=draws, tune=tune, chains=chains, target_accept=target_accept)

    def _checked_counts(self, *counts: np.ndarray) -> tuple[np.ndarray, ...]:
        """The counts as int64 arrays of one value per stratum (:meth:`sample`'s ModelErrors)."""
        recorded, surveyed, reported = (np.asarray(x, dtype=np.int64) for x in counts)
        if recorded.shape != (self.n_strata,) or surveyed.shape != recorded.shape or reported.shape != recorded.shape:
            raise ModelError(f"the pooled model was built for {self.n_strata} strata; got counts of shape {recorded.shape}")
        if recorded.sum() == 0 and self.priors["log_incidence_mean"]["dist"] == "flat":
            raise ModelError(
                "every recorded count is 0: with the flat prior on the mean log incidence nothing bounds the "
                "incidence from below; give a prior (e.g. --prior log_incidence_mean=0,3) or add a population "
                "route (population_low, population_high, victimized, respondents) and use --model exact"
            )
        return recorded, surveyed, reported

    def _inference_data(self, posterior: Any, sample_stats: Any, compiled: Any, labels: list[str],
                        counts: tuple[np.ndarray, np.ndarray, np.ndarray], *, seed: int, draws: int, tune: int,
                        chains: int, target_accept: float) -> arviz.InferenceData:
        """The result: the posterior with its strata and provenance, nutpie's statistics, the counts."""
        import arviz
        import nutpie

        recorded, surveyed, reported = counts
        posterior = posterior.assign_coords(stratum=labels)
        posterior.attrs.update(
            {
                "model": "reporting_pooled",
                "priors": json.dumps(self.priors, sort_keys=True),
                "seed": int(seed),
                "draws": int(draws),
                "tune": int(tune),
                "chains": int(chains),
                "target_accept": float(target_accept),
                "sampler": f"nutpie {nutpie.__version__}",
                "log_density": "hand-written kernel" if kernel_installed(compiled) else "PyTensor",
            }
        )
        observed = arviz.from_dict(
            observed_data={"recorded": recorded, "surveyed": surveyed, "reported": reported},
            coords={"stratum": labels},
            dims={name: ["stratum"] for name in ("recorded", "surveyed", "reported")},
        )
        return arviz.InferenceData(posterior=posterior, sample_stats=sample_stats, observed_data=observed.observed_data)


def simulate(
    n_strata: int,
    rng: np.random.Generator,
    *,
    log_incidence: tuple[float, float] = (np.log(20.0), 1.5),
    logit_rate: tuple[float, float] = (float(logit(0.25)), 0.6),
    surveyed: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Simulate strata from the pooled model, with their true counts (to check coverage).

    ``log lambda_s ~ Normal(*log_incidence)``, ``logit p_s ~ Normal(*logit_rate)``,
    ``N_s ~ Poisson(lambda_s)``, ``y_s ~ Binomial(N_s, p_s)``, ``r_s ~ Binomial(m_s, p_s)``.
    ``surveyed`` gives the survey sizes ``m_s`` (0 = no survey; default 200 everywhere).

    Returns a dict with ``incidence``, ``reporting_rate``, ``total`` (the true N),
    ``recorded``, ``surveyed``, ``reported``.
    """
    incidence = np.exp(rng.normal(log_incidence[0], log_incidence[1], n_strata))
    rate = expit(rng.normal(logit_rate[0], logit_rate[1], n_strata))
    sizes = np.full(n_strata, 200, dtype=np.int64) if surveyed is None else np.asarray(surveyed, dtype=np.int64)
    total = rng.poisson(incidence)
    recorded = rng.binomial(total, rate)
    reported = rng.binomial(sizes, rate)
    return {"incidence": incidence, "reporting_rate": rate, "total": total, "recorded": recorded,
            "surveyed": sizes, "reported": reported}


__all__ = ["DEFAULT_PRIORS", "simulate", "PooledSampler", "sampler_inputs"]

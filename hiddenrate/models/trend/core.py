r"""Change over time: incidence and reporting rate as smooth processes over periods (nutpie).

The model
---------
Series :math:`g = 1, \dots, G` (the combinations of the stratum columns other than the
period; one series when there are none) are observed in periods :math:`t = 1, \dots, T` at times
:math:`\tau_1 < \dots < \tau_T` (years, quarters, months or whole numbers; gaps allowed). In each
period the source recorded :math:`y_{gt}` incidents and a survey found that :math:`r_{gt}` of
:math:`m_{gt}` reached it (:math:`m_{gt} = 0`: no survey that period). With the true count
:math:`N_{gt} \sim \text{Poisson}(\lambda_{gt})` and each incident recorded with probability
:math:`p_{gt}`,

.. math::

    y_{gt} \sim \text{Poisson}(\lambda_{gt} p_{gt}), \qquad
    r_{gt} \sim \text{Binomial}(m_{gt}, p_{gt}), \qquad
    U_{gt} = N_{gt} - y_{gt} \sim \text{Poisson}(\lambda_{gt}(1 - p_{gt})),

and :math:`U_{gt}` is independent of :math:`y_{gt}` given the rates (docs/methods.md#thinning). NUTS samples only the continuous parameters; :math:`U_{gt}` is drawn afterwards, draw by
draw, and :math:`N_{gt} = y_{gt} + U_{gt}`.

The processes. :math:`a_{gt} = \log \lambda_{gt}` and :math:`b_{gt} = \operatorname{logit}
p_{gt}` each follow, independently across series but with a step size shared by all series,

* ``rw`` (random walk): :math:`x_t = x_{t-1} + \sigma \sqrt{\tau_t - \tau_{t-1}}\,
  \varepsilon_t`; the prior on the level is put on the series mean over periods
  :math:`\bar x` (flat for the log incidence, the analogue of :math:`p(\lambda) \propto 1/\lambda`;
  Normal(0, 1.5) for the logit reporting rate);
* ``rw-drift`` (the default): the same with a drift :math:`\delta` per series,
  :math:`x_t = x_{t-1} + \delta (\tau_t - \tau_{t-1}) + \sigma \sqrt{\tau_t - \tau_{t-1}}\,
  \varepsilon_t`, so a steady trend is not shrunk towards flat at the first and last periods;
* ``ar1``: :math:`x_t - \mu = \phi^{\Delta_t} (x_{t-1} - \mu) + \sigma
  \sqrt{(1 - \phi^{2\Delta_t}) / (1 - \phi^2)}\, \varepsilon_t` with :math:`\Delta_t =
  \tau_t - \tau_{t-1}`, started from the stationary distribution
  :math:`x_1 \sim \text{Normal}(\mu, \sigma / \sqrt{1 - \phi^2})`; the prior on the level is
  put on :math:`\mu`.

A period borrows from its neighbours through the process: one without a survey gets its
reporting rate from the rates before and after it (how much wider its interval is depends on
the step sizes; see below).
Both are written non-centred (:math:`\varepsilon \sim \text{Normal}(0, 1)` sampled), as
vectorised matrix products, so the graph does not grow with a loop over periods.

Priors (:data:`DEFAULT_PRIORS`; ``rw-drift`` adds :data:`DRIFT_PRIORS`, ``ar1`` :data:`AR1_PRIORS`)
-----------------------------------------------------------------------------------------------
* ``log_incidence_level``: flat (series mean of :math:`\log\lambda`; the mean :math:`\mu`
  for ``ar1``).
* ``log_incidence_step``: :math:`\sigma_a^2 \sim` scaled-Inv-:math:`\chi^2(4, 0.1^2)`, integrated
  out (:func:`_step_log_density`), so one step is Student-t(4) with scale 0.1: beyond the drift,
  the incidence typically moves by about 10% from one period to the next, and the heavy tails
  allow a sudden change.
* ``logit_rate_level``: Normal(0, 1.5) (series mean of the logit reporting rate).
* ``logit_rate_step``: the same on :math:`\sigma_b`, with scale 0.2 on the logit scale: a
  reporting rate may move by about 20% in the odds from one period to the next beyond its drift
  (a law, a police campaign or an outreach project can change it within a year).
* ``log_incidence_drift``, ``logit_rate_drift`` (``rw-drift`` only): Normal(0, 0.5) per period.
* ``log_incidence_ar``, ``logit_rate_ar`` (``ar1`` only): Beta(1, 1) on :math:`\phi`,
  uniform on (0, 1).

How much a period's own survey matters depends on the step size against the survey's
precision: a survey of :math:`m` at rate :math:`p` pins the logit rate to about
:math:`1/\sqrt{m p (1 - p)}` (0.13 for 300 at 0.3, 0.25 for 80 at 0.3), and where that is
larger than the typical step the rate of each period comes mostly from its neighbours. At scale
0.1 a survey of 80 hardly counted for its own period: with the ``vancouver-trend`` example's 2013
survey removed, 2013's rate interval was no wider than 2014's, and a sudden change of reporting
was smoothed away. At 0.2 the period without a survey is the widest of the three on the log-odds
scale (0.58 against 0.52 and 0.55; 1.3 times as wide with surveys of 1,000), while the criteria
of issue 5 hold as before (200 simulated data sets each: the first-to-last ratio covers 1 in 94.0%,
a 30% fall is detected in 89.0%; tests/test_trend_coverage.py). The output states, for every
period without a survey, how much wider its interval is than its neighbours' (it can be only a
little, with small surveys), rather than assuming it.

The decomposition (docs/methods.md#change-over-time). The expected recorded count is
:math:`\lambda_t p_t`, so between periods :math:`s` and :math:`t` it changes by
:math:`(\lambda_t / \lambda_s) \times (p_t / p_s)`: a change in incidence times a change in
reporting, computed draw by draw from the joint posterior.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import logit

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.sampling.nuts import compile_once, sample_nuts
from hiddenrate.models.reporting.pooled import unrecorded_mean

if TYPE_CHECKING:
    import arviz

PROCESSES = ("rw", "rw-drift", "ar1")

#: Default priors (see the module docstring); overridable by name.
DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    "log_incidence_level": {"dist": "flat"},
    "log_incidence_step": {"dist": "scaled_inv_chi2", "dof": 4.0, "scale": 0.1},
    "logit_rate_level": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "logit_rate_step": {"dist": "scaled_inv_chi2", "dof": 4.0, "scale": 0.2},
}
#: Priors added by the random walk with drift: the drift per period (on the log or logit scale).
DRIFT_PRIORS: dict[str, dict[str, Any]] = {
    "log_incidence_drift": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
    "logit_rate_drift": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
}
#: Priors added by the AR(1) process: the autoregressive coefficients.
AR1_PRIORS: dict[str, dict[str, Any]] = {
    "log_incidence_ar": {"dist": "beta", "alpha": 1.0, "beta": 1.0},
    "logit_rate_ar": {"dist": "beta", "alpha": 1.0, "beta": 1.0},
}
TARGET_ACCEPT = 0.9
#: what decides the sampler's R-hat / ESS remedy: the parameters the model's diagnostics check, and the
#: internal log incidence and logit rate that the incidence and reporting rate are monotone maps of
REMEDY_MONITOR = ("log_incidence_level", "logit_rate_level", "log_incidence_drift", "logit_rate_drift",
                  "log_incidence_ar", "logit_rate_ar", "_log_incidence", "_logit_rate")
_COMPILED: dict[tuple[int, int, str, str], Any] = {}
_COMPILE_LOCK = threading.Lock()


def default_priors(process: str) -> dict[str, dict[str, Any]]:
    """The default priors of ``process`` (``rw``, ``rw-drift`` or ``ar1``), a fresh copy."""
    if process not in PROCESSES:
        raise ModelError(f"unknown process '{process}'; use one of {', '.join(PROCESSES)}")
    priors = copy.deepcopy(DEFAULT_PRIORS)
    if process == "ar1":
        priors.update(copy.deepcopy(AR1_PRIORS))
    if process == "rw-drift":
        priors.update(copy.deepcopy(DRIFT_PRIORS))
    return priors


def _step_log_density(quadratic: Any, n_terms: int, spec: Mapping[str, Any]) -> Any:
    r"""Log density (up to a constant) of ``n_terms`` Normal(0, sigma^2 c_i) innovations with the step
    size integrated out: :math:`\sigma^2 \sim` scaled-Inv-:math:`\chi^2(\nu, s^2)` gives
    :math:`-(\nu + n)/2 \cdot \log(\nu s^2 + q)` with :math:`q = \sum_i e_i^2 / c_i`
    (a multivariate Student-t). The :math:`-\tfrac12 \sum \log c_i` term is added by the caller."""
    import pytensor.tensor as pt

    dof, scale = float(spec["dof"]), float(spec["scale"])
    return -0.5 * (dof + n_terms) * pt.log(dof * scale**2 + quadratic)


def process_log_prior(x: Any, times: Any, phi: Any | None, mean: Any | None, drift: Any | None,
                       spec: Mapping[str, Any]) -> Any:
    """Log prior of a process ``x`` (series x periods) given its step prior, with the step size integrated out.

    Random walk: the innovations are the increments (less the drift times the gap, with a drift),
    with variances proportional to the gaps.
    AR(1) around ``mean``: the stationary start and the one-step prediction errors.
    """
    import pytensor.tensor as pt

    gaps = times[1:] - times[:-1]
    n_series, n_periods = x.shape[0], x.shape[1]
    if phi is None:
        increments = x[:, 1:] - x[:, :-1]
        if drift is not None:
            increments = increments - drift[:, None] * gaps[None, :]
        quadratic = pt.sum(increments**2 / gaps[None, :])
        return _step_log_density(quadratic, n_series * (n_periods - 1), spec)
    if mean is None:
        raise ValueError("an AR(1) process needs its mean")
    deviation = x - mean[:, None]
    decay = phi**gaps
    errors = pt.concatenate([deviation[:, :1], deviation[:, 1:] - decay[None, :] * deviation[:, :-1]], axis=1)
    variances = pt.concatenate([pt.ones(1), 1 - decay**2]) / (1 - phi**2)
    quadratic = pt.sum(errors**2 / variances[None, :])
    return _step_log_density(quadratic, n_series * n_periods, spec) - 0.5 * n_series * pt.sum(pt.log(variances))


def normal_log_density(x: Any, spec: Mapping[str, Any]) -> Any:
    return -0.5 * ((x - float(spec["mu"])) / float(spec["sigma"])) ** 2


def _build_model(n_series: int, n_periods: int, process: str, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    r"""The PyMC model; counts, times, offsets and scales enter through ``pm.Data`` (swapped per data set).

    Sampled coordinates: per series and period, the log recorded mean :math:`c = \log(\lambda p)`
    (which the count pins down) and the logit reporting rate :math:`b` (which the survey pins
    down), each as ``offset + scale * raw`` with data-based offsets and scales (a fixed affine
    map: it changes how the sampler moves, never the model); the log incidence is
    :math:`a = c - \log p`. The map from (a, b) to (c, b) has Jacobian 1, so the priors on the
    processes of a and b are added as they are. For ``ar1`` the means and the coefficients are
    sampled too.
    """
    import pymc as pm
    import pytensor.tensor as pt

    shape = (n_series, n_periods)
    dims = ("series", "period")
    coords = {"series": list(range(n_series)), "period": list(range(n_periods))}
    with pm.Model(coords=coords) as model:
        recorded = pm.Data("recorded", np.zeros(shape, dtype=np.int64), dims=dims)
        surveyed = pm.Data("surveyed", np.zeros(shape, dtype=np.int64), dims=dims)
        reported = pm.Data("reported", np.zeros(shape, dtype=np.int64), dims=dims)
        times = pm.Data("times", np.arange(n_periods, dtype=float), dims="period")
        offsets = {name: pm.Data(f"offset_{name}", np.zeros(shape), dims=dims) for name in ("recorded", "rate")}
        scales = {name: pm.Data(f"scale_{name}", np.ones(shape), dims=dims) for name in ("recorded", "rate")}

        raw_c = pm.Flat("_log_recorded_raw", dims=dims)
        raw_b = pm.Flat("_logit_rate_raw", dims=dims)
        log_recorded_mean = offsets["recorded"] + scales["recorded"] * raw_c
        logit_rate = offsets["rate"] + scales["rate"] * raw_b
        log_incidence = log_recorded_mean - pt.log(pt.sigmoid(logit_rate))

        phi_a = phi_b = mean_a = mean_b = drift_a = drift_b = None
        if process == "rw-drift":
            spec = priors["log_incidence_drift"]
            drift_a = pm.Normal("log_incidence_drift", mu=spec["mu"], sigma=spec["sigma"], dims="series")
            spec = priors["logit_rate_drift"]
            drift_b = pm.Normal("logit_rate_drift", mu=spec["mu"], sigma=spec["sigma"], dims="series")
        if process == "ar1":
            spec = priors["log_incidence_ar"]
            phi_a = pm.Beta("log_incidence_ar", alpha=spec["alpha"], beta=spec["beta"])
            spec = priors["logit_rate_ar"]
            phi_b = pm.Beta("logit_rate_ar", alpha=spec["alpha"], beta=spec["beta"])
            # the means: sampled around the series' average (a shift; flat priors are shift invariant)
            mean_a = pm.Deterministic("log_incidence_level", pt.mean(log_incidence, axis=1)
                                      + pm.Flat("_log_incidence_mean_raw", dims="series"), dims="series")
            mean_b = pm.Deterministic("logit_rate_level", pt.mean(logit_rate, axis=1)
                                      + pm.Flat("_logit_rate_mean_raw", dims="series"), dims="series")
        else:
            mean_a = pm.Deterministic("log_incidence_level", pt.mean(log_incidence, axis=1), dims="series")
            mean_b = pm.Deterministic("logit_rate_level", pt.mean(logit_rate, axis=1), dims="series")
        terms = [process_log_prior(log_incidence, times, phi_a, mean_a, drift_a, priors["log_incidence_step"]),
                 process_log_prior(logit_rate, times, phi_b, mean_b, drift_b, priors["logit_rate_step"]),
                 pt.sum(normal_log_density(mean_b, priors["logit_rate_level"]))]
        if priors["log_incidence_level"]["dist"] != "flat":
            terms.append(pt.sum(normal_log_density(mean_a, priors["log_incidence_level"])))
        pm.Potential("process_priors", pt.add(*terms))
        pm.Poisson("recorded_count", mu=pt.exp(log_recorded_mean), observed=recorded, dims=dims)
        pm.Binomial("reported_count", n=surveyed, logit_p=logit_rate, observed=reported, dims=dims)
        pm.Deterministic("_log_incidence", log_incidence, dims=dims)
        pm.Deterministic("_logit_rate", logit_rate, dims=dims)
    return model


def _compiled(n_series: int, n_periods: int, process: str, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """Compile (once per process) the nutpie model for this structure and these priors."""
    key = (n_series, n_periods, process, json.dumps(priors, sort_keys=True))
    return compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(n_series, n_periods, process, priors))


def sampler_inputs(recorded: np.ndarray, surveyed: np.ndarray, reported: np.ndarray, times: np.ndarray,
                   priors: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The data swapped into the compiled model: counts (series x periods), times, offsets and scales.

    Offsets are each period's own estimates (``log y`` for the log recorded mean; the survey's
    logit rate, or the series' pooled rate in a period without a survey); scales their
    approximate posterior standard deviations (``1 / sqrt(y)``; ``1 / sqrt(m p (1 - p))``, or the
    typical step from the neighbours where there is no survey).
    """
    priors = priors or DEFAULT_PRIORS
    recorded, surveyed, reported = (np.asarray(x, dtype=float) for x in (recorded, surveyed, reported))
    pooled = (reported.sum(axis=1, keepdims=True) + 0.5) / (surveyed.sum(axis=1, keepdims=True) + 1.0)
    has_survey = surveyed > 0
    rate = np.where(has_survey, (reported + 0.5) / (surveyed + 1.0), pooled)
    step = float(priors["logit_rate_step"]["scale"])
    rate_sd = np.where(has_survey, 1 / np.sqrt((surveyed + 1.0) * rate * (1 - rate)),
                       np.sqrt(1 / ((surveyed.sum(axis=1, keepdims=True) + 1.0) * pooled * (1 - pooled)) + 4 * step**2))
    return {
        "recorded": recorded.astype(np.int64),
        "surveyed": surveyed.astype(np.int64),
        "reported": reported.astype(np.int64),
        "times": np.asarray(times, dtype=float),
        "offset_recorded": np.log(np.maximum(recorded, 0.5)),
        "scale_recorded": 1 / np.sqrt(np.maximum(recorded, 1.0)),
        "offset_rate": logit(rate),
        "scale_rate": rate_sd,
    }


class TrendSampler:
    """Compile the trend model once per structure (series, periods, process, priors); sample it many times.

    Parameters
    ----------
    n_series, n_periods
        Number of series (combinations of the other stratum columns) and of periods.
    process
        ``rw`` (random walk), ``rw-drift`` (with drift) or ``ar1``.
    priors
        Merged priors (see :func:`default_priors`).

    Notes
    -----
    The nutpie model is cached per Python process; :meth:`sample` swaps the data in with
    ``CompiledModel.with_data`` (no recompiling), so simulation studies compile once.
    """

    def __init__(self, n_series: int, n_periods: int, process: str = "rw",
                 priors: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        if n_series < 1 or n_periods < 2:
            raise ModelError(f"a trend needs at least one series and two periods; got {n_series} and {n_periods}")
        self.n_series, self.n_periods = int(n_series), int(n_periods)
        self.priors = copy.deepcopy(dict(priors or default_priors(process)))
        expected = set(default_priors(process))
        if set(self.priors) != expected:
            raise ModelError(f"the {process} trend model takes the priors {', '.join(sorted(expected))}")
        self.process = process

    def sample(
        self,
        recorded: np.ndarray,
        surveyed: np.ndarray,
        reported: np.ndarray,
        times: np.ndarray | None = None,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int = DEFAULT_TUNE,
        chains: int = DEFAULT_CHAINS,
        seed: int = DEFAULT_SEED,
        target_accept: float = TARGET_ACCEPT,
        remedy: bool = False,
    ) -> arviz.InferenceData:
        r"""Sample the posterior and draw the unrecorded counts.

        Parameters
        ----------
        recorded, surveyed, reported
            Counts, arrays of shape (series, periods); ``surveyed = 0``: no survey.
        times
            Increasing times of the periods (default 0, 1, 2, ...); gaps scale the steps.
        draws, tune, chains, target_accept
            NUTS settings (per chain).
        seed
            ``SeedSequence(seed)`` spawns the NUTS seed and the generator of the unrecorded counts.

        Returns
        -------
        arviz.InferenceData
            ``posterior``: the step sizes (and AR coefficients), the levels (dim ``series``),
            and with dims (``series``, ``period``): ``incidence`` (:math:`\lambda`),
            ``reporting_rate`` (:math:`p`), ``hidden`` (:math:`U`, int64), ``total``
            (:math:`N`, int64). ``sample_stats`` from nutpie.

        Raises
        ------
        ModelError
            Wrong shapes, or a series with every count 0 under the flat level prior.
        EstimationError
            A drawn unrecorded mean is not finite or above 1e15.
        """
        import arviz
        import nutpie

        recorded, surveyed, reported = (np.asarray(x, dtype=np.int64) for x in (recorded, surveyed, reported))
        times = self._checked_times(recorded, surveyed, reported, times)
        nuts_seq, count_seq = np.random.SeedSequence(seed).spawn(2)
        compiled = _compiled(self.n_series, self.n_periods, self.process, self.priors)
        compiled = compiled.with_data(**sampler_inputs(recorded, surveyed, reported, times, self.priors))
        idata = sample_nuts(compiled, draws=draws, tune=tune, chains=chains, seed=nuts_seq, target_accept=target_accept,
                            remedy=remedy, monitor=REMEDY_MONITOR)
        post = idata.posterior
        rate, incidence, hidden_mean = unrecorded_mean(post)
        rng = np.random.default_rng(count_seq)
        hidden = rng.poisson(hidden_mean).astype(np.int64)
        total = hidden + recorded[None, None]
        dims = ("chain", "draw", "series", "period")
        keep = [name for name in post.data_vars if not str(name).startswith("_") and not str(name).endswith("__")]
        steps = {
            name: (("chain", "draw"), draw_step_size(values, times, self.priors[name],
                                                     post.get(name.replace("_step", "_ar")),
                                                     post[name.replace("_step", "_level")].values,
                                                     post.get(name.replace("_step", "_drift")), rng))
            for name, values in (("log_incidence_step", np.log(incidence)), ("logit_rate_step", post["_logit_rate"].values))
        }
        posterior = post[keep].assign(
            reporting_rate=(dims, rate), incidence=(dims, incidence), hidden=(dims, hidden), total=(dims, total), **steps,
        )
        posterior.attrs.update({"model": "trend", "process": self.process, "priors": json.dumps(self.priors, sort_keys=True),
                                "seed": int(seed), "draws": int(draws), "tune": int(tune), "chains": int(chains),
                                "target_accept": float(target_accept), "sampler": f"nutpie {nutpie.__version__}"})
        return arviz.InferenceData(posterior=posterior, sample_stats=idata.sample_stats)

    def _checked_times(self, recorded: np.ndarray, surveyed: np.ndarray, reported: np.ndarray,
                       times: np.ndarray | None) -> np.ndarray:
        """Check the counts' shape and the flat-prior case; returns the period times (0, 1, ... by default)."""
        shape = (self.n_series, self.n_periods)
        if recorded.shape != shape or surveyed.shape != shape or reported.shape != shape:
            raise ModelError(f"the trend model was built for {shape[0]} series x {shape[1]} periods; got counts of "
                             f"shape {recorded.shape}")
        times = np.arange(self.n_periods, dtype=float) if times is None else np.asarray(times, dtype=float)
        if times.shape != (self.n_periods,) or np.any(np.diff(times) <= 0):
            raise ModelError("period times must be increasing, one per period")
        if self.priors["log_incidence_level"]["dist"] == "flat" and np.any(recorded.sum(axis=1) == 0):
            raise ModelError(
                "a series recorded 0 in every period: with the flat prior on its incidence level nothing bounds the "
                "incidence from below; give a prior (e.g. --prior log_incidence_level=0,3)"
            )
        return times


def draw_step_size(values: np.ndarray, times: np.ndarray, spec: Mapping[str, Any], phi: Any, mean: np.ndarray,
                   drift: Any, rng: np.random.Generator) -> np.ndarray:
    r"""Draws of a process's step size from its exact conditional, draw by draw.

    Given the process values ``x`` (chain, draw, series, period), the step size integrated out of
    the model has the conditional :math:`\sigma^2 \mid x \sim` scaled-Inv-:math:`\chi^2` with
    :math:`\nu + n` degrees of freedom and scale :math:`(\nu s^2 + q) / (\nu + n)`, :math:`q` the
    sum of squared standardised innovations (see :func:`process_log_prior`).
    """
    gaps = np.diff(times)
    if phi is None:
        increments = np.diff(values, axis=-1)
        if drift is not None:
            increments = increments - np.asarray(drift.values)[..., None] * gaps
        quadratic = np.sum(increments**2 / gaps, axis=(-2, -1))
        n_terms = values.shape[-2] * (values.shape[-1] - 1)
    else:
        ar = np.asarray(phi.values)[..., None, None]
        deviation = values - mean[..., None]
        decay = ar ** gaps
        errors = np.concatenate([deviation[..., :1], deviation[..., 1:] - decay * deviation[..., :-1]], axis=-1)
        variances = np.concatenate([np.ones_like(decay[..., :1]), 1 - decay**2], axis=-1) / (1 - ar**2)
        quadratic = np.sum(errors**2 / variances, axis=(-2, -1))
        n_terms = values.shape[-2] * values.shape[-1]
    dof, scale = float(spec["dof"]), float(spec["scale"])
    variance = (dof * scale**2 + quadratic) / rng.chisquare(dof + n_terms, size=quadratic.shape)
    return np.sqrt(variance)


def simulate(totals: np.ndarray, rates: np.ndarray, surveyed: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Data with known true counts: ``y ~ Binomial(N, p)``, ``r ~ Binomial(m, p)`` (arrays of one shape).

    The true totals ``N`` are fixed (not drawn), as in the coverage checks of docs/methods.md#intervals, so a
    ratio of true totals is known exactly.
    """
    totals, rates, surveyed = (np.asarray(x) for x in (totals, rates, surveyed))
    return {"total": totals.astype(np.int64), "reporting_rate": rates.astype(float), "surveyed": surveyed.astype(np.int64),
            "recorded": rng.binomial(totals, rates).astype(np.int64), "reported": rng.binomial(surveyed, rates).astype(np.int64)}


__all__ = ["AR1_PRIORS", "DEFAULT_PRIORS", "PROCESSES", "TrendSampler", "default_priors", "draw_step_size", "sampler_inputs",
           "simulate"]

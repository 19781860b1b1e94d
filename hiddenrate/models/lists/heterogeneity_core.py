r"""Rcapture's heterogeneity models for list data: Mh and Mth with Chao's lower bound, Poisson2,
Darroch and Gamma3.5 (``closedp.t`` / ``closedpCI.t``; Rivest & Baillargeon 2007).

People differ in how visible they are. Integrating a person's visibility out of a model in which
lists are independent given that visibility gives, to a good approximation, a log-linear model in
which the capture pattern ``c`` enters only through its main effects and a term in the number of
lists the person is on, :math:`|c|` (Darroch et al. 1993; Rivest & Baillargeon 2007):

.. math::

    \log \mu_c = \beta_0 + \sum_j \beta_j c_j + \tau\, h(|c|) \quad (\text{Mth}), \qquad
    \log \mu_c = \beta_0 + \beta |c| + \tau\, h(|c|) \quad (\text{Mh}),

with :math:`h(0) = 0`, so the unobserved cell has mean :math:`e^{\beta_0}` as in every log-linear
model here. The term :math:`h` says how the spread of visibilities is assumed to look:

* ``Poisson2``: :math:`h(x) = 2^x - 1`;
* ``Darroch``: :math:`h(x) = x^2 / 2` (a normal spread on the logit scale, Darroch et al. 1993);
* ``Gamma3.5``: :math:`h(x) = \log 3.5 - \log(3.5 + x)` (a gamma spread, the largest totals);
* ``Chao`` (lower bound): one free term :math:`\eta_j (|c| - j + 1)_+` for every
  :math:`j = 3, \dots, K`, which frees the frequencies of people on 3 or more lists; the
  :math:`\eta_j` must be :math:`\ge 0`, so a negative :math:`\hat\eta_j` is set to 0 (the
  column dropped), the first one first, and the model refitted until none is negative
  (Rcapture's ``neg = TRUE``). With two lists' worth of information (people on 1 and 2 lists)
  used for the hidden cell, this is Chao's (1987) lower bound in log-linear form.

The Poisson MLE of the hidden count is :math:`e^{\hat\beta_0}` (Rcapture's ``closedp.t``
"abundance"); the reported estimate, as ``closedpCI.t``'s, is the maximiser of the multinomial
profile likelihood of ``N`` and the interval is the set where twice the drop from the maximum
is below :math:`\chi^2_1` (Cormack 1992), computed exactly as for the hierarchical models
(:mod:`hiddenrate.models.lists.loglinear_profile`). For Chao's model the negative
:math:`\eta_j` are dropped afresh at every candidate ``N``, as Rcapture does. An end of the
interval that the profile never reaches is None: Rcapture stops its search at 3 times the
Poisson estimate and prints ``>X``; here the search goes on to ``10**12`` times the number
observed, so None means the data put no upper limit on ``N`` under the model.

The identities are stated in docs/methods.md#heterogeneity.

A term whose statistic is 0 (nobody on ``j`` or more lists, for Chao's :math:`\eta_j`) has
MLE :math:`-\infty`: the cells it covers are fitted 0 and it is dropped as negative.

Information criteria as Rcapture's: ``aic = -2 loglik + 2 p`` and ``bic = -2 loglik + log(n) p``
with the Poisson log-likelihood of the observed cells and ``p`` the number of coefficients
(intercept included), so they rank together with :mod:`hiddenrate.models.lists.ranking`.

References
----------
Chao, A. (1987). Estimating the population size for capture-recapture data with unequal
catchability. *Biometrics* 43, 783-791.
Darroch, J. N., Fienberg, S. E., Glonek, G. F. V. and Junker, B. W. (1993). A three-sample
multiple-recapture approach to census population estimation with heterogeneous catchability.
*JASA* 88, 1137-1148.
Rivest, L.-P. and Baillargeon, S. (2007). Applications and extensions of Chao's moment estimator
for the size of a closed population. *Biometrics* 63, 999-1006.
Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in
R. *Journal of Statistical Software* 19(5).
Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed populations.
*Biometrics* 48, 567-576.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.quantiles import chi2_1_ppf
from hiddenrate.models.lists.existence import validate_counts
from hiddenrate.models.lists.loglinear_core import poisson_newton
from hiddenrate.models.lists.loglinear_profile import (
    _HIDDEN_MAX_FACTOR,
    _HIDDEN_MIN,
    _lower_end,
    _MultinomialProfile,
    _profile_maximiser,
    _upper_end,
)

__all__ = [
    "HETEROGENEITY_MODELS",
    "HeterogeneityEstimate",
    "HeterogeneityFit",
    "fit_heterogeneity",
    "heterogeneity_curve",
    "heterogeneity_design",
    "heterogeneity_profile",
]

#: model name -> (family, heterogeneity term, Rcapture's label)
HETEROGENEITY_MODELS: dict[str, tuple[str, str, str]] = {
    "mh-chao": ("Mh", "chao", "Mh Chao (LB)"),
    "mh-poisson2": ("Mh", "poisson2", "Mh Poisson2"),
    "mh-darroch": ("Mh", "darroch", "Mh Darroch"),
    "mh-gamma3.5": ("Mh", "gamma3.5", "Mh Gamma3.5"),
    "mth-chao": ("Mth", "chao", "Mth Chao (LB)"),
    "mth-poisson2": ("Mth", "poisson2", "Mth Poisson2"),
    "mth-darroch": ("Mth", "darroch", "Mth Darroch"),
    "mth-gamma3.5": ("Mth", "gamma3.5", "Mth Gamma3.5"),
}
MIN_LISTS = 3
#: an estimate of more than a million hidden people per person observed is not an estimate: on such
#: data (e.g. lists that never overlap) the likelihood keeps rising with N and its numerical peak is noise
_NO_ESTIMATE = 1e6
GAMMA_THETA = 3.5
POISSON_THETA = 2.0


def _check_name(name: str) -> tuple[str, str, str]:
    if name not in HETEROGENEITY_MODELS:
        raise ModelError(f"unknown heterogeneity model '{name}'; choose one of: {', '.join(HETEROGENEITY_MODELS)}")
    return HETEROGENEITY_MODELS[name]


def heterogeneity_design(k: int, name: str) -> tuple[np.ndarray, int]:
    """Design of model ``name`` on all ``2**k`` cells, without the intercept.

    Returns the matrix (row ``c`` = capture pattern ``c``; row 0 is all zeros) and the number
    of columns before the heterogeneity columns (1 for Mh, ``k`` for Mth).
    """
    family, kind, _ = _check_name(name)
    if k < MIN_LISTS:
        raise ModelError(f"the heterogeneity models need at least {MIN_LISTS} lists; the data have {k}")
    cells = np.arange(1 << k)
    bits = ((cells[:, None] >> np.arange(k)) & 1).astype(float)
    lists_on = bits.sum(axis=1)
    base = lists_on[:, None] if family == "Mh" else bits
    if kind == "chao":
        het = np.column_stack([np.maximum(lists_on - j + 1.0, 0.0) for j in range(3, k + 1)])
    elif kind == "poisson2":
        het = (POISSON_THETA ** lists_on - 1.0)[:, None]
    elif kind == "darroch":
        het = (lists_on**2 / 2.0)[:, None]
    else:
        het = (math.log(GAMMA_THETA) - np.log(GAMMA_THETA + lists_on))[:, None]
    return np.hstack([base, het]), base.shape[1]


@dataclass(frozen=True)
class HeterogeneityFit:
    """Poisson MLE of one heterogeneity model on the observed cells (Rcapture's ``closedp.t`` row).

    ``columns`` are the design columns kept (for Chao's model, those whose :math:`\\eta_j` is
    not set to 0); ``dropped`` names the :math:`\\eta_j` set to 0. ``n_params`` counts the
    intercept. ``total`` is ``n + exp(intercept)``; None when the fit did not converge.
    """

    name: str
    label: str
    k: int
    observed: float
    total: float | None
    loglik: float
    deviance: float
    df: int
    n_params: int
    aic: float
    bic: float
    columns: tuple[int, ...]
    dropped: tuple[str, ...]
    converged: bool
    message: str

    @property
    def valid(self) -> bool:
        """True when the fit gives a finite estimate of ``N``."""
        return self.converged and self.total is not None and math.isfinite(self.total)


@dataclass(frozen=True)
class HeterogeneityEstimate:
    """Estimate and profile-likelihood intervals of one heterogeneity model.

    ``total`` is the maximiser of the multinomial profile likelihood (Rcapture ``closedpCI.t``);
    ``intervals[level] = (lower, upper)``, ``upper`` None when the data put no upper limit on
    ``N`` under the model. ``lower``/``upper`` are those at the first level asked for. ``total``
    is None when the model gives no finite estimate (then ``message`` says why).
    """

    fit: HeterogeneityFit
    total: float | None
    intervals: dict[float, tuple[float | None, float | None]] = field(default_factory=dict)
    message: str = ""

    @property
    def point(self) -> float | None:
        """The estimate (same as ``total``)."""
        return self.total

    @property
    def lower(self) -> float | None:
        return next(iter(self.intervals.values()), (None, None))[0]

    @property
    def upper(self) -> float | None:
        return next(iter(self.intervals.values()), (None, None))[1]


class _Problem:
    """One model on one table: the design on the observed cells and the Chao column rules."""

    def __init__(self, counts: np.ndarray, k: int, name: str) -> None:
        design, n_base = heterogeneity_design(k, name)
        self.name, self.k, self.n_base = name, k, n_base
        self.chao = HETEROGENEITY_MODELS[name][1] == "chao"
        self.design = design[1:]
        self.counts = counts[1:]
        self.observed = float(self.counts.sum())
        statistic = self.counts @ self.design
        # a non-negative column with statistic 0 has MLE -infinity (the cells it covers are fitted 0)
        self.degenerate = {c for c in range(n_base, design.shape[1])
                           if statistic[c] == 0 and bool(np.all(self.design[:, c] >= 0))}

    def reduced(self, columns: tuple[int, ...]) -> tuple[np.ndarray, list[int], list[int]]:
        """Cells kept, finite columns and infinite columns of the model with ``columns``."""
        infinite = [c for c in columns if c in self.degenerate]
        keep = ~np.any(self.design[:, infinite] > 0, axis=1) if infinite else np.ones(len(self.counts), dtype=bool)
        finite = [c for c in columns if c not in self.degenerate]
        return keep, finite, infinite

    def eta_label(self, column: int) -> str:
        return f"eta{column - self.n_base + 3}" if self.chao else "tau"

    def first_negative(self, columns: tuple[int, ...], coefficients: dict[int, float]) -> int | None:
        """The first heterogeneity column whose coefficient is negative (Chao's model only)."""
        if not self.chao:
            return None
        return next((c for c in columns if c >= self.n_base and coefficients[c] < 0), None)


def _poisson_fit(problem: _Problem, columns: tuple[int, ...]) -> tuple[np.ndarray, dict[int, float], bool, np.ndarray]:
    """Poisson fit of ``columns``: coefficients (intercept first), by column, converged, fitted values."""
    keep, finite, infinite = problem.reduced(columns)
    design = np.column_stack([np.ones(int(keep.sum())), problem.design[keep][:, finite]])
    beta, converged = poisson_newton(design, problem.counts[keep])
    coefficients = {c: float(b) for c, b in zip(finite, beta[1:], strict=True)}
    coefficients.update({c: -math.inf for c in infinite})
    fitted = np.zeros(len(problem.counts))
    fitted[keep] = np.exp(np.minimum(design @ beta, 700.0))
    return beta, coefficients, converged, fitted


def _fit_problem(problem: _Problem) -> tuple[HeterogeneityFit, np.ndarray]:
    columns = tuple(range(problem.design.shape[1]))
    dropped: list[str] = []
    while True:
        beta, coefficients, converged, fitted = _poisson_fit(problem, columns)
        negative = problem.first_negative(columns, coefficients)
        if negative is None or not converged:
            break
        dropped.append(problem.eta_label(negative))
        columns = tuple(c for c in columns if c != negative)
    counts = problem.counts
    positive = counts > 0
    loglik = float(counts[positive] @ np.log(fitted[positive]) - fitted.sum() - gammaln(counts + 1.0).sum())
    deviance = max(float(2.0 * (counts[positive] @ np.log(counts[positive] / fitted[positive])
                                - (counts.sum() - fitted.sum()))), 0.0)
    n_params = len(columns) + 1
    label = HETEROGENEITY_MODELS[problem.name][2]
    total = problem.observed + float(np.exp(min(beta[0], 700.0))) if converged else None
    if converged:
        message = f"{label}: Poisson MLE of N = {total:.1f}"
        if dropped:
            message += f" ({', '.join(dropped)} set to 0: negative estimates)"
    else:
        message = f"{label}: the Poisson fit did not converge (the MLE may not exist on these data)"
    fit = HeterogeneityFit(
        name=problem.name, label=label, k=problem.k, observed=problem.observed, total=total, loglik=loglik,
        deviance=deviance, df=len(counts) - n_params, n_params=n_params,
        aic=-2.0 * loglik + 2.0 * n_params, bic=-2.0 * loglik + math.log(problem.observed) * n_params,
        columns=columns, dropped=tuple(dropped), converged=converged, message=message,
    )
    return fit, beta


def fit_heterogeneity(counts: np.ndarray, k: int, name: str) -> HeterogeneityFit:
    """Poisson MLE of heterogeneity model ``name`` (a key of :data:`HETEROGENEITY_MODELS`).

    ``counts`` has ``2**k`` entries by capture pattern (entry 0 ignored). Deviance, df, AIC and
    BIC are those of Rcapture's ``closedp.t`` for the same model.
    """
    return _fit_problem(_Problem(validate_counts(counts, k), k, name))[0]


class _RecordingProfile(_MultinomialProfile):
    """The multinomial profile of one column set, remembering the maximiser at every ``N``."""

    def __init__(self, design: np.ndarray, counts: np.ndarray, start: np.ndarray) -> None:
        super().__init__(design, counts, start)
        self.start = start.copy()
        self.betas: dict[float, np.ndarray] = {}
        self._seen: list[float] = []  # the N seen, sorted

    def _evaluate(self, hidden: float) -> tuple[float, float]:
        if hidden not in self._cache:
            # Newton from far away can run off on the flat profiles of these models: start from
            # the maximiser at the nearest N already seen (log scale), or the Poisson fit's.
            place = bisect.bisect_left(self._seen, hidden)
            neighbours = self._seen[max(place - 1, 0): place + 1]
            if neighbours:
                nearest = min(neighbours, key=lambda seen: abs(math.log((seen + 1.0) / (hidden + 1.0))))
                self.beta = self.betas[nearest].copy()
            else:
                self.beta = self.start.copy()
            result = super()._evaluate(hidden)
            self.betas[hidden] = self.beta.copy()
            self._seen.insert(place, hidden)
            return result
        return self._cache[hidden]


class _HeterogeneityProfile:
    """Profile log-likelihood of ``N`` with Chao's negative eta dropped afresh at every ``N``."""

    def __init__(self, problem: _Problem, columns: tuple[int, ...]) -> None:
        self.problem = problem
        self.observed = problem.observed
        self.all_columns = columns
        self._profiles: dict[tuple[int, ...], tuple[_RecordingProfile, list[int], list[int]]] = {}

    def _profile(self, columns: tuple[int, ...]) -> tuple[_RecordingProfile, list[int], list[int]]:
        if columns not in self._profiles:
            keep, finite, infinite = self.problem.reduced(columns)
            design = self.problem.design[keep][:, finite]
            beta, _, _, _ = _poisson_fit(self.problem, columns)
            self._profiles[columns] = (_RecordingProfile(design, self.problem.counts[keep], beta[1:]), finite, infinite)
        return self._profiles[columns]

    def _final(self, hidden: float) -> _RecordingProfile:
        columns = self.all_columns
        while True:
            profile, finite, infinite = self._profile(columns)
            if not self.problem.chao:
                return profile
            profile.loglik(hidden)
            coefficients = dict(zip(finite, profile.betas[hidden], strict=True))
            coefficients.update({c: -math.inf for c in infinite})
            negative = self.problem.first_negative(columns, coefficients)
            if negative is None:
                return profile
            columns = tuple(c for c in columns if c != negative)

    def loglik(self, hidden: float) -> float:
        return self._final(hidden).loglik(hidden)

    def score(self, hidden: float) -> float:
        return self._final(hidden).score(hidden)


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    checked = []
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (float, int)) or not 0.0 < float(level) < 1.0:
            raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
        checked.append(float(level))
    return tuple(checked)


def heterogeneity_profile(counts: np.ndarray, k: int, name: str,
                          levels: Sequence[float] = (0.95,)) -> HeterogeneityEstimate:
    """Profile-likelihood estimate and intervals of heterogeneity model ``name``.

    Returns a :class:`HeterogeneityEstimate`: ``total`` maximises the multinomial profile
    likelihood (Rcapture ``closedpCI.t``'s estimate), ``intervals[level] = (lower, upper)`` solve
    ``2 [l(N_hat) - l(N)] = chi2_1(level)``; ``lower`` is ``n`` when the profile stays above the
    threshold down to the number observed and ``upper`` is None when it never falls below it.
    With no levels, only the estimate is computed.
    """
    checked = _check_levels(levels)
    problem = _Problem(validate_counts(counts, k), k, name)
    fit, _ = _fit_problem(problem)
    if not fit.valid:
        return HeterogeneityEstimate(fit, None, {level: (None, None) for level in checked}, fit.message)
    profile = _HeterogeneityProfile(problem, tuple(range(problem.design.shape[1])))
    observed = problem.observed
    hidden_max = observed * _HIDDEN_MAX_FACTOR
    start = max(float(fit.total or observed) - observed, _HIDDEN_MIN)
    peak = None if start > _NO_ESTIMATE * observed else _profile_maximiser(profile, start, hidden_max)  # type: ignore[arg-type]
    if peak is None or peak > _NO_ESTIMATE * observed:
        return HeterogeneityEstimate(
            fit, None, {level: (None, None) for level in checked},
            f"{fit.label}: no finite estimate of N (the profile likelihood keeps increasing with N: the lists "
            "overlap too little for this model)")
    max_loglik = profile.loglik(peak)
    intervals: dict[float, tuple[float | None, float | None]] = {}
    for level in checked:
        threshold = chi2_1_ppf(level)

        def excess(hidden: float, threshold: float = threshold) -> float:
            return 2.0 * (max_loglik - profile.loglik(hidden)) - threshold

        intervals[level] = (_lower_end(excess, observed, peak), _upper_end(excess, observed, peak, hidden_max))
    total = observed + peak
    if not checked:
        return HeterogeneityEstimate(fit, total, intervals, f"{fit.label}: N = {total:.1f}")
    lower, upper = intervals[checked[0]]
    if upper is None:
        message = (f"{fit.label}: N = {total:.1f}; the {checked[0]:.0%} profile interval starts at {lower:.1f} and has "
                   "no upper end (the data put no upper limit on N under this model)")
    else:
        message = f"{fit.label}: N = {total:.1f}, {checked[0]:.0%} profile-likelihood interval [{lower:.1f}, {upper:.1f}]"
    return HeterogeneityEstimate(fit, total, intervals, message)


def heterogeneity_curve(counts: np.ndarray, k: int, name: str, hidden: np.ndarray) -> np.ndarray:
    """The multinomial profile log-likelihood of model ``name`` at each ``N = n + hidden`` (up to
    a constant); for the profile of a total over strata (:mod:`hiddenrate.models.lists.strata_profile`).

    Raises
    ------
    ModelError
        If the model's Poisson fit does not converge (no estimate of N).
    """
    problem = _Problem(validate_counts(counts, k), k, name)
    fit, _ = _fit_problem(problem)
    if not fit.valid:
        raise ModelError(fit.message)
    profile = _HeterogeneityProfile(problem, tuple(range(problem.design.shape[1])))
    return np.array([profile.loglik(max(float(h), _HIDDEN_MIN)) for h in np.asarray(hidden, dtype=float)])

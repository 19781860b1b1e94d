r"""Profile-likelihood estimate and interval for the population size of a log-linear model.

For a candidate total ``N`` (continuous; ``lgamma`` extends the factorials) the complete table,
the observed cells plus ``N - n`` people in cell 0, is multinomial with index ``N``. With the
intercept profiled out (``p_0 = 1 / (1 + S)``, ``p_c = e^{z_c^\top b} / (1 + S)``,
``S = \sum_c e^{z_c^\top b}``),

.. math::

    \ell(N) = \log\frac{N!}{(N-n)!} + \max_b \Big[\sum_{c \ne 0} n_c z_c^\top b
    - N \log(1 + S(b))\Big],

a strictly concave problem in ``b`` for each ``N``, and by the envelope theorem
:math:`\ell'(N) = \psi(N+1) - \psi(N-n+1) - \log(1 + S(\hat b_N))`. The estimate is the
root of :math:`\ell'` (Rcapture's ``closedpCI.t`` point estimate, which differs from the Poisson
MLE :math:`n + e^{\hat\beta_0}` of :func:`~hiddenrate.models.lists.loglinear_core.fit_loglinear`) and
the interval is :math:`\{N : 2[\ell(\hat N) - \ell(N)] \le \chi^2_1(\text{level})\}` (Cormack
1992), each end found by ``brentq``. An end that does not exist is reported as None, never as a
large number (Rcapture, for example, stops its search at 3 times the Poisson estimate and
prints that as the upper bound: New Orleans, 8 lists, all two-way terms, 7,179.6 where the
profile crosses at 19,463).

Checked against Rcapture 1.4-4 on every list data set bundled with hiddenrate
(``tests/test_loglinear_reference.py``): estimates and bounds agree to 1e-4 or better.

References
----------
Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed populations.
*Biometrics* 48, 567-576.
Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in
R. *Journal of Statistical Software* 19(5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from hiddenrate.core.quantiles import chi2_1_ppf
from hiddenrate.core.roots import brentq
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.design import Terms, design_matrix
from hiddenrate.models.lists.existence import (
    column_basis,
    facial_cells_of_complete_table,
    validate_counts,
    validate_terms,
)
from hiddenrate.models.lists.loglinear_core import (
    _NEWTON_MAX_ITER,
    LoglinearFit,
    _FacialFit,
    _fit,
    _names_for,
    newton_direction,
    poisson_newton,
)

__all__ = ["ProfileLikelihood", "profile_curve", "profile_interval", "profile_likelihood"]


@dataclass(frozen=True)
class ProfileLikelihood:
    """Multinomial profile-likelihood estimate and interval for the total ``N`` (Cormack 1992).

    Attributes
    ----------
    terms : Terms
        The model.
    status : str
        Status of the underlying fit (see :class:`LoglinearFit`).
    total : float or None
        Maximiser of the multinomial profile likelihood (Rcapture's ``closedpCI.t`` estimate);
        None when the model gives no finite estimate.
    lower, upper : float or None
        Ends of the interval. ``lower`` equals the number observed when the profile deviance
        stays below the threshold all the way down to it; ``upper`` is None when the
        deviance never crosses the threshold above the estimate (no upper bound).
    level : float
        Confidence level.
    poisson_total : float or None
        ``n + exp(intercept)``, the Poisson MLE of :func:`fit_loglinear`.
    message : str
        One plain-English sentence.
    """

    terms: Terms
    status: str
    total: float | None
    lower: float | None
    upper: float | None
    level: float
    poisson_total: float | None
    message: str


class _MultinomialProfile:
    """Profile log-likelihood of the complete table as a function of continuous ``N``.

    With the intercept profiled out, ``p_0 = 1 / (1 + S)`` and
    ``p_c = exp(z_c' b) / (1 + S)``, ``S = sum_c exp(z_c' b)`` over the facial cells, so
    ``max_b [sum_c n_c z_c' b - N log(1 + S)]`` is a strictly concave problem (``Z`` has full
    column rank and does not span the constant) solved by Newton with step-halving.
    """

    def __init__(self, design: np.ndarray, counts: np.ndarray, start: np.ndarray) -> None:
        self.design = design
        self.counts = counts
        self.observed = float(counts.sum())
        self.beta = start.copy()
        whole = abs(self.observed - round(self.observed)) < 1e-9 and self.observed <= 1e6
        self._offsets = np.arange(int(round(self.observed)), dtype=float) if whole else None
        self._cache: dict[float, tuple[float, float]] = {}

    @staticmethod
    def _log_one_plus_sum_exp(eta: np.ndarray) -> float:
        """``log(1 + sum(exp(eta)))`` without losing digits when the sum is tiny (huge N)."""
        if eta.size == 0:
            return 0.0
        largest = float(eta.max())
        if largest < 0.0:
            return float(np.log1p(np.exp(eta).sum()))
        return largest + float(np.log(np.exp(-largest) + np.exp(eta - largest).sum()))

    def _objective(self, beta: np.ndarray, total: float) -> tuple[float, np.ndarray]:
        eta = self.design @ beta
        lse = self._log_one_plus_sum_exp(eta)
        return float(self.counts @ eta - total * lse), eta - lse

    def _maximise(self, total: float) -> tuple[float, float]:
        beta = self.beta
        value, log_p = self._objective(beta, total)
        for _ in range(_NEWTON_MAX_ITER):
            p = np.exp(log_p)
            gradient = self.design.T @ (self.counts - total * p)
            weighted_mean = self.design.T @ p
            hessian = total * (self.design.T @ (self.design * p[:, None]) - np.outer(weighted_mean, weighted_mean))
            step = newton_direction(hessian, gradient)
            scale = 1.0
            for _ in range(60):
                candidate = beta + scale * step
                new_value, new_log_p = self._objective(candidate, total)
                if new_value >= value - 1e-12 * (abs(value) + 1.0):
                    break
                scale /= 2.0
            change = float(np.max(np.abs(scale * step), initial=0.0))
            beta, value, log_p = candidate, new_value, new_log_p
            if change < 1e-10:
                break
        self.beta = beta
        return value, self._log_one_plus_sum_exp(self.design @ beta)

    def _log_falling(self, total: float) -> float:
        """``log N!/(N-n)!`` minus ``n log N``, computed without cancellation when n is whole."""
        if self._offsets is not None:
            return float(np.log1p(-self._offsets / total).sum())
        return float(gammaln(total + 1.0) - gammaln(total - self.observed + 1.0) - self.observed * math.log(total))

    def _evaluate(self, hidden: float) -> tuple[float, float]:
        if hidden not in self._cache:
            total = self.observed + hidden
            value, log_one_plus_s = self._maximise(total)
            loglik = self._log_falling(total) + self.observed * math.log(total) + value
            if self._offsets is not None:  # psi(N + 1) - psi(N - n + 1) = sum_{i=1..n} 1 / (N - n + i)
                digamma_gap = float(np.sum(1.0 / (hidden + 1.0 + self._offsets)))
            else:
                digamma_gap = float(digamma(total + 1.0) - digamma(hidden + 1.0))
            score = digamma_gap - log_one_plus_s
            self._cache[hidden] = (loglik, score)
        return self._cache[hidden]

    def loglik(self, hidden: float) -> float:
        """Profile log-likelihood (up to a constant) at ``N = n + hidden``."""
        return self._evaluate(hidden)[0]

    def score(self, hidden: float) -> float:
        """Derivative of the profile log-likelihood in ``N`` (envelope theorem)."""
        return self._evaluate(hidden)[1]


_HIDDEN_MAX_FACTOR = 1e12  # search for an upper end up to N = n * 1e12, beyond which the profile is flat
_HIDDEN_MIN = 1e-8


def profile_likelihood(
    counts: np.ndarray,
    k: int,
    terms: Terms = (),
    level: float = 0.95,
    *,
    names: Sequence[str] | None = None,
) -> ProfileLikelihood:
    """Multinomial profile-likelihood estimate and interval for the total ``N`` (Cormack 1992).

    Parameters
    ----------
    counts : array_like, shape (2**k,)
        Counts by capture pattern; entry 0 is ignored.
    k : int
        Number of lists.
    terms : Terms
        Hierarchical interaction terms.
    level : float
        Confidence level, in (0, 1).
    names : sequence of str, optional
        List names used in the message.

    Returns
    -------
    ProfileLikelihood
        ``total`` is the maximiser of the profile (Rcapture ``closedpCI.t``'s estimate);
        ``lower``/``upper`` solve ``2 [l(N_hat) - l(N)] = chi2_1(level)`` by ``brentq``.
        ``upper`` is None when there is no upper end; ``lower`` is ``n`` when the deviance
        stays below the threshold down to the number observed. When the MLE of ``N`` does not
        exist (status ``"no-mle"``) ``total`` is None but the profile region is still
        reported: typically ``N >= lower`` with ``upper`` None. All three are None when ``N``
        is not identifiable.

    Notes
    -----
    For an extended MLE the complete table is fitted on the facial set plus cell 0 (cells
    fitted 0 stay 0 for every ``N``: the intercept is estimable, so directions of recession
    leave cell 0 alone).
    """
    if isinstance(level, bool) or not isinstance(level, (float, int)) or not 0.0 < float(level) < 1.0:
        raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    count_vector = validate_counts(counts, k)
    model_terms = validate_terms(terms, k)
    label_names = _names_for(names, k)
    facial_fit = _fit(count_vector, k, model_terms, label_names)
    fit = facial_fit.fit
    level = float(level)
    if fit.status == "not-identifiable":
        return ProfileLikelihood(model_terms, fit.status, None, None, None, level, None,
                                 f"no profile interval: {fit.message}")
    profile = _profile_for(fit, facial_fit, count_vector, k, model_terms)
    observed = profile.observed
    threshold = chi2_1_ppf(level)
    start = fit.hidden if fit.hidden is not None else observed
    hidden_hat = _profile_maximiser(profile, max(start, _HIDDEN_MIN), observed * _HIDDEN_MAX_FACTOR)
    unbounded = hidden_hat is None
    peak = observed * _HIDDEN_MAX_FACTOR if hidden_hat is None else hidden_hat
    max_loglik = profile.loglik(peak)

    def excess(hidden: float) -> float:
        return 2.0 * (max_loglik - profile.loglik(hidden)) - threshold

    lower = _lower_end(excess, observed, peak)
    upper = None if unbounded else _upper_end(excess, observed, peak, observed * _HIDDEN_MAX_FACTOR)
    total: float | None = observed + peak if fit.valid and not unbounded else None
    message = _message(fit, total, lower, upper, level, unbounded)
    return ProfileLikelihood(model_terms, fit.status, total, lower, upper, level, fit.total, message)


def _message(fit: LoglinearFit, total: float | None, lower: float, upper: float | None, level: float,
             unbounded: bool) -> str:
    """What :func:`profile_likelihood` found, in one line."""
    if total is not None:
        if upper is None:
            return (
                f"N = {total:.1f}; the {level:.0%} profile interval has lower end {lower:.1f} and no upper end "
                "(the data put no upper limit on N)"
            )
        return f"N = {total:.1f}, {level:.0%} profile-likelihood interval [{lower:.1f}, {upper:.1f}]"
    if unbounded:
        return (
            f"no finite estimate of N: the profile likelihood keeps increasing with N; the {level:.0%} "
            f"profile region is N >= {lower:.1f}, with no upper end"
        )
    if upper is None:
        return f"no estimate of N ({fit.message}); the {level:.0%} profile region is N >= {lower:.1f}"
    return f"no estimate of N ({fit.message}); the {level:.0%} profile region is [{lower:.1f}, {upper:.1f}]"


def profile_ends(counts: np.ndarray, k: int, terms: Terms, levels: Sequence[float], *,
                 names: Sequence[str] | None = None) -> dict[float, tuple[float | None, float | None]]:
    """The profile-likelihood (lower, upper) ends at several levels from one fit of the model:
    one root-finding per level and end, the same ends :func:`profile_likelihood` gives."""
    count_vector = validate_counts(counts, k)
    model_terms = validate_terms(terms, k)
    facial_fit = _fit(count_vector, k, model_terms, _names_for(names, k))
    fit = facial_fit.fit
    if fit.status == "not-identifiable":
        return {float(level): (None, None) for level in levels}
    profile = _profile_for(fit, facial_fit, count_vector, k, model_terms)
    observed = profile.observed
    start = fit.hidden if fit.hidden is not None else observed
    hidden_hat = _profile_maximiser(profile, max(start, _HIDDEN_MIN), observed * _HIDDEN_MAX_FACTOR)
    peak = observed * _HIDDEN_MAX_FACTOR if hidden_hat is None else hidden_hat
    max_loglik = profile.loglik(peak)
    out: dict[float, tuple[float | None, float | None]] = {}
    for level in levels:
        threshold = chi2_1_ppf(float(level))

        def excess(hidden: float, threshold: float = threshold) -> float:
            return 2.0 * (max_loglik - profile.loglik(hidden)) - threshold

        lower = _lower_end(excess, observed, peak)
        upper = None if hidden_hat is None else _upper_end(excess, observed, peak, observed * _HIDDEN_MAX_FACTOR)
        out[float(level)] = (lower, upper)
    return out


def _profile_for(
    fit: LoglinearFit, facial_fit: _FacialFit, counts: np.ndarray, k: int, terms: Terms
) -> _MultinomialProfile:
    """Profile of the complete table on its facial set (cell 0 counts as positive).

    With a finite MLE of ``N`` that is the facial set of the observed cells plus cell 0.
    Otherwise (no MLE of ``N``) the complete table with ``N > n`` can have a larger facial
    set, found by the same linear programme with cell 0 given a positive count.
    """
    if fit.valid:
        return _MultinomialProfile(facial_fit.basis_design[:, 1:], counts[facial_fit.facial], facial_fit.beta[1:])
    design = design_matrix(k, terms)
    complete = counts.copy()
    complete[0] = max(counts.sum(), 1.0)
    existence = facial_cells_of_complete_table(design, complete)
    cells = np.asarray(existence, dtype=int)
    basis = column_basis(design[cells])
    basis_design = design[cells][:, basis]
    beta, _ = poisson_newton(basis_design, complete[cells])
    observed_rows = cells != 0
    return _MultinomialProfile(basis_design[observed_rows, 1:], counts[cells[observed_rows]], beta[1:])


def _profile_maximiser(profile: _MultinomialProfile, start: float, hidden_max: float) -> float | None:
    """Hidden count maximising the profile (root of its score); None if it increases up to ``hidden_max``.

    Returns ``_HIDDEN_MIN`` when the maximum is at the boundary ``N = n``.
    """
    low = high = start
    if profile.score(low) > 0:
        while profile.score(high) > 0:
            low, high = high, high * 2.0
            if high > hidden_max:
                return None
    else:
        while profile.score(low) < 0:
            high, low = low, low / 2.0
            if low < _HIDDEN_MIN:
                return _HIDDEN_MIN
    if low == high:
        return low
    return float(brentq(profile.score, low, high, xtol=1e-12 * high, rtol=1e-14, maxiter=200))


def _lower_end(excess: Callable[[float], float], observed: float, peak: float) -> float:
    """Lower end of the profile interval; ``observed`` when the deviance never crosses below the peak."""
    if peak <= _HIDDEN_MIN or excess(_HIDDEN_MIN) <= 0:
        return observed
    return observed + float(brentq(excess, _HIDDEN_MIN, peak, xtol=1e-10 * peak, rtol=1e-13))


def _upper_end(excess: Callable[[float], float], observed: float, peak: float, hidden_max: float) -> float | None:
    """Upper end of the profile interval; None when the deviance stays below the threshold."""
    inner, outer = peak, max(2.0 * peak, 1.0)
    while outer <= hidden_max:
        if excess(outer) > 0:
            return observed + float(brentq(excess, inner, outer, xtol=1e-10 * outer, rtol=1e-13))
        inner, outer = outer, outer * 2.0
    return None


def profile_interval(
    counts: np.ndarray, k: int, terms: Terms = (), level: float = 0.95
) -> tuple[float | None, float | None]:
    """Profile-likelihood (Cormack 1992) interval for the total ``N``.

    Returns ``(lower, upper)``; ``upper`` is None when the interval has no upper end, both
    are None when the model gives no finite MLE of ``N``. See :func:`profile_likelihood`,
    which also returns the profile maximiser (Rcapture's point estimate).
    """
    result = profile_likelihood(counts, k, terms, level)
    return result.lower, result.upper


def profile_curve(counts: np.ndarray, k: int, terms: Terms, hidden: np.ndarray) -> np.ndarray:
    """The multinomial profile log-likelihood at each ``N = n + hidden`` (up to a constant).

    For models with a valid (possibly extended) MLE of N; used to build the profile of a total
    over independent strata (:mod:`hiddenrate.models.lists.strata_profile`).

    Raises
    ------
    ModelError
        If the model gives no estimate of N.
    """
    count_vector = validate_counts(counts, k)
    model_terms = validate_terms(terms, k)
    facial_fit = _fit(count_vector, k, model_terms, _names_for(None, k))
    if not facial_fit.fit.valid:
        raise ModelError(f"no profile likelihood: {facial_fit.fit.message}")
    profile = _profile_for(facial_fit.fit, facial_fit, count_vector, k, model_terms)
    return np.array([profile.loglik(max(float(h), _HIDDEN_MIN)) for h in np.asarray(hidden, dtype=float)])

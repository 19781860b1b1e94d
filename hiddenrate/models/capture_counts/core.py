r"""Population size from one source that catches people repeatedly ("number of captures").

The data
--------
:math:`f_k` people were caught exactly :math:`k \ge 1` times; :math:`n = \sum_k f_k`
people were caught at least once and :math:`f_0`, the people never caught, is
what we estimate (:math:`N = n + f_0`). Every method assumes a **closed
population** (nobody enters or leaves during the observation period) and that
each person's captures follow a Poisson process; they differ in what they assume
about how capture rates vary between people.

Methods
-------
``chao``
    Chao's lower bound (Chao 1987, 1989). If person :math:`i` is caught
    :math:`\operatorname{Poisson}(\lambda_i)` times with *any* distribution of the
    :math:`\lambda_i`, the Cauchy-Schwarz inequality gives
    :math:`E f_0 \ge (E f_1)^2 / (2 E f_2)`, hence

    .. math:: \hat N = n + \frac{f_1^2}{2 f_2}, \qquad
       \widehat{\operatorname{var}}(\hat N) = f_2\Bigl[\tfrac12 r^2 + r^3 + \tfrac14 r^4\Bigr],
       \quad r = f_1 / f_2 .

    When :math:`f_2 = 0` the bound is infinite; then (or always, with
    ``bias_corrected=True``) the bias-corrected form
    :math:`n + f_1 (f_1 - 1) / (2 (f_2 + 1))` is used with the variances of the
    EstimateS manual (Colwell; Chao 2005). Interval: log-normal for the hidden
    count (Chao 1987), :math:`[n + \hat f_0 / C,\; n + \hat f_0 C]` with
    :math:`C = \exp\{z \sqrt{\log(1 + \widehat{\operatorname{var}} / \hat f_0^2)}\}`,
    so the lower end is never below :math:`n`.
``chao-loglinear``
    The same lower bound fitted as Rcapture fits it (``closedpCI.0(X, dfreq=TRUE,
    dtype="nbcap", t=Inf, m="Mh", h="LB")``; Rivest & Baillargeon 2007): the
    Poisson log-linear model, for :math:`k = 1, \dots, t` (:math:`t` the largest
    observed count),

    .. math:: \log E f_k = \alpha + \beta k - \log k! + \sum_{j=3}^{t} \eta_j (k - j + 1)_+ ,

    where the :math:`\eta_j \ge 0` free the frequencies of 3 or more captures, so
    that :math:`\hat f_0 = e^{\hat\alpha} = f_1^2 / (2 f_2)` (exactly, unless
    :math:`\eta_3` or, for :math:`t \ge 4`, :math:`\eta_4` is dropped). Negative
    :math:`\hat\eta_j` are dropped one at a time (lowest :math:`j` first, then
    refit), as Rcapture does with ``neg=TRUE``. The reported total and interval
    come from the multinomial profile likelihood of :math:`N` (Cormack 1992): the
    cell "never caught" is appended with count :math:`N - n` and linear predictor
    :math:`\alpha`, the model is refitted, and
    :math:`\ell(N) = -D(N)/2 + \log\{(N-n)^{N-n} N! / (N^N (N-n)!)\}` where
    :math:`D` is the Poisson deviance. ``details["poisson_total"]`` is
    :math:`n + e^{\hat\alpha}`, Rcapture's "Poisson estimation", and the standard
    error is Rcapture's, :math:`\sqrt{e^{\hat\alpha} + e^{2\hat\alpha}\operatorname{var}\hat\alpha}`
    (equal to Chao's 1989 one). Two deliberate differences from Rcapture: the
    correction term uses exact log-factorials where Rcapture uses Stirling's formula
    above :math:`N = 100` (an :math:`O(1/N)` difference), and :math:`t = 2` is
    allowed (no :math:`\eta`; Rcapture requires :math:`t \ge 3`).
``zelterman``
    Zelterman (1988): people caught 0, 1 or 2 times are assumed to share one
    Poisson rate, estimated from :math:`f_1, f_2` alone as
    :math:`\hat\lambda = 2 f_2 / f_1`; then
    :math:`\hat N = n / (1 - e^{-\hat\lambda})`. Variance by conditioning on
    :math:`n` (law of total variance, as in Böhning 2008) and the delta method with
    :math:`\operatorname{var}\log\hat\lambda \approx 1/f_1 + 1/f_2`:

    .. math:: \widehat{\operatorname{var}}(\hat N) = \frac{n e^{-\hat\lambda}}{(1-e^{-\hat\lambda})^2}
       + \Bigl[\frac{n e^{-\hat\lambda}}{(1-e^{-\hat\lambda})^2}\Bigr]^2
         \hat\lambda^2 \Bigl(\frac1{f_1} + \frac1{f_2}\Bigr).

    Interval: log-normal for the hidden count, as for ``chao``.
``ztpoisson``
    Everybody is caught :math:`\operatorname{Poisson}(\lambda)` times with one
    common :math:`\lambda`. Full likelihood
    :math:`L(N, \lambda) = \binom{N}{n} e^{-N\lambda} \lambda^{S} / \prod_k (k!)^{f_k}`,
    :math:`S = \sum_k k f_k`; for fixed :math:`N`, :math:`\hat\lambda = S/N`, which
    gives the profile :math:`\ell(N) = \log N! - \log (N-n)! - S \log N + \text{const}`;
    the total is its maximiser and the interval
    :math:`\{N : 2(\ell_{max} - \ell(N)) \le \chi^2_{1}\}`. ``details["conditional_total"]``
    is the conditional MLE :math:`n / (1 - e^{-\tilde\lambda})` with
    :math:`\tilde\lambda/(1-e^{-\tilde\lambda}) = S/n` (van der Heijden et al. 2003
    without covariates); the standard error is its conditional variance
    (as for ``zelterman``, with :math:`\operatorname{var}\tilde\lambda` from the
    zero-truncated Fisher information). ``details["deviance"]`` is the :math:`G^2`
    goodness of fit over :math:`k = 1, \dots, t-1` and :math:`k \ge t` pooled
    (``df = t - 2``). Rcapture's M0 with ``t=Inf`` fits the same model but with no
    counts above the largest observed :math:`t`; it differs in the second decimal.

References
----------
Chao, A. (1987). Estimating the population size for capture-recapture data with
unequal catchability. *Biometrics* 43, 783-791.
Chao, A. (1989). Estimating population size for sparse data in capture-recapture
experiments. *Biometrics* 45, 427-438.
Chao, A. (2005). Species estimation and applications. *Encyclopedia of Statistical
Sciences*, 2nd ed., 7907-7916; Colwell, R. K., EstimateS user's guide (bias-corrected form).
Zelterman, D. (1988). Robust estimation in truncated discrete distributions with
application to capture-recapture experiments. *J. Statist. Plann. Inference* 18, 225-237.
Böhning, D. (2008). A simple variance formula for population size estimators by
conditioning. *Statistical Methodology* 5, 410-423.
Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed
populations. *Biometrics* 48, 567-576.
Rivest, L.-P. & Baillargeon, S. (2007). Applications and extensions of Chao's moment
estimator for the size of a closed population. *Biometrics* 63, 999-1006.
van der Heijden, P. G. M., Cruyff, M. & van Houwelingen, H. C. (2003). Estimating
the size of a criminal population from police records using the truncated Poisson
regression model. *Statistica Neerlandica* 57, 289-304.

Examples
--------
>>> est = estimate_capture_counts({1: 1645, 2: 183, 3: 37, 4: 13, 5: 1, 6: 1})
>>> round(est.total, 1), [round(x) for x in est.intervals[0.95]]
(9273.5, [8085, 10690])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln, xlogy
from scipy.stats import chi2, norm

from hiddenrate.core.settings import DEFAULT_LEVELS
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError

CAPTURE_COUNT_METHODS: tuple[str, ...] = ("chao", "chao-loglinear", "zelterman", "ztpoisson")


@dataclass(frozen=True)
class CaptureCountEstimate:
    """Estimate of the total number of people from capture-count frequencies.

    Attributes
    ----------
    method : str
        One of :data:`CAPTURE_COUNT_METHODS`.
    total, hidden : float or None
        Point estimate of the total ``N`` and of the never-caught ``N - n``.
        :func:`estimate_capture_counts` never returns None here: when an estimate
        does not exist it raises :class:`~hiddenrate.core.exceptions.EstimationError`.
    intervals : dict
        ``level -> (lower, upper)`` for the total; an end is None when it does
        not exist (a profile likelihood that never falls to the cut-off).
    interval_method : str
        How the intervals were computed.
    is_lower_bound : bool
        True for Chao's estimators, which are lower bounds under heterogeneity.
    message : str
        One plain sentence on what the number means and assumes.
    standard_error : float or None
        Standard error of the total (for the log-linear methods: of the Poisson
        estimate ``details["poisson_total"]``, as Rcapture reports it).
    details : dict
        Method-specific numbers (``f1``, ``f2``, ``lambda``, ``deviance``, ...).
    """

    method: str
    total: float | None
    hidden: float | None
    intervals: dict[float, tuple[float | None, float | None]]
    interval_method: str
    is_lower_bound: bool
    message: str
    standard_error: float | None = None
    details: dict[str, float] = field(default_factory=dict)


def capture_frequencies(frequencies: Mapping[int, int] | np.ndarray | Sequence[int]) -> np.ndarray:
    """Validate frequencies and return them as an int array ``f`` with ``f[k] = f_k``.

    ``f[0]`` is 0 and trailing zero frequencies are dropped. A mapping has keys
    ``k >= 1`` (a key 0 is allowed only with the value 0); an array or sequence is
    indexed by ``k`` and its entry 0 is ignored.

    Raises
    ------
    DataError
        If a frequency is negative, fractional or not finite, a key is not a whole
        number ``>= 0``, or nobody was caught.
    """
    if isinstance(frequencies, Mapping):
        pairs = []
        for key, value in frequencies.items():
            k = _whole(key, f"number of captures {key!r}", "keys must be whole numbers >= 1")
            if k < 0:
                raise DataError(f"number of captures {key!r} is negative; keys must be whole numbers >= 1")
            f_k = _whole(value, f"frequency of k={key!r} is {value!r}", "frequencies must be whole numbers >= 0")
            if f_k < 0:
                raise DataError(f"frequency of k={key!r} is {value!r}; frequencies must be whole numbers >= 0")
            if k == 0 and f_k != 0:
                raise DataError(
                    f"frequency of k=0 is {value!r}: people caught 0 times cannot be observed; "
                    "drop the key 0 (it is what the estimators estimate)"
                )
            pairs.append((k, f_k))
        size = max((k for k, _ in pairs), default=0) + 1
        counts = np.zeros(size, dtype=np.int64)
        for k, f_k in pairs:
            counts[k] += f_k
    else:
        values = np.asarray(frequencies)
        if values.ndim != 1 or not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
            raise DataError(
                f"frequencies must be a mapping k -> f_k or a 1-D numeric array indexed by k, "
                f"got an array of shape {values.shape} and dtype {values.dtype}"
            )
        counts = np.zeros(max(len(values), 1), dtype=np.int64)
        for k in range(1, len(values)):
            f_k = _whole(values[k], f"frequency of k={k} is {values[k]!r}", "frequencies must be whole numbers >= 0")
            if f_k < 0:
                raise DataError(f"frequency of k={k} is {values[k]!r}; frequencies must be whole numbers >= 0")
            counts[k] = f_k
    counts[0] = 0
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise DataError("nobody was caught (all frequencies are 0); there is nothing to estimate from")
    return counts[: nonzero[-1] + 1]


def estimate_capture_counts(
    frequencies: Mapping[int, int] | np.ndarray | Sequence[int],
    method: str = "chao",
    levels: Sequence[float] = DEFAULT_LEVELS,
    *,
    bias_corrected: bool | None = None,
) -> CaptureCountEstimate:
    """Estimate the total number of people from how often each observed person was caught.

    Parameters
    ----------
    frequencies : mapping or 1-D array
        ``f_k`` = number of people caught exactly ``k`` times, ``k >= 1``; see
        :func:`capture_frequencies`.
    method : {"chao", "chao-loglinear", "zelterman", "ztpoisson"}
        See the module docstring for the model, its assumptions and its interval.
    levels : sequence of float
        Confidence levels in (0, 1) for the intervals.
    bias_corrected : bool or None
        ``chao`` only. None (default): the classical form ``n + f1²/(2 f2)`` when
        ``f2 > 0`` and the bias-corrected form ``n + f1(f1-1)/2`` when ``f2 = 0``;
        True: always ``n + f1(f1-1)/(2(f2+1))``; False: always the classical form
        (an error when ``f2 = 0``).

    Returns
    -------
    CaptureCountEstimate

    Raises
    ------
    DataError
        Bad frequencies (negative, fractional, nobody caught).
    ModelError
        Unknown method, a level outside (0, 1), or ``bias_corrected`` with a
        method other than ``chao``.
    EstimationError
        The estimate does not exist for these data: nobody was caught twice or
        more, ``f1 = 0`` or ``f2 = 0`` where the method needs them, or a fit failed.
    """
    if method not in CAPTURE_COUNT_METHODS:
        raise ModelError(f"unknown method {method!r}; valid methods are {', '.join(CAPTURE_COUNT_METHODS)}")
    if bias_corrected is not None and method != "chao":
        raise ModelError(f"bias_corrected applies to method 'chao' only, not {method!r}")
    checked_levels = _check_levels(levels)
    counts = capture_frequencies(frequencies)
    n = int(counts.sum())
    if len(counts) <= 2:
        raise EstimationError(
            f"all {n} people were caught exactly once: with no recaptures the data say nothing "
            "about how many were never caught"
        )
    if method == "chao":
        return _chao(counts, checked_levels, bias_corrected)
    if method == "zelterman":
        return _zelterman(counts, checked_levels)
    if method == "ztpoisson":
        return _ztpoisson(counts, checked_levels)
    return _chao_loglinear(counts, checked_levels)


# --- closed-form estimators -------------------------------------------------------------------


def _chao(counts: np.ndarray, levels: tuple[float, ...], bias_corrected: bool | None) -> CaptureCountEstimate:
    n, f1, f2 = float(counts.sum()), float(counts[1]), float(counts[2])
    _require_singletons(f1, "chao")
    use_corrected = (f2 == 0) if bias_corrected is None else bias_corrected
    if not use_corrected:
        if f2 == 0:
            raise EstimationError(
                "nobody was caught exactly twice (f2 = 0), so Chao's bound n + f1²/(2 f2) is infinite; "
                "pass bias_corrected=True for the finite but unstable form n + f1(f1-1)/2"
            )
        hidden = f1**2 / (2.0 * f2)
        ratio = f1 / f2
        variance = f2 * (0.5 * ratio**2 + ratio**3 + 0.25 * ratio**4)
        form = "n + f1²/(2 f2) with Chao's (1989) variance"
        message = (
            "Chao's lower bound: valid whatever the spread of capture rates between people in a "
            "closed population with Poisson captures, so the true total is likely larger."
        )
    else:
        hidden = f1 * (f1 - 1.0) / (2.0 * (f2 + 1.0))
        if hidden <= 0:
            raise EstimationError(
                "only one person was caught exactly once, so the bias-corrected Chao estimator puts "
                "the hidden count at 0 and no interval can be computed; try method='ztpoisson'"
            )
        if f2 == 0:
            variance = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1**4 / (4 * (n + hidden))
        else:
            g = f2 + 1.0
            variance = (
                f1 * (f1 - 1) / (2 * g)
                + f1 * (2 * f1 - 1) ** 2 / (4 * g**2)
                + f1**2 * f2 * (f1 - 1) ** 2 / (4 * g**4)
            )
        form = "bias-corrected n + f1(f1-1)/(2(f2+1)) with the EstimateS variance"
        reason = "nobody was caught exactly twice (f2 = 0), so " if f2 == 0 else ""
        message = (
            f"Bias-corrected Chao lower bound ({reason}the form n + f1(f1-1)/(2(f2+1)) is used); "
            "it assumes a closed population with Poisson captures and is very unstable when f2 is small."
        )
    return CaptureCountEstimate(
        method="chao",
        total=n + hidden,
        hidden=hidden,
        intervals={level: _lognormal_interval(n, hidden, variance, level) for level in levels},
        interval_method=f"log-normal interval for the hidden count (Chao 1987); estimator {form}",
        is_lower_bound=True,
        message=message,
        standard_error=float(np.sqrt(variance)),
        details={"f1": f1, "f2": f2, "bias_corrected": float(use_corrected)},
    )


def _zelterman(counts: np.ndarray, levels: tuple[float, ...]) -> CaptureCountEstimate:
    n, f1, f2 = float(counts.sum()), float(counts[1]), float(counts[2])
    _require_singletons(f1, "zelterman")
    if f2 == 0:
        raise EstimationError(
            "nobody was caught exactly twice (f2 = 0): Zelterman's rate 2 f2 / f1 is 0 and the "
            "estimate n / (1 - exp(-2 f2 / f1)) is infinite"
        )
    rate = 2.0 * f2 / f1
    caught_share = float(-np.expm1(-rate))
    hidden = n * float(np.exp(-rate)) / caught_share
    slope = hidden / caught_share  # -dN/dlambda, also Var(N | lambda) per person caught
    variance = slope + slope**2 * rate**2 * (1.0 / f1 + 1.0 / f2)
    return CaptureCountEstimate(
        method="zelterman",
        total=n + hidden,
        hidden=hidden,
        intervals={level: _lognormal_interval(n, hidden, variance, level) for level in levels},
        interval_method=(
            "log-normal interval for the hidden count (Chao 1987) with the conditional "
            "(Böhning 2008) delta-method variance"
        ),
        is_lower_bound=False,
        message=(
            "Zelterman's estimate: assumes that people caught 0, 1 or 2 times share one Poisson "
            "capture rate (estimated as 2 f2 / f1) in a closed population; rates may differ for "
            "people caught more often."
        ),
        standard_error=float(np.sqrt(variance)),
        details={"f1": f1, "f2": f2, "lambda": rate},
    )


def _require_singletons(f1: float, method: str) -> None:
    if f1 == 0:
        raise EstimationError(
            f"nobody was caught exactly once (f1 = 0): method {method!r} then puts the hidden count "
            "at 0 with no way to gauge its uncertainty; try method='ztpoisson'"
        )


def _lognormal_interval(n: float, hidden: float, variance: float, level: float) -> tuple[float, float]:
    """Chao's (1987) interval: log(hidden) normal, so lower >= n."""
    z = float(norm.ppf(0.5 + level / 2.0))
    spread = float(np.exp(z * np.sqrt(np.log1p(variance / hidden**2))))
    return float(n + hidden / spread), float(n + hidden * spread)


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    checked = []
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)):
            raise ModelError(f"confidence level {level!r} is not a number; use values in (0, 1) such as 0.95")
        if not 0.0 < float(level) < 1.0:
            raise ModelError(f"confidence level {level!r} is outside (0, 1); use e.g. 0.95")
        checked.append(float(level))
    return tuple(checked)


def _whole(value: object, what: str, rule: str) -> int:
    """``value`` as an int if it is a finite whole number, else DataError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise DataError(f"{what} is not a number; {rule}")
    number = float(value)
    if not np.isfinite(number) or number != np.floor(number):
        raise DataError(f"{what}; {rule}")
    return int(number)


# --- log-linear models on the frequencies (Rcapture closedp.0 / closedpCI.0, t = Inf) ----------


@dataclass(frozen=True)
class _PoissonFit:
    coef: np.ndarray
    fitted: np.ndarray
    deviance: float
    columns: tuple[int, ...]


def _fit_poisson(y: np.ndarray, design: np.ndarray, offset: np.ndarray, columns: Sequence[int]) -> _PoissonFit:
    """Poisson log-linear MLE by iteratively reweighted least squares (R's glm.fit scheme)."""
    x = design[:, list(columns)]
    fitted = y + 0.1
    linear = np.log(fitted)
    deviance_old = np.inf
    coef = coef_old = np.full(x.shape[1], np.inf)
    for _ in range(100):
        working = linear - offset + (y - fitted) / fitted
        root_w = np.sqrt(fitted)
        coef = np.linalg.lstsq(x * root_w[:, None], working * root_w, rcond=None)[0]
        linear = np.clip(x @ coef + offset, -500.0, 500.0)
        fitted = np.exp(linear)
        deviance = float(2.0 * np.sum(xlogy(y, y / fitted) - (y - fitted)))
        step = np.abs(coef - coef_old)
        if abs(deviance - deviance_old) <= 1e-10 * (abs(deviance) + 0.1) or np.all(
            step <= 1e-10 * (1.0 + np.abs(coef))
        ):
            break
        deviance_old, coef_old = deviance, coef
    else:
        raise EstimationError("the Poisson log-linear fit did not converge in 100 iterations")
    return _PoissonFit(coef=coef, fitted=fitted, deviance=max(deviance, 0.0), columns=tuple(columns))


def _fit_without_negative_eta(y: np.ndarray, design: np.ndarray, offset: np.ndarray) -> _PoissonFit:
    """Fit, then drop the first negative eta and refit until none is negative (Rcapture ``neg=TRUE``)."""
    columns = list(range(design.shape[1]))
    while True:
        fit = _fit_poisson(y, design, offset, columns)
        negative = [i for i in range(2, len(columns)) if fit.coef[i] < 0]
        if not negative:
            return fit
        del columns[negative[0]]


def _chao_loglinear(counts: np.ndarray, levels: tuple[float, ...]) -> CaptureCountEstimate:
    n = float(counts.sum())
    _require_singletons(float(counts[1]), "chao-loglinear")
    if counts[2] == 0:
        raise EstimationError(
            "nobody was caught exactly twice (f2 = 0): the Chao lower-bound model puts "
            "f0 = f1²/(2 f2) at infinity"
        )
    t = len(counts) - 1
    k = np.arange(1, t + 1, dtype=float)
    y = counts[1:].astype(float)
    design = np.column_stack([np.ones(t), k, *[np.maximum(k - j + 1, 0.0) for j in range(3, t + 1)]])
    offset = -gammaln(k + 1)
    fit = _fit_without_negative_eta(y, design, offset)
    x = design[:, list(fit.columns)]
    intercept_var = float(np.linalg.pinv(x.T @ (x * fit.fitted[:, None]))[0, 0])
    poisson_hidden = float(np.exp(fit.coef[0]))
    log_pmf = xlogy(y, fit.fitted) - fit.fitted - gammaln(y + 1)
    details = {
        "poisson_total": n + poisson_hidden,
        "deviance": fit.deviance,
        "df": float(t - len(fit.columns)),
        "aic": float(-2.0 * log_pmf.sum() + 2 * len(fit.columns)),
    }
    augmented_design = np.vstack([design, np.eye(1, design.shape[1])])
    augmented_offset = np.append(offset, 0.0)

    def profile(total: float) -> float:
        hidden = total - n
        refit = _fit_without_negative_eta(np.append(y, hidden), augmented_design, augmented_offset)
        cormack = xlogy(hidden, hidden) - total * np.log(total) + gammaln(total + 1) - gammaln(hidden + 1)
        return float(-refit.deviance / 2.0 + cormack)

    total, intervals = _profile_intervals(profile, n, n + poisson_hidden, levels)
    return CaptureCountEstimate(
        method="chao-loglinear",
        total=total,
        hidden=total - n,
        intervals=intervals,
        interval_method=(
            "multinomial profile likelihood (Cormack 1992) of the log-linear model, as Rcapture closedpCI.0"
        ),
        is_lower_bound=True,
        message=(
            "Chao's lower bound fitted as Rcapture's log-linear model (Mh LB, t=Inf): valid whatever the "
            "spread of capture rates in a closed population with Poisson captures, so the true total is "
            "likely larger."
        ),
        standard_error=float(np.sqrt(poisson_hidden + poisson_hidden**2 * intercept_var)),
        details=details,
    )


def _ztpoisson(counts: np.ndarray, levels: tuple[float, ...]) -> CaptureCountEstimate:
    n = float(counts.sum())
    k = np.arange(len(counts), dtype=float)
    captures = float(np.dot(k, counts))
    mean = captures / n
    # conditional MLE: lambda / (1 - exp(-lambda)) = S / n; the left side rises from 1 at 0
    rate = float(brentq(lambda lam: lam / -np.expm1(-lam) - mean, 1e-12, 2.0 * mean + 10.0, xtol=1e-14))
    caught_share = float(-np.expm1(-rate))
    slope = n * float(np.exp(-rate)) / caught_share**2
    variance = slope + slope**2 * rate**2 / (n * mean * (1.0 + rate - mean))

    def profile(total: float) -> float:
        return float(gammaln(total + 1) - gammaln(total - n + 1) - captures * np.log(total))

    total, intervals = _profile_intervals(profile, n, n / caught_share, levels)
    # goodness of fit of the conditional fit: G^2 over k = 1..t-1 and ">= t" pooled, df = t - 2
    t = len(counts) - 1
    probabilities = np.exp(k[1:t] * np.log(rate) - rate - gammaln(k[1:t] + 1)) / caught_share
    expected = n * np.append(probabilities, max(1.0 - probabilities.sum(), 0.0))
    observed = counts[1:].astype(float)
    deviance = float(2.0 * np.sum(xlogy(observed, observed / np.maximum(expected, 1e-300))))
    return CaptureCountEstimate(
        method="ztpoisson",
        total=total,
        hidden=total - n,
        intervals=intervals,
        interval_method="profile likelihood of the full (multinomial) zero-truncated Poisson likelihood",
        is_lower_bound=False,
        message=(
            "Zero-truncated Poisson estimate: assumes every person has the same capture rate in a closed "
            "population, and underestimates the total when catchability varies."
        ),
        standard_error=float(np.sqrt(variance)),
        details={
            "conditional_total": n / caught_share,
            "lambda": captures / total if total > 0 else rate,
            "deviance": max(deviance, 0.0),
            "df": float(t - 2),
        },
    )


def _profile_intervals(
    profile: Callable[[float], float], n: float, start: float, levels: tuple[float, ...]
) -> tuple[float, dict[float, tuple[float | None, float | None]]]:
    """Maximise a profile log-likelihood of N on (n, inf) and invert it at each level.

    A lower end that the profile never crosses is ``n`` (nobody fewer than the
    observed); an upper end not found below ``10**6 * start`` is None.
    """
    floor = n + max(1e-9 * n, 1e-9)
    grid = n + (start - n) * np.geomspace(1e-3, 3.0, 61)
    values = np.array([profile(float(total)) for total in grid])
    best = int(np.argmax(values))
    low = grid[best - 1] if best > 0 else floor
    high = grid[best + 1] if best + 1 < len(grid) else 3.0 * start
    result = minimize_scalar(
        lambda total: -profile(total), bounds=(low, high), method="bounded", options={"xatol": 1e-7 * start}
    )
    total_max, log_lik_max = float(result.x), -float(result.fun)
    if values[best] > log_lik_max:
        total_max, log_lik_max = float(grid[best]), float(values[best])
    if not np.isfinite(log_lik_max):
        raise EstimationError("the profile likelihood of N could not be evaluated")
    if total_max - n <= 1e-6 * n:  # maximum on the boundary: nobody hidden
        total_max = n
    intervals: dict[float, tuple[float | None, float | None]] = {}
    for level in levels:
        cutoff = log_lik_max - float(chi2.ppf(level, 1)) / 2.0

        def excess(total: float, cutoff: float = cutoff) -> float:
            return profile(total) - cutoff

        lower: float | None = n
        if excess(floor) < 0:
            lower = float(brentq(excess, floor, total_max, xtol=1e-9 * start))
        upper: float | None = None
        bound = max(total_max, floor)
        while bound < 1e6 * start:
            next_bound = max(3.0 * start, 2.0 * bound)
            if excess(next_bound) < 0:
                upper = float(brentq(excess, bound, next_bound, xtol=1e-9 * start))
                break
            bound = next_bound
        intervals[level] = (lower, upper)
    return total_max, intervals

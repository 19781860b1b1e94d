r"""Closed forms for planning a reporting survey (docs/methods.md#design).

Two of them, both per candidate survey size :math:`m`, for one stratum whose recorded count is
:math:`y \sim \text{Poisson}(\mu)` (:math:`\mu` the expected recorded count) and whose survey
finds :math:`r \sim \text{Binomial}(m, p)`:

* **Exact expectations of the exact model.** With one source, :math:`y > 0` and the default
  prior :math:`p(\lambda) \propto 1/\lambda`, the exact model's posterior of the hidden count is
  beta-negative-binomial :math:`(y, a, b)`, :math:`a = \alpha + r`, :math:`b = \beta + m - r`
  (docs/methods.md#thinning). Its quantiles are computed for every :math:`(y, r)` with
  probability above :math:`10^{-8}` (the pmf by its ratio recursion
  :math:`f(u + 1)/f(u) = (y + u)(b + u)/((u + 1)(a + b + y + u))`) and averaged with weights
  :math:`\text{Poisson}(y; \mu)\,\text{Binomial}(r; m, p)`: the expected interval width, the
  expected width relative to the median, and the probability that the interval meets a
  relative target, with no Monte Carlo error. The simulation must agree with these.
* **The multiplier's delta method.** :math:`\hat N = y/\hat p`; the total :math:`N = y + U`
  given the data has :math:`\text{var}\log N \approx \sigma^2(m) = (1 - p)/\mu + (1 - p)/(mp)`
  (the hidden part's negative-binomial noise and the survey's); a log-normal interval has
  relative width :math:`2\sinh(z\sigma)`. The incidence :math:`\lambda = \hat N`'s rate has
  :math:`1/\mu` in place of :math:`(1 - p)/\mu`, so a change by the factor :math:`1 + \delta` between
  two periods, each with its own survey, is found (interval of the ratio excluding 1) with
  power :math:`\Phi(|\log(1 + \delta)|/\sigma_\Delta - z)`,
  :math:`\sigma_\Delta^2 = 1/\mu + 1/(\mu(1 + \delta)) + 2(1 - p)/(mp)`. Solved for :math:`m`
  these give the survey size a target needs, or say that the recorded count's own noise
  (:math:`1/\mu`) already exceeds it: no survey is large enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln
from scipy.stats import binom, norm, poisson

#: (y, r) pairs less probable than this are left out of the exact expectations
PAIR_TAIL = 1e-8
#: above this many pmf evaluations the exact expectation is not computed (it would take minutes)
MAX_EVALUATIONS = 3e8


@dataclass(frozen=True)
class ExactExpectation:
    """Expected interval measures of the exact model over the data a design gives."""

    width: float  # E[upper - lower]
    relative_width: float  # E[(upper - lower) / median]
    target_met: float | None  # P((upper - lower) / median <= 2 * within)


class _BnbTable:
    """Quantiles of ``y + BNB(y, a_i, b_i)`` for many ``y`` with shared ``a_i + b_i``.

    The pmf's ratio recursion splits into terms in ``u`` alone, in ``y + u``, and ``log(b_i + u)``
    (independent of ``y``, summed once), so each ``y`` costs one exponential per cell.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, end: int) -> None:
        self.a, self.b, self.end = a, b, end
        self.u = np.arange(end - 1, dtype=float)
        self.log_b = np.concatenate([np.zeros((b.size, 1)), np.cumsum(np.log(b[:, None] + self.u), axis=1)], axis=1)
        self.log_u1 = np.concatenate([[0.0], np.cumsum(np.log(self.u + 1))])

    def quantiles(self, y: int, qs: tuple[float, ...]) -> np.ndarray | None:
        """One row per (a_i, b_i), one column per q; ``None`` if the table ends too early."""
        ab = self.a[0] + self.b[0]
        shared = np.concatenate([[0.0], np.cumsum(np.log(y + self.u) - np.log(ab + y + self.u))]) - self.log_u1
        first = betaln(self.a + y, self.b) - betaln(self.a, self.b)
        cdf = np.cumsum(np.exp(first[:, None] + self.log_b + shared[None, :]), axis=1)
        if cdf[:, -1].min() < max(qs) + 1e-9:
            return None
        return np.stack([y + (cdf < q - 1e-12).sum(axis=1) for q in qs], axis=1).astype(float)


def exact_expectation(mu: float, rate: float, surveyed: int, level: float, within: float | None,
                      prior: tuple[float, float] = (1.0, 1.0)) -> ExactExpectation | None:
    """Exact expected width (and chance of meeting ``within``) of the exact model's interval.

    ``None`` when counts of zero have probability above :data:`PAIR_TAIL` (the model then
    changes its prior) or the sum would be too long.
    """
    if poisson.pmf(0, mu) > PAIR_TAIL:
        return None
    ys = np.arange(max(1, int(poisson.ppf(PAIR_TAIL, mu))), int(poisson.isf(PAIR_TAIL, mu)) + 1)
    rs = np.arange(int(binom.ppf(PAIR_TAIL, surveyed, rate)), int(binom.isf(PAIR_TAIL, surveyed, rate)) + 1)
    if ys.size * rs.size * 6 * mu / rate > MAX_EVALUATIONS:
        return None
    wy = poisson.pmf(ys, mu)
    wr = binom.pmf(rs, surveyed, rate)
    wy, wr = wy / wy.sum(), wr / wr.sum()
    a = prior[0] + rs.astype(float)
    b = prior[1] + surveyed - rs.astype(float)
    qs = ((1 - level) / 2, 0.5, (1 + level) / 2)
    end = int(np.ceil(2.5 * ys.max() * (b / np.maximum(a - 1, 0.5)).max() + 50))
    table = _BnbTable(a, b, end)
    width = relative = met = 0.0
    for y, weight in zip(ys, wy, strict=True):
        found = table.quantiles(int(y), qs)
        while found is None:
            table = _BnbTable(a, b, 2 * table.end)
            found = table.quantiles(int(y), qs)
        lower, median, upper = found.T
        width += weight * float(np.dot(wr, upper - lower))
        relative += weight * float(np.dot(wr, (upper - lower) / median))
        if within is not None:
            met += weight * float(np.dot(wr, (upper - lower) / median <= 2 * within))
    return ExactExpectation(width, relative, met if within is not None else None)


def delta_sigma2(mu: float, rate: float, surveyed: float) -> float:
    """Delta-method variance of the log of one period's total given its data: the hidden part's
    negative-binomial noise, (1 - p)/mu, and the survey's, (1 - p)/(m p)."""
    return (1 - rate) / mu + (1 - rate) / (surveyed * rate)


def delta_relative_width(mu: float, rate: float, surveyed: float, level: float) -> float:
    """Relative width (upper - lower) / estimate of the log-normal multiplier interval."""
    z = float(norm.ppf(0.5 + level / 2))
    return float(2 * np.sinh(z * np.sqrt(delta_sigma2(mu, rate, surveyed))))


def delta_power(mu: float, rate: float, surveyed: float, level: float, change: float) -> float:
    """Probability that the level-``level`` interval of the ratio of two periods excludes 1 on the side
    of ``change`` (two-sided rule; with ``change = 0``, both sides: the false-positive rate)."""
    z = float(norm.ppf(0.5 + level / 2))
    s = np.sqrt(1 / mu + 1 / (mu * (1 + change)) + 2 * (1 - rate) / (surveyed * rate))
    shift = abs(np.log1p(change)) / s
    if change == 0:
        return float(2 * norm.sf(z))
    return float(norm.sf(z - shift))


def survey_needed_within(mu: float, rate: float, level: float, within: float) -> float:
    """Delta-method survey size for a relative half-width ``within``; ``inf`` if the count alone is too noisy."""
    z = float(norm.ppf(0.5 + level / 2))
    room = (np.arcsinh(within) / z) ** 2 - (1 - rate) / mu
    return float((1 - rate) / (rate * room)) if room > 0 else float("inf")


def survey_needed_change(mu: float, rate: float, level: float, change: float, power: float) -> float:
    """Delta-method survey size (per period) to find ``change`` with probability ``power``."""
    z = float(norm.ppf(0.5 + level / 2)) + float(norm.ppf(power))
    room = (abs(np.log1p(change)) / z) ** 2 - 1 / mu - 1 / (mu * (1 + change))
    return float(2 * (1 - rate) / (rate * room)) if room > 0 else float("inf")


__all__ = ["ExactExpectation", "delta_power", "delta_relative_width", "delta_sigma2", "exact_expectation",
           "survey_needed_change", "survey_needed_within"]

"""Quantiles of the chi-squared (1 df) and standard normal distributions, from ``scipy.special``.

The same functions ``scipy.stats`` evaluates (``chi2.ppf = 2 gammaincinv(df/2, p)``,
``chi2.cdf = chdtr``, ``norm.ppf = ndtri``), so the numbers are identical to the last bit, without
importing ``scipy.stats`` (a third of a second) on the closed-form path.
"""

from __future__ import annotations

from scipy.special import chdtr, gammaincinv, ndtri


def chi2_1_ppf(level: float) -> float:
    """The ``level`` quantile of the chi-squared distribution with 1 degree of freedom."""
    return float(2.0 * gammaincinv(0.5, level))


def chi2_1_cdf(x: float) -> float:
    """The chi-squared (1 df) distribution function at ``x``."""
    return float(chdtr(1, x))


def normal_ppf(p: float) -> float:
    """The ``p`` quantile of the standard normal distribution."""
    return float(ndtri(p))


__all__ = ["chi2_1_cdf", "chi2_1_ppf", "normal_ppf"]

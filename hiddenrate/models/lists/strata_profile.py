r"""Profile-likelihood interval for a total over independent strata.

With independent strata, each with its own profile log-likelihood :math:`\ell_s(N_s)`, the
profile log-likelihood of the total :math:`T = \sum_s N_s` is

.. math::

    \ell_T(T) = \max_{\sum_s N_s = T} \sum_s \ell_s(N_s),

a max-plus convolution of the strata's curves. It is computed on a common grid of hidden counts
(step ``h``: the largest stratum's range divided by ``resolution``), so each stratum's
contribution is resolved to within ``h``; the interval is
:math:`\{T : 2[\ell_T(\hat T) - \ell_T(T)] \le \chi^2_1(\text{level})\}`, as for one stratum
(Cormack 1992). The point estimate is the sum of the strata's estimates (exact, not gridded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hiddenrate.core.quantiles import chi2_1_ppf
from hiddenrate.core.distributions import Interval

#: extra deviance beyond the widest level's cut-off kept on each stratum's grid
MARGIN = 8.0


@dataclass(frozen=True)
class StratumProfile:
    """What the total's profile needs from one stratum.

    Attributes
    ----------
    observed
        People observed in the stratum.
    hidden_hat
        The stratum's maximum-likelihood hidden count.
    reach
        Hidden count beyond which the stratum's deviance exceeds the widest cut-off plus
        :data:`MARGIN`; ``None`` when it never does (no upper bound).
    curve
        Profile log-likelihood at an array of hidden counts.
    """

    observed: int
    hidden_hat: float
    reach: float | None
    curve: Callable[[np.ndarray], np.ndarray]


def _max_plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``c[m] = max_{i+j=m} a[i] + b[j]``."""
    if a.size < b.size:
        a, b = b, a
    out = np.full(a.size + b.size - 1, -np.inf)
    for j, value in enumerate(b):
        if np.isfinite(value):
            np.maximum(out[j : j + a.size], a + value, out=out[j : j + a.size])
    return out


def total_profile_intervals(strata: Sequence[StratumProfile], levels: Sequence[float],
                            resolution: int = 1500) -> tuple[float, dict[float, Interval]]:
    """Point estimate and profile intervals of the total over independent strata.

    Returns
    -------
    (total, intervals)
        ``intervals[level] = (lower, upper)``; ``upper`` is ``None`` when some stratum has no
        upper bound (then neither has the total).
    """
    observed = sum(s.observed for s in strata)
    total = observed + sum(s.hidden_hat for s in strata)
    unbounded = any(s.reach is None for s in strata)
    reaches = [s.reach for s in strata if s.reach is not None]
    step = max(max(reaches, default=1.0) / resolution, 1e-6)
    combined: np.ndarray | None = None
    for stratum in strata:
        end = stratum.reach if stratum.reach is not None else max(reaches, default=stratum.hidden_hat * 4 + 10)
        grid = np.arange(0.0, end + step, step)
        values = stratum.curve(grid)
        values = values - values.max()
        combined = values if combined is None else _max_plus(combined, values)
    if combined is None:
        return total, {level: (float(observed), float(observed)) for level in levels}
    combined = combined - combined.max()
    hidden = np.arange(combined.size) * step
    peak = int(np.argmax(combined))
    intervals: dict[float, Interval] = {}
    for level in levels:
        cut = -chi2_1_ppf(level) / 2.0
        below = np.flatnonzero(combined[: peak + 1] < cut)
        if below.size:
            i = int(below[-1])  # last grid point below the cut on the left; interpolate to the crossing
            lower = hidden[i] + (cut - combined[i]) / (combined[i + 1] - combined[i]) * step
        else:
            lower = 0.0
        above = np.flatnonzero(combined[peak:] < cut)
        if unbounded or not above.size:
            upper: float | None = None
        else:
            j = peak + int(above[0])
            upper = hidden[j - 1] + (combined[j - 1] - cut) / (combined[j - 1] - combined[j]) * step
        intervals[level] = (observed + float(lower), None if upper is None else observed + float(upper))
    return total, intervals

"""What an estimate of a population total is: posterior draws, an exact posterior on a grid,
or a maximum-likelihood point with its intervals.

All three answer the same questions (median, mean, interval at a level, probability of at
least a value) so that results, renderers and claim checks never care which model produced
them. Values stay raw floats; rounding happens only when rendering.

Interval conventions
--------------------
``equal-tailed`` (default): the ``(1-level)/2`` and ``(1+level)/2`` quantiles.
For draws, quantiles use linear interpolation between order statistics (NumPy's default,
R's type 7). For a grid the ``q`` quantile is the smallest grid value whose cumulative
probability is at least ``q`` (so every end is an attainable value).
``hdi``: the shortest interval holding at least ``level`` of the probability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.settings import EXACT_DRAWS, INTERVAL_KINDS

Interval = tuple[float | None, float | None]

#: grid values a stratum's posterior keeps exactly before :meth:`GridDistribution.compact` bins them
COMPACT_EXACT = 1 << 16
#: width of those bins (0.1%)
COMPACT_RATIO = 1.001
#: longest exact convolution of strata (values); past it the sum over strata is drawn
MAX_CONVOLUTION = 1 << 22


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ModelError(f"interval level {level} must be between 0 and 1 (e.g. 0.95)")


class Distribution(Protocol):
    """The common interface of every estimate of a quantity."""

    @property
    def kind(self) -> str: ...

    def median(self) -> float | None: ...

    def mean(self) -> float | None: ...

    def interval(self, level: float, kind: str = "equal-tailed") -> Interval: ...

    def prob_at_least(self, value: float) -> float | None: ...

    def map(self, func: Callable[[np.ndarray], np.ndarray], decreasing: bool = False, bounded: bool = False) -> Distribution: ...


@dataclass(frozen=True)
class DrawsDistribution:
    """Monte Carlo draws (posterior or exact independent draws), flattened over chains."""

    draws: np.ndarray
    kind: str = "draws"

    def __post_init__(self) -> None:
        draws = np.asarray(self.draws, dtype=float).ravel()
        if draws.size == 0 or not np.all(np.isfinite(draws)):
            raise ModelError("a posterior needs at least one finite draw")
        draws.setflags(write=False)
        object.__setattr__(self, "draws", draws)

    def median(self) -> float:
        return float(np.median(self.draws))

    def mean(self) -> float:
        return float(np.mean(self.draws))

    def interval(self, level: float, kind: str = "equal-tailed") -> Interval:
        _check_level(level)
        if kind == "equal-tailed":
            lower, upper = np.quantile(self.draws, [(1 - level) / 2, (1 + level) / 2])
            return float(lower), float(upper)
        if kind == "hdi":
            return _hdi_sorted(np.sort(self.draws), level)
        raise ModelError(f"unknown interval kind '{kind}'; use one of {', '.join(INTERVAL_KINDS)}")

    def prob_at_least(self, value: float) -> float:
        return float(np.mean(self.draws >= value))

    def map(self, func: Callable[[np.ndarray], np.ndarray], decreasing: bool = False, bounded: bool = False) -> DrawsDistribution:
        return DrawsDistribution(func(self.draws))

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Draws for plotting (resampled when more are asked than exist)."""
        if size >= self.draws.size:
            return np.array(self.draws)
        return rng.choice(self.draws, size=size, replace=False)


def _hdi_sorted(values: np.ndarray, level: float) -> Interval:
    n = values.size
    width = int(np.ceil(level * n))
    if width >= n:
        return float(values[0]), float(values[-1])
    spans = values[width - 1 :] - values[: n - width + 1]
    start = int(np.argmin(spans))
    return float(values[start]), float(values[start + width - 1])


@dataclass(frozen=True)
class GridDistribution:
    """An exact discrete distribution: ``pmf[i]`` is the probability of ``values[i]``.

    ``tail_mass`` is probability known to lie beyond the last value (kept so that reports can
    say how much was cut off); the pmf is normalised over the grid. ``mean_exists`` is False
    when the distribution's tail is too heavy for a mean (e.g. model averaging with
    p(N) ∝ 1/N): :meth:`mean` then returns ``None`` rather than a number set by where the
    grid happens to end.
    """

    values: np.ndarray
    pmf: np.ndarray
    tail_mass: float = 0.0
    mean_exists: bool = True
    kind: str = "grid"

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        pmf = np.asarray(self.pmf, dtype=float)
        if values.shape != pmf.shape or values.ndim != 1 or values.size == 0:
            raise ModelError("a grid distribution needs matching one-dimensional values and probabilities")
        if np.any(pmf < 0) or not np.isfinite(pmf).all() or pmf.sum() <= 0:
            raise ModelError("grid probabilities must be finite, non-negative and not all zero")
        order = np.argsort(values, kind="stable")
        values, pmf = values[order], pmf[order] / pmf.sum()
        values.setflags(write=False)
        pmf.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "pmf", pmf)

    def quantile(self, q: float) -> float:
        """Smallest grid value whose cumulative probability is at least ``q``."""
        cdf = np.cumsum(self.pmf)
        index = int(np.searchsorted(cdf, q - 1e-12, side="left"))
        return float(self.values[min(index, self.values.size - 1)])

    def median(self) -> float:
        return self.quantile(0.5)

    def mean(self) -> float | None:
        if not self.mean_exists:
            return None
        return float(np.dot(self.values, self.pmf))

    def interval(self, level: float, kind: str = "equal-tailed") -> Interval:
        _check_level(level)
        if kind == "equal-tailed":
            return self.quantile((1 - level) / 2), self.quantile((1 + level) / 2)
        if kind == "hdi":
            order = np.argsort(-self.pmf, kind="stable")
            cumulative = np.cumsum(self.pmf[order])
            keep = order[: int(np.searchsorted(cumulative, level - 1e-12)) + 1]
            chosen = self.values[keep]
            return float(chosen.min()), float(chosen.max())
        raise ModelError(f"unknown interval kind '{kind}'; use one of {', '.join(INTERVAL_KINDS)}")

    def prob_at_least(self, value: float) -> float:
        return float(self.pmf[self.values >= value].sum())

    def map(self, func: Callable[[np.ndarray], np.ndarray], decreasing: bool = False, bounded: bool = False) -> GridDistribution:
        """The distribution of ``func(X)``; ``bounded=True`` says the result is bounded, so
        its mean exists even when this distribution's does not."""
        return GridDistribution(func(self.values), self.pmf, self.tail_mass, self.mean_exists or bounded)

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Independent draws from the exact distribution (for plots and sums over strata)."""
        return rng.choice(self.values, size=size, p=self.pmf)

    def compact(self, exact: int = COMPACT_EXACT, ratio: float = COMPACT_RATIO) -> GridDistribution:
        """The same distribution in less memory: the first ``exact`` values kept, the rest merged
        into bins ``ratio`` wide (0.1%), each at its probability-weighted mean (rounded).

        Quantiles past the first ``exact`` values move by at most 0.1%, the precision of the
        reporting model's grid (docs/methods.md#numerical-range). A stratified fit keeps one
        distribution per stratum; model averaging's grid can hold two million values, so 500
        strata would otherwise hold 16 GB.
        """
        if self.values.size <= exact + 1 or self.values[exact] <= 0:
            return self
        head, tail = self.values[:exact], self.values[exact:]
        bins = np.floor(np.log(tail / tail[0]) / np.log(ratio)).astype(np.int64)
        _, start = np.unique(bins, return_index=True)
        mass = np.add.reduceat(self.pmf[exact:], start)
        weighted = np.add.reduceat(self.pmf[exact:] * tail, start)
        centre = np.where(mass > 0, weighted / np.where(mass > 0, mass, 1.0), tail[start])
        return GridDistribution(np.concatenate([head, np.round(centre)]), np.concatenate([self.pmf[:exact], mass]),
                                self.tail_mass, self.mean_exists, self.kind)


@dataclass(frozen=True)
class PointEstimate:
    """A maximum-likelihood (or closed-form) estimate with confidence intervals by level.

    There is no posterior: ``median()`` and ``mean()`` return the point estimate, and the
    renderers label it as such. An interval end of ``None`` does not exist (e.g. the profile
    likelihood never drops below the cut-off: no upper bound without further assumptions).
    """

    point: float | None
    intervals: Mapping[float, Interval] = field(default_factory=dict)
    interval_method: str = ""
    kind: str = "point"

    def median(self) -> float | None:
        return self.point

    def mean(self) -> float | None:
        return self.point

    def interval(self, level: float, kind: str = "equal-tailed") -> Interval:
        _check_level(level)
        for known, ends in self.intervals.items():
            if abs(float(known) - level) < 1e-9:
                return ends
        raise ModelError(f"no {level:g} interval was computed for this estimate; refit with that level")

    def prob_at_least(self, value: float) -> float | None:
        return None  # a confidence interval is not a probability statement about the total

    def map(self, func: Callable[[np.ndarray], np.ndarray], decreasing: bool = False, bounded: bool = False) -> PointEstimate:
        def apply(x: float | None, missing: float | None) -> float | None:
            if x is None:
                return missing
            return float(func(np.asarray([x], dtype=float))[0])

        # a missing upper end of a total maps to the limit of func at infinity
        limit = float(func(np.asarray([np.inf]))[0])
        at_infinity = limit if np.isfinite(limit) else None
        intervals: dict[float, Interval] = {}
        for level, (lower, upper) in self.intervals.items():
            new_lower, new_upper = apply(lower, None), apply(upper, at_infinity)
            intervals[level] = (new_upper, new_lower) if decreasing else (new_lower, new_upper)
        return PointEstimate(apply(self.point, None), intervals, self.interval_method)


def summarise(dist: Distribution, levels: tuple[float, ...], kind: str = "equal-tailed") -> dict:
    """Median, mean and intervals of a distribution as plain JSON-ready values."""
    return {
        "median": dist.median(),
        "mean": dist.mean(),
        "intervals": {format_level(level): list(dist.interval(level, kind)) for level in levels},
    }


def format_level(level: float) -> str:
    """The JSON key of a level: ``0.95`` -> ``"0.95"``, ``0.9`` -> ``"0.9"``."""
    return f"{level:g}"


def sum_independent(parts: list[Distribution], rng: np.random.Generator, size: int = EXACT_DRAWS) -> Distribution | None:
    """Distribution of a sum of independent totals (strata).

    Draws are added draw by draw (after resampling to a common size); exact grids are
    convolved exactly when every part is a unit-spaced grid and together they hold at most
    :data:`MAX_CONVOLUTION` values (the convolution's length and memory grow with their sum:
    500 strata of two million values would need 8 GB); otherwise they are summed from draws. Point estimates cannot be summed into an
    interval this way: ``None`` is returned and the caller says so.
    """
    from scipy.signal import fftconvolve  # scipy.signal takes 0.8 s to import: only when strata are summed
    if any(isinstance(p, PointEstimate) for p in parts):
        return None
    if all(isinstance(p, GridDistribution) for p in parts):
        grids = [p for p in parts if isinstance(p, GridDistribution)]
        exact = sum(g.values.size for g in grids) <= MAX_CONVOLUTION
        if exact and all(np.allclose(np.diff(g.values), 1) for g in grids if g.values.size > 1):
            values, pmf = grids[0].values, grids[0].pmf
            for grid in grids[1:]:
                pmf = np.clip(fftconvolve(pmf, grid.pmf), 0.0, None)  # exact up to rounding, O(n log n)
                values = np.arange(pmf.size) + values[0] + grid.values[0]
            return GridDistribution(values, pmf, sum(g.tail_mass for g in grids), all(g.mean_exists for g in grids))
    total = np.zeros(size)
    for part in parts:
        if isinstance(part, GridDistribution):
            total += part.sample(size, rng)
        elif isinstance(part, DrawsDistribution):
            draws = part.draws
            total += draws if draws.size == size else rng.choice(draws, size=size, replace=draws.size < size)
    return DrawsDistribution(total)

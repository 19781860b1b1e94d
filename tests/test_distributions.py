"""Interval values checked against brute force (not just labels), for draws, grids and points."""

from __future__ import annotations

import numpy as np
import pytest

from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, PointEstimate, sum_independent


def test_grid_quantiles_match_expanding_the_distribution():
    # A grid with integer probabilities (in 1/20ths) equals the empirical distribution of
    # the expanded sample; the q-quantile is the smallest value with cdf >= q.
    values = np.arange(10, 16)
    weights = np.array([1, 2, 7, 5, 3, 2])
    grid = GridDistribution(values, weights)
    expanded = np.repeat(values, weights)
    for q in (0.025, 0.05, 0.5, 0.95, 0.975):
        brute = expanded[int(np.ceil(q * expanded.size)) - 1]
        assert grid.quantile(q) == brute
    assert grid.mean() == pytest.approx(expanded.mean())


def test_grid_hdi_is_the_shortest_set():
    values = np.arange(0, 8)
    grid = GridDistribution(values, np.array([1, 1, 10, 30, 20, 5, 1, 1]))
    lower, upper = grid.interval(0.8, "hdi")
    # brute force: every [a, b] holding >= 0.8, shortest first
    p = grid.pmf
    best = min(((b - a, a, b) for a in range(8) for b in range(a, 8) if p[a : b + 1].sum() >= 0.8 - 1e-12))
    assert (lower, upper) == (best[1], best[2])


def test_draws_intervals_match_numpy_and_brute_force_hdi():
    rng = np.random.default_rng(0)
    draws = rng.gamma(3.0, size=2001)
    dist = DrawsDistribution(draws)
    assert dist.interval(0.9) == tuple(np.quantile(draws, [0.05, 0.95]))
    s = np.sort(draws)
    k = int(np.ceil(0.9 * s.size))
    widths = [s[i + k - 1] - s[i] for i in range(s.size - k + 1)]
    i = int(np.argmin(widths))
    assert dist.interval(0.9, "hdi") == (s[i], s[i + k - 1])


def test_decreasing_map_swaps_interval_ends():
    # observed share = n / total: the upper end of the total gives the lower end of the share,
    # and a missing upper end (no upper bound) gives a share of 0.
    point = PointEstimate(500.0, {0.95: (400.0, None)})
    share = point.map(lambda t: 100 / t, decreasing=True)
    assert share.point == pytest.approx(0.2)
    assert share.intervals[0.95] == (0.0, pytest.approx(0.25))


def test_sum_of_grids_is_the_exact_convolution():
    a = GridDistribution(np.arange(5, 8), [0.2, 0.5, 0.3])
    b = GridDistribution(np.arange(1, 3), [0.6, 0.4])
    total = sum_independent([a, b], np.random.default_rng(0))
    brute: dict[int, float] = {}
    for va, pa in zip(a.values, a.pmf, strict=True):
        for vb, pb in zip(b.values, b.pmf, strict=True):
            brute[int(va + vb)] = brute.get(int(va + vb), 0) + pa * pb
    assert dict(zip(total.values.astype(int).tolist(), total.pmf.tolist(), strict=True)) == pytest.approx(brute)


def test_point_estimates_do_not_sum_into_an_interval():
    assert sum_independent([PointEstimate(1.0, {}), PointEstimate(2.0, {})], np.random.default_rng(0)) is None

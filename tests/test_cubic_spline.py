"""The not-a-knot cubic spline (hiddenrate.models.lists.cubic_spline) against scipy's CubicSpline.

Model averaging interpolates its log posterior with it in place of ``scipy.interpolate.CubicSpline``
(not imported, to save its import time), so the two must agree bit for bit: np.array_equal, not
allclose.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from hiddenrate.models.lists.cubic_spline import not_a_knot_spline


def _case(rng: np.random.Generator, kind: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == 0:  # bma's use: equal steps in log N, a smooth concave log posterior
        x = np.linspace(np.log(199.5), np.log(rng.uniform(201, 1e6)), n)
        return x, -0.5 * rng.uniform(0.1, 100) * (x - rng.normal(6, 2)) ** 2 + rng.normal(0, 1e-3, n)
    if kind == 1:  # uneven steps, rough values
        return np.cumsum(rng.uniform(0.01, 2.0, n)), rng.normal(0, 10, n)
    x = np.unique(rng.uniform(-5, 5, n))  # wide range of scales
    return x, np.sin(x * rng.uniform(0.1, 20)) * rng.uniform(1e-8, 1e8)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_matches_scipy_bit_for_bit(kind: int) -> None:
    rng = np.random.default_rng(20 + kind)
    for trial in range(150):
        x, y = _case(rng, kind, int(rng.integers(2, 600)))
        inside = rng.uniform(x[0] - 0.5, x[-1] + 0.5, 300)  # includes extrapolation at both ends
        points = np.concatenate([inside, x]) if trial % 2 else np.sort(np.concatenate([inside, x, x]))
        assert np.array_equal(not_a_knot_spline(x, y, points), CubicSpline(x, y)(points)), (kind, trial)


def test_bma_grid_shape() -> None:
    """The shape bma_grid uses: nodes equally spaced in log m, every integer past 200 evaluated."""
    x = np.linspace(np.log(199.5), np.log(250_000.5), 1_900)
    y = -3.0 * (x - 7.0) ** 2 + 0.01 * np.cos(40 * x)
    points = np.log(np.arange(200, 250_001, dtype=float))
    assert np.array_equal(not_a_knot_spline(x, y, points), CubicSpline(x, y)(points))


def test_not_finite_is_scipys_error() -> None:
    with pytest.raises(ValueError, match="finite"):
        not_a_knot_spline(np.arange(5.0), np.array([0.0, 1.0, np.inf, 2.0, 3.0]), np.array([1.5]))

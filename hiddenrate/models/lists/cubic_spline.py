"""The not-a-knot cubic spline of ``scipy.interpolate.CubicSpline``, without importing scipy.interpolate.

Model averaging (:mod:`hiddenrate.models.lists.bma_grid`) interpolates the log posterior between
nodes with a cubic spline. Importing ``scipy.interpolate`` costs about a quarter of a second, most
of the run time of a closed-form ``hiddenrate lists`` call, so this module does the same
arithmetic, in the same order, as scipy 1.17's ``CubicSpline(x, y)`` (``bc_type="not-a-knot"``)
followed by ``PPoly.__call__``:

* the slopes ``s`` solve the tridiagonal system that ``CubicSpline`` builds, by LAPACK ``dgtsv``'s
  elimination with partial pivoting (what ``scipy.linalg.solve_banded((1, 1), ...)`` calls);
* the Hermite coefficients are ``CubicHermiteSpline``'s numpy expressions;
* each point is evaluated as ``PPoly``'s compiled ``evaluate_poly1`` does, as a sum of
  ``c[3 - p] * z`` with ``z = s**p`` built by repeated multiplication.

The results are bit-identical (tests/test_cubic_spline.py compares them with scipy on random
data). The cases this does not reproduce (fewer than 4 nodes, values that are not finite) are
handed to scipy itself.
"""

from __future__ import annotations

import numpy as np

__all__ = ["not_a_knot_spline"]


def not_a_knot_spline(x: np.ndarray, y: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``CubicSpline(x, y)(points)`` for strictly increasing ``x``, 1-d ``y``, bit for bit."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).ravel())
    if (len(x) < 4 or x.ndim != 1 or y.shape != x.shape or not np.all(np.isfinite(x))
            or not np.all(np.isfinite(y)) or np.any(np.diff(x) <= 0)):
        from scipy.interpolate import CubicSpline  # the cases not reproduced here

        return np.asarray(CubicSpline(x, y)(points))
    dx = np.diff(x)
    slope = np.diff(y, axis=0) / dx
    derivatives = _not_a_knot_slopes(x, dx, slope)
    t = (derivatives[:-1] + derivatives[1:] - 2 * slope) / dx
    coefficients = np.stack((t / dx, (slope - derivatives[:-1]) / dx - t, derivatives[:-1], y[:-1]))
    return _evaluate(coefficients, x, points)


def _not_a_knot_slopes(x: np.ndarray, dx: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The spline's first derivative at each node: CubicSpline's banded system, solved as dgtsv does."""
    n = len(x)
    upper = np.zeros(n)  # banded row 0, shifted: upper[i] = A[i, i + 1]
    diagonal = np.zeros(n)
    lower = np.zeros(n)  # lower[i] = A[i + 1, i]
    rhs = np.empty(n)
    diagonal[1:-1] = 2 * (dx[:-1] + dx[1:])
    upper[1:-1] = dx[:-1]
    lower[:-2] = dx[1:]
    rhs[1:-1] = 3 * (dx[1:] * slope[:-1] + dx[:-1] * slope[1:])
    diagonal[0] = dx[1]
    upper[0] = x[2] - x[0]
    d = x[2] - x[0]
    rhs[0] = ((dx[0] + 2 * d) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / d
    diagonal[-1] = dx[-2]
    lower[-2] = x[-1] - x[-3]
    d = x[-1] - x[-3]
    rhs[-1] = (dx[-1] ** 2 * slope[-2] + (2 * d + dx[-1]) * dx[-2] * slope[-1]) / d
    return np.array(_gtsv(lower[:-1].tolist(), diagonal.tolist(), upper[:-1].tolist(), rhs.tolist()))


def _gtsv(dl: list[float], d: list[float], du: list[float], b: list[float]) -> list[float]:
    """LAPACK ``dgtsv`` for one right-hand side (Gaussian elimination with partial pivoting).

    Python floats are IEEE doubles and Python never fuses a multiply and an add, so each step
    rounds as the reference Fortran does.
    """
    n = len(d)
    for i in range(n - 1):
        if abs(d[i]) >= abs(dl[i]):
            if d[i] == 0.0:
                raise ZeroDivisionError("singular spline system")
            fact = dl[i] / d[i]
            d[i + 1] = d[i + 1] - fact * du[i]
            b[i + 1] = b[i + 1] - fact * b[i]
            if i < n - 2:
                dl[i] = 0.0
        else:
            fact = d[i] / dl[i]
            d[i] = dl[i]
            temp = d[i + 1]
            d[i + 1] = du[i] - fact * temp
            if i < n - 2:
                dl[i] = du[i + 1]
                du[i + 1] = -fact * dl[i]
            du[i] = temp
            temp = b[i]
            b[i] = b[i + 1]
            b[i + 1] = temp - fact * b[i + 1]
    if d[n - 1] == 0.0:
        raise ZeroDivisionError("singular spline system")
    b[n - 1] = b[n - 1] / d[n - 1]
    b[n - 2] = (b[n - 2] - du[n - 2] * b[n - 1]) / d[n - 2]
    for i in range(n - 3, -1, -1):
        b[i] = (b[i] - du[i] * b[i + 1] - dl[i] * b[i + 2]) / d[i]
    return b


def _evaluate(coefficients: np.ndarray, x: np.ndarray, points: np.ndarray) -> np.ndarray:
    """PPoly evaluation: the interval ``x[i] <= p < x[i + 1]`` (the end ones extended), then
    ``c3 + c2 s + c1 s^2 + c0 s^3`` summed in that order with ``s^p`` by repeated products."""
    if np.all(points[1:] >= points[:-1]):  # sorted (the usual case): count the points per interval
        starts = np.searchsorted(points, x[1:-1], side="left")
        counts = np.diff(np.concatenate([[0], starts, [len(points)]]))
        local = np.repeat(coefficients, counts, axis=1)
        offset = points - np.repeat(x[:-1], counts)
    else:
        interval = np.clip(np.searchsorted(x, points, side="right") - 1, 0, len(x) - 2)
        local = coefficients[:, interval]
        offset = points - x[interval]
    total = 0.0 + local[3] * 1.0
    power = offset.copy()
    total += local[2] * power
    power *= offset
    total += local[1] * power
    power *= offset
    total += local[0] * power
    return np.asarray(total)

"""Brent's bracketing root finder, so the profile intervals do not import ``scipy.optimize``.

The step rules are those of ``scipy.optimize.brentq`` (Brent 1973, as in SciPy's ``brentq.c``:
inverse quadratic extrapolation or a secant step when it is short enough, else bisection), in
Python. Importing ``scipy.optimize`` costs about 0.2 s, one seventh of the default ``lists`` run;
it is needed only when a table's zeros call for the existence linear programme. The step rules are
kept identical so the answer is the same number, to the last bit (tests/test_roots.py compares).

References
----------
Brent, R. P. (1973). *Algorithms for Minimization without Derivatives*, chapter 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["brentq"]


def brentq(f: Callable[[float], float], a: float, b: float, xtol: float = 2e-12,
           rtol: float = 8.881784197001252e-16, maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` differ in sign.

    Stops when the bracket is narrower than ``xtol + rtol * |x|``; raises ``RuntimeError`` after
    ``maxiter`` steps and ``ValueError`` when the ends do not bracket a root or ``f`` is NaN.
    """
    x_prev, x_cur = float(a), float(b)
    f_prev, f_cur = _value(f, x_prev), _value(f, x_cur)
    if f_prev == 0:
        return x_prev
    if f_cur == 0:
        return x_cur
    if math.copysign(1.0, f_prev) == math.copysign(1.0, f_cur):
        raise ValueError("f(a) and f(b) must have different signs")
    x_blk = f_blk = step_prev = step_cur = 0.0
    for _ in range(maxiter):
        if f_prev != 0 and f_cur != 0 and math.copysign(1.0, f_prev) != math.copysign(1.0, f_cur):
            x_blk, f_blk = x_prev, f_prev  # the far end of the bracket
            step_prev = step_cur = x_cur - x_prev
        if abs(f_blk) < abs(f_cur):  # keep the better end as the current point
            x_prev, x_cur, x_blk = x_cur, x_blk, x_cur
            f_prev, f_cur, f_blk = f_cur, f_blk, f_cur
        delta = (xtol + rtol * abs(x_cur)) / 2
        half = (x_blk - x_cur) / 2
        if f_cur == 0 or abs(half) < delta:
            return x_cur
        step_prev, step_cur = _next_step(x_prev, x_cur, x_blk, f_prev, f_cur, f_blk, step_prev, step_cur, half, delta)
        x_prev, f_prev = x_cur, f_cur
        x_cur += step_cur if abs(step_cur) > delta else (delta if half > 0 else -delta)
        f_cur = _value(f, x_cur)
    raise RuntimeError(f"Brent's method did not converge in {maxiter} steps")


def _next_step(x_prev: float, x_cur: float, x_blk: float, f_prev: float, f_cur: float, f_blk: float,
               step_prev: float, step_cur: float, half: float, delta: float) -> tuple[float, float]:
    """(previous step, this step): an interpolation step when it is short enough, else bisection."""
    if abs(step_prev) > delta and abs(f_cur) < abs(f_prev):
        if x_prev == x_blk:  # secant
            trial = -f_cur * (x_cur - x_prev) / (f_cur - f_prev)
        else:  # inverse quadratic
            slope_prev = (f_prev - f_cur) / (x_prev - x_cur)
            slope_blk = (f_blk - f_cur) / (x_blk - x_cur)
            trial = -f_cur * (f_blk * slope_blk - f_prev * slope_prev) / (slope_blk * slope_prev * (f_blk - f_prev))
        if 2 * abs(trial) < min(abs(step_prev), 3 * abs(half) - delta):
            return step_cur, trial
    return half, half


def _value(f: Callable[[float], float], x: float) -> float:
    value = float(f(x))
    if math.isnan(value):
        raise ValueError(f"the function is NaN at {x!r}")
    return value

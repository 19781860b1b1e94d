"""hiddenrate.core.roots.brentq takes SciPy's steps, so the profile intervals did not move when it
replaced ``scipy.optimize.brentq`` (imported only to save start-up time, see its docstring)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq as scipy_brentq

from hiddenrate.core.roots import brentq

CASES = [
    (lambda x: x * x - 2.0, 0.0, 2.0, 2e-12, 8.881784197001252e-16),
    (lambda x: math.cos(x) - x, 0.0, 1.0, 1e-14, 1e-15),
    (lambda x: math.exp(x) - 1e6, 0.0, 50.0, 1e-10, 1e-13),
    (lambda x: (x - 0.3) ** 3 + 1e-4 * (x - 0.3), -1.0, 4.0, 1e-12, 1e-14),  # nearly flat: many bisections
    (lambda x: math.log(x) - 3.0 + 0.001 * x, 1.0, 1e5, 1e-10 * 1e5, 1e-13),
    (lambda x: 1.0 if x > 0.123456 else -1.0, -5.0, 5.0, 1e-12, 1e-14),  # a step: bisection only
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_same_root_as_scipy_to_the_last_bit(case: int) -> None:
    """The same step rules in the same floating-point order give the same iterate, bit for bit."""
    f, a, b, xtol, rtol = CASES[case]
    assert brentq(f, a, b, xtol=xtol, rtol=rtol) == scipy_brentq(f, a, b, xtol=xtol, rtol=rtol)
    assert brentq(f, b, a, xtol=xtol, rtol=rtol) == scipy_brentq(f, b, a, xtol=xtol, rtol=rtol)


def test_profile_like_functions_agree_with_scipy() -> None:
    """Deviance-excess curves like those of the profile intervals (smooth, convex, crossing once)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        scale, peak = rng.uniform(0.1, 50), rng.uniform(10, 1e5)

        def excess(x: float, scale: float = scale, peak: float = peak) -> float:
            return scale * (math.log(x / peak) ** 2) - 1.92

        high = peak * math.exp(math.sqrt(1.92 / scale)) * 2
        assert brentq(excess, peak, high, xtol=1e-10 * high, rtol=1e-13) == scipy_brentq(
            excess, peak, high, xtol=1e-10 * high, rtol=1e-13)


def test_refuses_what_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: math.nan, -1.0, 1.0)
    with pytest.raises(RuntimeError, match="did not converge"):
        brentq(lambda x: 1.0 if x > 0.123456 else -1.0, -5.0, 5.0, maxiter=3)

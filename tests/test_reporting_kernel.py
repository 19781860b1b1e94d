"""The hand-written pooled-reporting log density (nutpie callback) equals the PyTensor model's.

Why these numbers are right: the kernel computes the PyTensor model's log density less the data's
combinatorial constant sum_s log C(m_s, r_s) - log y_s! (no parameter in it), so after adding
that constant back the two must agree to rounding error at any point, and so must their
gradients. The reference is the function the kernel replaces: PyTensor's log density and
gradient as nutpie compiles them (with PyTensor's rewrites, e.g. a stable log-sigmoid). Log
densities are compared as differences from a base point, as the sampler uses them; the constant
itself is checked separately. The points are drawn at three scales (0.3, 1.5 and 4 on the
unconstrained scale: 4 puts spreads at e^-4 to e^4 and reporting rates near 0 or 1), on data
with and without surveys, zero counts, near-identical strata, and a Normal prior on the mean
log incidence. A relative error of 1e-10 is far above double-precision rounding (measured:
below 2e-14) and far below any error of a wrong derivative.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from hiddenrate.models.sampling.nutpie_callback import evaluate
from hiddenrate.models.sampling.reporting_kernel import kernel_installed, log_density_and_gradient
from hiddenrate.models.reporting.pooled import DEFAULT_PRIORS, _compiled, sampler_inputs
from kernel_agreement import worst_difference

NORMAL_MEAN = {**DEFAULT_PRIORS, "log_incidence_mean": {"dist": "normal", "mu": 2.0, "sigma": 3.0},
               "logit_rate_mean": {"dist": "normal", "mu": -1.0, "sigma": 0.7}}
CASES = [  # two shapes (each compiles a model), two data sets each
    # recorded, surveyed, reported, priors
    # varied strata: zero counts, no survey, mixed parameterisation weights
    ([12, 0, 40, 3, 150, 7, 0, 22], [400, 300, 200, 150, 100, 50, 0, 0], [90, 80, 60, 20, 40, 10, 0, 0], DEFAULT_PRIORS),
    # near-identical strata: spreads near 0, every stratum non-centred
    ([300, 280, 310, 295, 305, 290, 299, 301], [200] * 8, [50, 52, 48, 51, 49, 50, 50, 51], DEFAULT_PRIORS),
    # no survey at all, informative priors
    ([5, 9, 2], [0, 0, 0], [0, 0, 0], NORMAL_MEAN),
    ([30, 0, 4], [120, 0, 60], [45, 0, 2], NORMAL_MEAN),
]


def _constant(inputs: dict) -> float:
    """The data's combinatorial constant, which the kernel leaves out."""
    y, m, r = (np.asarray(inputs[name], float) for name in ("recorded", "surveyed", "reported"))
    return float(np.sum(gammaln(m + 1) - gammaln(r + 1) - gammaln(m - r + 1) - gammaln(y + 1)))


@pytest.mark.parametrize("recorded,surveyed,reported,priors", CASES)
def test_kernel_matches_the_pytensor_model(recorded: list, surveyed: list, reported: list, priors: dict) -> None:
    n = len(recorded)
    inputs = sampler_inputs(np.array(recorded), np.array(surveyed), np.array(reported), priors)
    reference = _compiled(n, priors, kernel=False).with_data(**inputs)
    compiled = _compiled(n, priors).with_data(**inputs)
    assert kernel_installed(compiled), "the sampler would use PyTensor's gradient, not the kernel"
    base = np.zeros(4 + 2 * n)  # the sampler's typical starting region
    # the constant the kernel leaves out (PyTensor's build evaluates log-gamma to about 1e-9)
    assert evaluate(reference, base)[1] - evaluate(compiled, base)[1] == pytest.approx(_constant(inputs), rel=1e-8, abs=1e-7)
    worst, compared = worst_difference(reference, compiled, lambda x: log_density_and_gradient(priors, x, inputs),
                                       np.random.default_rng(sum(recorded)), (0.3, 1.5, 4.0), base=base)
    assert compared >= 30, f"only {compared} of 45 points had a finite density"
    print(f"{n} strata: {compared} points compared, worst relative difference {worst:.1e}")
    assert worst < 1e-10, f"kernel and PyTensor model differ by {worst:.2e} (relative)"


def test_kernel_reads_the_swapped_data() -> None:
    """The kernel sees the data of each ``with_data`` (not the first), every array of them."""
    base = _compiled(3, NORMAL_MEAN)
    x = np.random.default_rng(1).normal(scale=0.5, size=10)
    first = sampler_inputs(np.array([10, 20, 30]), np.array([100, 0, 50]), np.array([30, 0, 10]), NORMAL_MEAN)
    second = sampler_inputs(np.array([40, 2, 7]), np.array([80, 60, 0]), np.array([8, 30, 0]), NORMAL_MEAN)
    for inputs in (first, second):
        compiled = base.with_data(**inputs)
        assert kernel_installed(compiled)
        _, logp, grad = evaluate(compiled, x)
        expected_logp, expected_grad = log_density_and_gradient(NORMAL_MEAN, x, inputs)
        assert logp == pytest.approx(expected_logp, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)

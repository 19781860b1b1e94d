"""The hand-written Bayesian log-linear log density (nutpie callback) equals the PyTensor model's.

Why these numbers are right: the kernel computes the PyTensor model's log density less the data's
constant -sum_c log n_c! (no parameter in it), so log-density differences between points, and
gradients, must agree with PyTensor's to rounding error; the constant is checked separately.
The reference is the function the kernel replaces: PyTensor's log density and gradient as
nutpie compiles them. Points are drawn at three scales (0.3, 1 and 3 on the log scale, around
the sampler's start), on three specifications: independence on 3 lists (flat intercept);
every pair on 3 lists; and 5 lists with two interactions, one of them fixed by a sigma = 0
prior, and a Normal intercept prior. A relative error of 1e-10 is far above double-precision
rounding and far below any error of a wrong derivative.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from hiddenrate.models.lists.bayes_loglinear_core import _compiled_model, linear_parts, loglinear_priors
from hiddenrate.models.sampling.bayes_loglinear_kernel import kernel_installed, log_density_and_gradient
from hiddenrate.core.design import normalize_terms
from hiddenrate.models.sampling.nutpie_callback import evaluate
from kernel_agreement import worst_difference

SPECS = [
    (3, (), None),
    (3, ((0, 1), (0, 2), (1, 2)), None),
    (5, ((0, 1), (2, 4)), {"intercept": {"mu": 7.0, "sigma": 3.0}, "interaction:2,4": {"mu": 0.4, "sigma": 0.0}}),
]


@pytest.mark.parametrize("k,terms,overrides", SPECS)
def test_kernel_matches_the_pytensor_model(k: int, terms: tuple, overrides: dict | None) -> None:
    terms = normalize_terms(terms)
    priors = loglinear_priors(k, terms, overrides)
    rng = np.random.default_rng(k + len(terms))
    counts = rng.integers(0, 400, size=2 ** k - 1)
    counts[-1] = 0  # a zero cell
    offset = float(np.log(counts.sum() / counts.size))
    inputs = {"observed_counts": counts, "intercept_offset": offset}
    reference = _compiled_model(k, terms, priors, kernel=False).with_data(**inputs)
    compiled = _compiled_model(k, terms, priors).with_data(**inputs)
    assert kernel_installed(compiled), "the sampler would use PyTensor's gradient, not the kernel"
    base = np.zeros(compiled.n_dim)
    constant = -float(np.sum(gammaln(counts + 1.0)))  # the constant the kernel leaves out
    assert evaluate(reference, base)[1] - evaluate(compiled, base)[1] == pytest.approx(constant, rel=1e-8, abs=1e-7)
    worst, compared = worst_difference(reference, compiled,
                                       lambda x: log_density_and_gradient(linear_parts(k, terms, priors), priors["intercept"], x, counts, offset),
                                       rng, (0.3, 1.0, 3.0), base=base)
    print(f"{k} lists, {len(terms)} terms: {compared} points compared, worst relative difference {worst:.1e}")
    assert compared >= 30, f"only {compared} of 45 points had a finite density"
    assert worst < 1e-10, f"kernel and PyTensor model differ by {worst:.2e} (relative)"


def test_kernel_reads_the_swapped_data() -> None:
    """The kernel sees the counts and offset of each ``with_data`` (not the first)."""
    priors = loglinear_priors(3, ())
    base = _compiled_model(3, (), priors)
    x = np.random.default_rng(1).normal(scale=0.5, size=4)
    for counts in (np.array([10, 20, 5, 30, 4, 6, 1]), np.array([100, 2, 50, 7, 40, 0, 3])):
        offset = float(np.log(counts.sum() / 7))
        compiled = base.with_data(observed_counts=counts, intercept_offset=offset)
        assert kernel_installed(compiled)
        _, logp, grad = evaluate(compiled, x)
        expected_logp, expected_grad = log_density_and_gradient(linear_parts(3, (), priors), priors["intercept"], x, counts, offset)
        assert logp == pytest.approx(expected_logp, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)

"""The hand-written latent-class log densities (nutpie callback; Gibbs-HMC's sparse one) equal the model's.

Why these numbers are right: both functions compute the same log density (up to no constant:
the PyTensor model uses Flat priors plus Potentials, exactly the terms the kernel adds), so at
any point they must agree to rounding error, and so must their gradients. The points are drawn
at three scales (0.5, 2, 6 on the unconstrained scale; 6 gives capture probabilities within
0.0025 of 0 or 1 and stick lengths up to e^6), on several shapes (lists x classes), including
one class (no sticks) and a user prior. A relative error of 1e-10 is far above double-precision
rounding (measured: below 1e-14) and far below any error of a wrong derivative.
"""

from __future__ import annotations

import numpy as np
import pytest

from hiddenrate.models.lists.latent_class_core import _build_model, _compiled, latent_priors
from hiddenrate.models.sampling.latent_class_kernel import kernel_installed, log_density_and_gradient
from hiddenrate.models.sampling.nutpie_callback import evaluate

SHAPES = [(5, 10, None), (3, 10, None), (4, 2, {"alpha": {"shape": 1.0, "rate": 2.0}, "capture": {"a": 2.0, "b": 0.5}}),
          (6, 4, None), (3, 1, None)]


def _pytensor_logp(k: int, classes: int, priors: dict, counts: np.ndarray):  # type: ignore[no-untyped-def]
    """The log density and gradient of the PyTensor model itself, without the kernel.

    Compiled in PyTensor's FAST_COMPILE mode (Python implementations, no C or numba build):
    slow per call, quick to build, and independent of nutpie.
    """
    import pymc as pm
    import pytensor

    model = _build_model(k, classes, priors)
    model.set_data("observed_counts", counts)
    values = model.value_vars
    logp = model.logp()
    function = pytensor.function(values, [logp, *pm.gradient(logp, values)], mode="FAST_COMPILE")
    sizes = [int(np.prod(model.initial_point()[v.name].shape)) for v in values]
    shapes = [model.initial_point()[v.name].shape for v in values]

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        parts = np.split(x, np.cumsum(sizes)[:-1])
        value, *gradients = function(*[p.reshape(shape) for p, shape in zip(parts, shapes)])
        return float(value), np.concatenate([np.ravel(g) for g in gradients])

    return evaluate


@pytest.mark.parametrize("k,classes,overrides", SHAPES)
def test_kernel_matches_the_pytensor_model(k: int, classes: int, overrides: dict | None) -> None:
    priors = latent_priors(overrides)
    rng = np.random.default_rng(100 * k + classes)
    counts = rng.integers(0, 60, size=2 ** k - 1).astype(float)
    reference = _pytensor_logp(k, classes, priors, counts)
    compiled = _compiled(k, classes, priors).with_data(observed_counts=counts)
    assert kernel_installed(compiled), "the sampler would use PyTensor's gradient, not the kernel"
    worst = 0.0
    for scale in (0.5, 2.0, 6.0):
        for _ in range(15):
            x = rng.normal(scale=scale, size=classes * k + classes - 1)
            expected_logp, expected_grad = reference(x)
            python_logp, python_grad = log_density_and_gradient(k, classes, priors, x, counts)
            code, callback_logp, callback_grad = evaluate(compiled, x)
            assert code == 0
            size = max(1.0, abs(float(expected_logp)))
            gradient_size = max(1.0, float(np.max(np.abs(expected_grad))))
            worst = max(worst, abs(python_logp - expected_logp) / size, abs(callback_logp - expected_logp) / size,
                        float(np.max(np.abs(python_grad - expected_grad))) / gradient_size,
                        float(np.max(np.abs(callback_grad - expected_grad))) / gradient_size)
    assert worst < 1e-10, f"kernel and PyTensor model differ by {worst:.2e} (relative)"


def test_kernel_is_installed_and_reads_the_swapped_counts() -> None:
    """The sampler uses the kernel, and the kernel sees the counts of each ``with_data`` (not the first)."""
    priors = latent_priors(None)
    base = _compiled(3, 10, priors)
    first = base.with_data(observed_counts=np.arange(1.0, 8.0))
    second = base.with_data(observed_counts=np.arange(1.0, 8.0) * 3)
    assert kernel_installed(first) and kernel_installed(second)
    x = np.random.default_rng(1).normal(size=10 * 3 + 9)
    _, logp_first, _ = evaluate(first, x)
    _, logp_second, _ = evaluate(second, x)
    expected_first, _ = log_density_and_gradient(3, 10, priors, x, np.arange(1.0, 8.0))
    expected_second, _ = log_density_and_gradient(3, 10, priors, x, np.arange(1.0, 8.0) * 3)
    assert logp_first == pytest.approx(expected_first, rel=1e-12)
    assert logp_second == pytest.approx(expected_second, rel=1e-12)


@pytest.mark.parametrize("k,classes,overrides", [*SHAPES, (8, 10, None)])
def test_sparse_kernel_matches_the_full_kernel(k: int, classes: int, overrides: dict | None) -> None:
    """The Gibbs-HMC sampler's kernel visits only the occupied cells and sums 1 - pi_0 class by
    class; it is the same function as the full kernel (checked above against PyTensor), so the
    two must agree to rounding error at any point, on tables with many empty cells (half the
    cells set to 0 here; 8 lists as the sparse New Orleans table). Measured worst: 6e-15."""
    from hiddenrate.models.sampling.latent_class_kernel import _make_sparse_kernel

    priors = latent_priors(overrides)
    rng = np.random.default_rng(7 * k + classes)
    counts = rng.integers(0, 60, size=2 ** k - 1).astype(float)
    counts[rng.random(counts.size) < 0.5] = 0.0
    cells = np.flatnonzero(counts) + 1
    sparse = _make_sparse_kernel(k, classes, priors)
    worst = 0.0
    for scale in (0.5, 2.0, 6.0):
        for _ in range(10):
            x = rng.normal(scale=scale, size=classes * k + classes - 1)
            expected_logp, expected_grad = log_density_and_gradient(k, classes, priors, x, counts)
            grad = np.zeros_like(expected_grad)
            logp = sparse(x, cells, counts[cells - 1], NO_SURVEY, NO_SURVEY_COUNTS, NO_SURVEY_COUNTS, grad)
            worst = max(worst, abs(logp - expected_logp) / max(1.0, abs(expected_logp)),
                        float(np.max(np.abs(grad - expected_grad))) / max(1.0, float(np.max(np.abs(expected_grad)))))
    assert worst < 1e-10, f"sparse and full kernels differ by {worst:.2e} (relative)"


NO_SURVEY = np.zeros(0, dtype=np.int64)
NO_SURVEY_COUNTS = np.zeros(0)


@pytest.mark.parametrize("k,classes", [(3, 4), (5, 10)])
def test_survey_term_of_the_sparse_kernel(k: int, classes: int) -> None:
    """A survey of list k (h respondents on it, m not) adds h log p_k + m log(1 - p_k), with
    p_k = sum_j w_j lambda_jk computed here directly from the parameters; its gradient must match
    central finite differences of the kernel (step 1e-6: error about 1e-8 relative)."""
    from hiddenrate.models.sampling.latent_class_kernel import _make_sparse_kernel

    priors = latent_priors(None)
    rng = np.random.default_rng(11 * k + classes)
    counts = rng.integers(1, 40, size=2 ** k - 1).astype(float)
    cells = np.arange(1, 2 ** k)
    lists, hits, misses = np.array([0, k - 1]), np.array([112.0, 35.0]), np.array([188.0, 400.0])
    kernel = _make_sparse_kernel(k, classes, priors)
    for _ in range(5):
        x = rng.normal(size=classes * k + classes - 1)
        grad = np.zeros_like(x)
        logp = kernel(x, cells, counts, lists, hits, misses, grad)
        base = kernel(x, cells, counts, NO_SURVEY, NO_SURVEY_COUNTS, NO_SURVEY_COUNTS, np.zeros_like(x))
        capture = 1.0 / (1.0 + np.exp(-x[:classes * k].reshape(classes, k)))
        sticks = np.exp(x[classes * k:])
        v = np.append(-np.expm1(-sticks), 1.0)
        weights = v * np.concatenate([[1.0], np.cumprod(np.exp(-sticks))])
        p = weights @ capture
        expected = base + float(np.sum(hits * np.log(p[lists]) + misses * np.log1p(-p[lists])))
        assert logp == pytest.approx(expected, rel=1e-12)
        for i in range(x.size):
            up, down = x.copy(), x.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            numeric = (kernel(up, cells, counts, lists, hits, misses, np.zeros_like(x))
                       - kernel(down, cells, counts, lists, hits, misses, np.zeros_like(x))) / 2e-6
            assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-5)

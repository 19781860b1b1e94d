r"""Hand-written log density and gradient of the Bayesian log-linear model, as a nutpie C callback.

Why this exists
---------------
The model of :mod:`hiddenrate.models.lists.bayes_loglinear_core` is small (one parameter per term),
so the fixed cost of each call of PyTensor's generated function dominates a fit; the loop below
computes the same numbers without allocating. As for the other kernels
(:mod:`hiddenrate.models.sampling.nutpie_callback`), the PyTensor model still supplies the variable
layout, the initial points and the expansion, only ``compiled_logp_func`` is replaced, and only
when nutpie's layout is the expected one. ``tests/test_bayes_loglinear_kernel.py`` checks that
the two functions agree to rounding error.

The density
-----------
Unconstrained parameters, in nutpie's order: the raw intercept :math:`r` (``_intercept_raw``),
then the free main effects and interactions :math:`\beta` (``main_effect``, ``interaction``).
With the offset :math:`o` (data), the fixed part :math:`f_c` of the terms whose prior has
``sigma = 0``, and the free columns :math:`X` of the design matrix,

.. math::

    \eta_c = o + r + f_c + \sum_j X_{cj}\beta_j, \qquad
    \log p = \sum_{c \ne 0} (n_c \eta_c - e^{\eta_c}) + \sum_j \log\mathcal N(\beta_j; \mu_j, \sigma_j)
             + \log\mathcal N(r; \mu_0 - o, \sigma_0)\ [\text{Normal intercept prior}],

the PyTensor model's log density without :math:`-\sum_c \log n_c!` (a constant of the data).
Gradient: :math:`\partial_r = \sum_c (n_c - e^{\eta_c})` (plus the intercept prior's term),
:math:`\partial_{\beta_j} = \sum_c X_{cj}(n_c - e^{\eta_c}) - (\beta_j - \mu_j)/\sigma_j^2`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from hiddenrate.models.sampling.jit_cache import file_digest
from hiddenrate.models.sampling.nutpie_callback import (
    compile_callback,
    data_pointer_words,
    finish,
    is_installed,
    kernel_jit,
)

__all__ = ["install_kernel", "kernel_installed", "log_density_and_gradient"]

#: (columns, fixed part, prior means, prior sds, mask of free terms) of the linear predictor
LinearParts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_KERNELS: dict[tuple[Any, ...], Any] = {}
_KERNELS_LOCK = threading.Lock()
SOURCE_DIGEST = file_digest(__file__)
address_as_void_pointer: Any = None  # nutpie's intrinsic, bound by _c_callback


def _make_python_kernel(parts: LinearParts, intercept: Mapping[str, Any]) -> Any:
    """The log density and gradient as ``f(x, counts, offset, grad) -> logp`` (numba-compatible).

    ``parts`` is the model's linear predictor split by prior (``linear_parts`` of
    :mod:`hiddenrate.models.lists.bayes_loglinear_core`), ``intercept`` the intercept's prior.
    """
    columns, fixed_part, mu, sigma, free = parts
    design = np.ascontiguousarray(columns[:, free], dtype=np.float64)
    fixed = np.ascontiguousarray(fixed_part, dtype=np.float64)
    mu_free, sigma_free = mu[free].astype(np.float64), sigma[free].astype(np.float64)
    prior_const = float(np.sum(-_HALF_LOG_TWO_PI - np.log(sigma_free)))
    spec = intercept
    flat = spec["dist"] == "flat"
    mu_0 = 0.0 if flat else float(spec["mu"])
    sigma_0 = 1.0 if flat else float(spec["sigma"])
    const_0 = 0.0 if flat else -_HALF_LOG_TWO_PI - math.log(sigma_0)
    n_cells, n_free = design.shape

    def kernel(x: np.ndarray, counts: np.ndarray, offset: float, grad: np.ndarray) -> float:
        raw = x[0]
        logp = prior_const
        for j in range(n_free):
            z = (x[1 + j] - mu_free[j]) / sigma_free[j]
            logp -= 0.5 * z * z
            grad[1 + j] = -z / sigma_free[j]
        grad_raw = 0.0
        if not flat:
            z = (raw - (mu_0 - offset)) / sigma_0
            logp += const_0 - 0.5 * z * z
            grad_raw = -z / sigma_0
        for c in range(n_cells):
            eta = offset + raw + fixed[c]
            for j in range(n_free):
                eta += design[c, j] * x[1 + j]
            mean = math.exp(eta)
            logp += counts[c] * eta - mean
            residual = counts[c] - mean
            grad_raw += residual
            for j in range(n_free):
                grad[1 + j] += design[c, j] * residual
        grad[0] = grad_raw
        return logp

    return kernel, n_cells, n_free


def log_density_and_gradient(parts: LinearParts, intercept: Mapping[str, Any], x: np.ndarray,
                             counts: np.ndarray, offset: float) -> tuple[float, np.ndarray]:
    """Evaluate the kernel in Python (no numba): the reference the tests compare the callback with.

    ``x`` holds the raw intercept then the free terms; ``counts`` the ``2**k - 1`` observed
    cells; ``offset`` the intercept offset. Returns the log density without the data's constant
    :math:`-\\sum_c \\log n_c!`, and its gradient.
    """
    kernel, _, n_free = _make_python_kernel(parts, intercept)
    grad = np.zeros(1 + n_free)
    logp = kernel(np.asarray(x, float), np.asarray(counts, float), float(offset), grad)
    return logp, grad


def kernel_installed(compiled: Any) -> bool:
    """Whether ``compiled`` evaluates its log density with this module's kernel (False: PyTensor's)."""
    return is_installed(compiled, _KERNELS)


def install_kernel(compiled: Any, key: tuple[Any, ...], parts: LinearParts, intercept: Mapping[str, Any]) -> Any:
    """Return ``compiled`` (a nutpie ``CompiledPyMCModel``) with its log density replaced by the kernel.

    Only when nutpie's model has the expected layout (``_intercept_raw`` first, then the free
    terms; the counts as int32 and the offset as the only data); otherwise ``compiled`` is
    returned unchanged. ``key`` names the model's structure (one compiled kernel per key).
    """

    kernel, n_cells, n_free = _make_python_kernel(parts, intercept)
    names = ("observed_counts", "intercept_offset")
    words = data_pointer_words(compiled.user_data, names)
    shared = getattr(compiled, "shared_data", {})
    if (words is None or shared.get("observed_counts") is None or shared["observed_counts"].dtype != np.int32
            or shared["intercept_offset"].dtype != np.float64 or list(compiled.shape_info[0][:1]) != ["_intercept_raw"]
            or int(compiled.n_dim) != 1 + n_free or not hasattr(compiled, "compiled_logp_func")):
        return compiled
    with _KERNELS_LOCK:
        if key not in _KERNELS:
            jitted = kernel_jit(SOURCE_DIGEST, key)(kernel)
            _KERNELS[key] = _c_callback(jitted, 1 + n_free, n_cells, words["observed_counts"], words["intercept_offset"],
                                        key)
        return dataclasses.replace(compiled, compiled_logp_func=_KERNELS[key])


def _c_callback(kernel: Any, n_dim: int, n_cells: int, word_counts: int, word_offset: int, key: Any) -> Any:
    import numba
    # nutpie's own intrinsic, as its callbacks use; bound as a module global, not a closure cell: numba
    # keys a cached callback on its cells, and an intrinsic pickles differently in every process
    global address_as_void_pointer
    from nutpie.compile_pymc import address_as_void_pointer

    n_words = max(word_counts, word_offset) + 1

    end = finish()

    def logp_callback(dim: int, x_: Any, out_: Any, logp_: Any, user_data_: Any) -> int:
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, (1,))
        record = numba.carray(user_data_, (n_words,), np.uint64)
        counts = numba.carray(address_as_void_pointer(record[word_counts]), (n_cells,), np.int32)
        offset = numba.carray(address_as_void_pointer(record[word_offset]), (1,), np.float64)[0]
        return end(kernel(x, counts, offset, out), out, logp)

    return compile_callback(logp_callback, SOURCE_DIGEST, (key, word_counts, word_offset))

r"""Hand-written log density and gradient of the joint model of :mod:`hiddenrate.models.combine.core`.

Why this exists
---------------
The joint model is small (one parameter per list and per interaction, plus two), so the fixed
cost of each call of PyTensor's generated function dominates a fit; the loop below computes the
same numbers without allocating. As for the other kernels
(:mod:`hiddenrate.models.sampling.nutpie_callback`), the PyTensor model still supplies the variable
layout, the initial points and the expansion; only ``compiled_logp_func`` is replaced, and only
when nutpie's layout is the expected one. ``tests/test_combine_kernel.py`` checks that the two
functions agree to rounding error.

The density (notation of :mod:`hiddenrate.models.combine.core`)
-----------------------------------------------------------------
Unconstrained parameters, in nutpie's order: :math:`r` (``_log_observed_raw``), the main
effects and log odds ratios :math:`\theta` (``main_effect``, ``log_odds_ratio``), and
:math:`t` (``_logit_prevalence``). With :math:`L = o + r`, :math:`\eta_c = x_c^\top\theta`
(:math:`\eta_0 = 0`), :math:`\log S = \operatorname{logsumexp}_{c \ne 0}\eta_c`,
:math:`\log Z = \log(1 + S)`, :math:`\pi_c = e^{\eta_c - \log Z}`,
:math:`P_j = \sum_{c:\,c_j = 1}\pi_c`, :math:`Q_j = \sum_{c:\,c_j = 0}\pi_c`,
:math:`\log q = \log\sigma(t)` and :math:`e = (L + \log Z - \log S - \log q - \mu_P)/\sigma_P`,

.. math::

    \log p = \sum_j \log\mathcal N(\theta_j) + \sum_{c \ne 0} n_c\eta_c - n\log S + nL - e^L
           + \sum_j \bigl(r_j \log P_j + (m_j - r_j)\log Q_j\bigr)
           - \tfrac12 R e^2 + a\log q + b\log(1 - q),

with :math:`R` the route switch (data). Gradient, with :math:`s_c = e^{\eta_c - \log S}`,
:math:`h_c = \sum_j (r_j [c_j = 1]/P_j + (m_j - r_j)[c_j = 0]/Q_j)` and
:math:`g = -R e/\sigma_P`:
:math:`\partial_{\eta_c} = n_c - n s_c + \pi_c (h_c - \sum_d \pi_d h_d) + g(\pi_c - s_c)`,
:math:`\partial_r = n - e^L + g`, :math:`\partial_\theta = X^\top\partial_\eta` plus the priors',
:math:`\partial_t = (a - g)(1 - q) - b q`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
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

__all__ = ["DATA_NAMES", "install_kernel", "kernel_installed", "log_density_and_gradient"]

#: The model's data: scalars, then the per-cell and per-list arrays; the odds-ratio prior only with terms
DATA_NAMES = ("n_observed", "offset", "main_mu", "main_sigma", "route_on", "population_mu", "population_sigma",
              "prevalence_a", "prevalence_b", "odds_mu", "odds_sigma", "observed_counts", "surveyed", "reported")
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_KERNELS: dict[tuple[int, Any], Any] = {}
_KERNELS_LOCK = threading.Lock()
SOURCE_DIGEST = file_digest(__file__)
address_as_void_pointer: Any = None  # nutpie's intrinsic, bound by _c_callback


def _make_python_kernel(k: int, terms: Any) -> Any:
    """The log density and gradient as ``f(x, scalars, counts, surveyed, reported, grad) -> logp``.

    ``scalars``: the first 11 entries of :data:`DATA_NAMES`, in order (the odds-ratio prior's
    ignored without terms). Numba-compatible.
    """
    from hiddenrate.core.design import design_matrix, patterns
    design = np.ascontiguousarray(design_matrix(k, terms)[:, 1:], dtype=np.float64)  # row 0: on no list
    on = np.ascontiguousarray(patterns(k), dtype=np.float64)  # (cells, k)
    n_cells, n_theta = design.shape

    def kernel(x: np.ndarray, scalars: np.ndarray, counts: np.ndarray, surveyed: np.ndarray,
               reported: np.ndarray, grad: np.ndarray) -> float:
        n_obs, offset, main_mu, main_sigma = scalars[0], scalars[1], scalars[2], scalars[3]
        route_on, pop_mu, pop_sigma, prev_a, prev_b = scalars[4], scalars[5], scalars[6], scalars[7], scalars[8]
        odds_mu, odds_sigma = scalars[9], scalars[10]
        logp = 0.0
        for j in range(n_theta):  # Normal priors (main effects, then log odds ratios)
            mu, sigma = (main_mu, main_sigma) if j < k else (odds_mu, odds_sigma)
            z = (x[1 + j] - mu) / sigma
            logp += -_HALF_LOG_TWO_PI - math.log(sigma) - 0.5 * z * z
            grad[1 + j] = -z / sigma
        eta = np.zeros(n_cells)
        for c in range(1, n_cells):
            for j in range(n_theta):
                eta[c] += design[c, j] * x[1 + j]
        largest = eta[1]
        for c in range(2, n_cells):
            largest = max(largest, eta[c])
        acc = 0.0
        for c in range(1, n_cells):
            acc += math.exp(eta[c] - largest)
        log_s = largest + math.log(acc)
        log_z = max(0.0, log_s) + math.log1p(math.exp(-abs(log_s)))  # logaddexp(0, log_s)
        pi = np.empty(n_cells)
        for c in range(n_cells):
            pi[c] = math.exp(eta[c] - log_z)
        log_obs = offset + x[0]
        expected = math.exp(log_obs)
        logp += n_obs * log_obs - expected - n_obs * log_s
        g_eta = np.zeros(n_cells)
        for c in range(1, n_cells):
            logp += counts[c - 1] * eta[c]
            g_eta[c] = counts[c - 1] - n_obs * math.exp(eta[c] - log_s)
        # surveys of the lists' marginal capture probabilities
        h = np.zeros(n_cells)
        for j in range(k):
            hit = 0.0
            miss = 0.0
            for c in range(n_cells):
                if on[c, j] > 0:
                    hit += pi[c]
                else:
                    miss += pi[c]
            if surveyed[j] > 0:
                logp += reported[j] * math.log(hit) + (surveyed[j] - reported[j]) * math.log(miss)
                for c in range(n_cells):
                    h[c] += reported[j] / hit if on[c, j] > 0 else (surveyed[j] - reported[j]) / miss
        mean_h = 0.0
        for c in range(n_cells):
            mean_h += pi[c] * h[c]
        # population route and prevalence
        t = x[1 + n_theta]
        small = math.exp(-abs(t))
        softplus = math.log1p(small)
        log_q = -softplus if t >= 0 else t - softplus
        q = 1.0 / (1.0 + small) if t >= 0 else small / (1.0 + small)
        e = (log_obs + log_z - log_s - log_q - pop_mu) / pop_sigma
        logp += -0.5 * route_on * e * e + prev_a * log_q + prev_b * (log_q - t)
        g_lambda = -route_on * e / pop_sigma
        grad[0] = n_obs - expected + g_lambda
        grad[1 + n_theta] = (prev_a - g_lambda) * (1.0 - q) - prev_b * q
        for c in range(1, n_cells):
            s_c = math.exp(eta[c] - log_s)
            g = g_eta[c] + pi[c] * (h[c] - mean_h) + g_lambda * (pi[c] - s_c)
            for j in range(n_theta):
                grad[1 + j] += design[c, j] * g
        return logp

    return kernel, n_cells, n_theta


def _scalars(data: Any, has_terms: bool) -> np.ndarray:
    names = DATA_NAMES[:11] if has_terms else DATA_NAMES[:9]
    values = [float(np.asarray(data[name])) for name in names]
    return np.array(values + ([] if has_terms else [0.0, 1.0]))


def log_density_and_gradient(k: int, terms: Any, x: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
    """Evaluate the kernel in Python (no numba): the reference the tests compare the callback with.

    ``data`` holds the model's data by name (as passed to ``with_data``); returns the log density
    and its gradient.
    """
    kernel, _, n_theta = _make_python_kernel(k, terms)
    grad = np.zeros(2 + n_theta)
    arrays = [np.asarray(data[name], dtype=float) for name in ("observed_counts", "surveyed", "reported")]
    logp = kernel(np.asarray(x, float), _scalars(data, bool(terms)), *arrays, grad)
    return logp, grad


def kernel_installed(compiled: Any) -> bool:
    """Whether ``compiled`` evaluates its log density with this module's kernel (False: PyTensor's)."""
    return is_installed(compiled, _KERNELS)


def install_kernel(compiled: Any, k: int, terms: Any) -> Any:
    """Return ``compiled`` (a nutpie ``CompiledPyMCModel``) with its log density replaced by the kernel.

    Only when nutpie's model has the expected layout (the variables ``_log_observed_raw``,
    ``main_effect``, [``log_odds_ratio``], ``_logit_prevalence`` in that order; the data of
    :data:`DATA_NAMES`, all float64); otherwise ``compiled`` is returned unchanged.
    """

    kernel, n_cells, n_theta = _make_python_kernel(k, terms)
    names = DATA_NAMES if terms else tuple(n for n in DATA_NAMES if not n.startswith("odds_"))
    parameters = ["_log_observed_raw", "main_effect", *(["log_odds_ratio"] if terms else []), "_logit_prevalence"]
    words = data_pointer_words(compiled.user_data, names)
    shared = getattr(compiled, "shared_data", {})
    if (words is None or any(shared[name].dtype != np.float64 for name in names)
            or list(compiled.shape_info[0][: len(parameters)]) != parameters
            or int(compiled.n_dim) != 2 + n_theta or not hasattr(compiled, "compiled_logp_func")):
        return compiled
    key = (k, tuple(terms))
    with _KERNELS_LOCK:
        if key not in _KERNELS:
            jitted = kernel_jit(SOURCE_DIGEST, key)(kernel)
            _KERNELS[key] = _c_callback(jitted, k, 2 + n_theta, n_cells, [words.get(name, -1) for name in DATA_NAMES],
                                        key)
        return dataclasses.replace(compiled, compiled_logp_func=_KERNELS[key])


def _c_callback(kernel: Any, k: int, n_dim: int, n_cells: int, words: list[int], key: Any) -> Any:
    import numba
    # nutpie's own intrinsic, as its callbacks use; bound as a module global, not a closure cell: numba
    # keys a cached callback on its cells, and an intrinsic pickles differently in every process
    global address_as_void_pointer
    from nutpie.compile_pymc import address_as_void_pointer

    n_words = max(words) + 1
    scalar_words = np.array(words[:11], dtype=np.int64)  # -1: the odds-ratio prior of a model without terms
    w_counts, w_surveyed, w_reported = words[11:]

    end = finish()

    def logp_callback(dim: int, x_: Any, out_: Any, logp_: Any, user_data_: Any) -> int:
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, (1,))
        record = numba.carray(user_data_, (n_words,), np.uint64)
        scalars = np.empty(11)
        for i in range(11):
            word = scalar_words[i]
            if word < 0:
                scalars[i] = 0.0 if i == 9 else 1.0
            else:
                scalars[i] = numba.carray(address_as_void_pointer(record[word]), (1,), np.float64)[0]
        counts = numba.carray(address_as_void_pointer(record[w_counts]), (n_cells - 1,), np.float64)
        surveyed = numba.carray(address_as_void_pointer(record[w_surveyed]), (k,), np.float64)
        reported = numba.carray(address_as_void_pointer(record[w_reported]), (k,), np.float64)
        return end(kernel(x, scalars, counts, surveyed, reported, out), out, logp)

    return compile_callback(logp_callback, SOURCE_DIGEST, (key, words))

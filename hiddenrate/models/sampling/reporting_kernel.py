r"""Hand-written log density and gradient of the pooled reporting model, as a nutpie C callback.

Why this exists
---------------
The pooled model (:mod:`hiddenrate.models.reporting.pooled`) has only ``4 + 2S`` parameters,
but NUTS at ``target_accept = 0.99`` evaluates its gradient tens of times per draw, and the
function PyTensor generates for it costs about 15 microseconds per call on 8 strata, almost all
of it fixed overhead (one small array per operation). The loop below does the same arithmetic
without allocating. The PyTensor model is still compiled: nutpie takes from it the variable
layout, the initial points and the expansion to the named quantities; only
``compiled_logp_func`` is replaced, and only when nutpie's layout is the expected one
(:func:`install_kernel`). ``tests/test_reporting_kernel.py`` checks that the two functions agree
to rounding error at random and extreme points.

The density (notation of :func:`hiddenrate.models.reporting.pooled._build_model`)
-----------------------------------------------------------------------------------
Unconstrained parameters, in nutpie's order: :math:`a` (``logit_rate_mean``),
:math:`x_r = \log\sigma_p` (``logit_rate_sd``), :math:`m_0` (``_log_incidence_mean_raw``),
:math:`x_i = \log\sigma_\lambda` (``log_incidence_sd``), then :math:`\rho_s` (``_rate_raw``)
and :math:`\iota_s` (``_incidence_raw``). With weights :math:`w_s, v_s` and offsets
:math:`o_s, q_s, o_M` (data), :math:`M = o_M + m_0` and per stratum

.. math::

    u_s = \rho_s - w_s (a - o_s), \qquad \theta_s = a + e^{(1 - w_s) x_r} u_s,
    \qquad \ell_s = \log\sigma(\theta_s),

    c_s = M + \ell_s, \qquad z_s = \iota_s - v_s (c_s - q_s), \qquad L_s = c_s + e^{(1 - v_s) x_i} z_s,

the log density is the priors of the four hyperparameters (Normal; half-normal with the
log-transform's Jacobian :math:`+x`; flat or Normal) plus, per stratum,

.. math::

    -\tfrac12 u_s^2 e^{-2 w_s x_r} - w_s x_r - \tfrac12 z_s^2 e^{-2 v_s x_i} - v_s x_i
    + r_s \ell_s + (m_s - r_s) \log\sigma(-\theta_s) + y_s L_s - e^{L_s},

which is the PyTensor model's log density without :math:`\sum_s \log\binom{m_s}{r_s} - \log y_s!`
(a constant of the data; the tests add it back). The gradient is the chain rule through the
lines above, back to front (see the loop).
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

__all__ = ["DATA_NAMES", "install_kernel", "kernel_installed", "log_density_and_gradient"]

#: The model's data arrays, in the order the kernel takes them
DATA_NAMES = ("offset_incidence_mean", "weight_rate", "offset_rate", "weight_incidence", "offset_recorded",
              "recorded", "reported", "surveyed")
_PARAMETERS = ["logit_rate_mean", "logit_rate_sd_log__", "_log_incidence_mean_raw", "log_incidence_sd_log__",
               "_rate_raw", "_incidence_raw"]
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_KERNELS: dict[tuple[int, str], Any] = {}
_KERNELS_LOCK = threading.Lock()
SOURCE_DIGEST = file_digest(__file__)
address_as_void_pointer: Any = None  # nutpie's intrinsic, bound by _c_callback


def _supported(priors: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the kernel implements these prior families (the CLI allows no others)."""
    return (priors["logit_rate_mean"]["dist"] == "normal" and priors["logit_rate_sd"]["dist"] == "halfnormal"
            and priors["log_incidence_mean"]["dist"] in ("flat", "normal")
            and priors["log_incidence_sd"]["dist"] == "halfnormal")


def _make_python_kernel(n_strata: int, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """The log density and gradient as ``f(x, offset_mean, w, o, v, q, y, r, m, grad) -> logp``.

    Numba-compatible: :func:`install_kernel` compiles it; :func:`log_density_and_gradient` runs
    it as Python.
    """
    mu_a, sigma_a = float(priors["logit_rate_mean"]["mu"]), float(priors["logit_rate_mean"]["sigma"])
    sigma_r = float(priors["logit_rate_sd"]["sigma"])
    flat_mean = priors["log_incidence_mean"]["dist"] == "flat"
    mu_m = 0.0 if flat_mean else float(priors["log_incidence_mean"]["mu"])
    sigma_m = 1.0 if flat_mean else float(priors["log_incidence_mean"]["sigma"])
    sigma_i = float(priors["log_incidence_sd"]["sigma"])
    normal_const_a = -_HALF_LOG_TWO_PI - math.log(sigma_a)
    normal_const_m = 0.0 if flat_mean else -_HALF_LOG_TWO_PI - math.log(sigma_m)
    half_const_r = math.log(2.0) - _HALF_LOG_TWO_PI - math.log(sigma_r)
    half_const_i = math.log(2.0) - _HALF_LOG_TWO_PI - math.log(sigma_i)
    s_total = n_strata

    def kernel(x: np.ndarray, offset_mean: float, w: np.ndarray, o: np.ndarray, v: np.ndarray, q: np.ndarray,
               y: np.ndarray, r: np.ndarray, m: np.ndarray, grad: np.ndarray) -> float:
        a, x_r, m0, x_i = x[0], x[1], x[2], x[3]
        # hyperpriors: Normal(a); half-normal on exp(x_r), exp(x_i) plus the log-Jacobian
        z = (a - mu_a) / sigma_a
        logp = normal_const_a - 0.5 * z * z
        grad_a = -z / sigma_a
        tau = math.exp(x_r) / sigma_r
        logp += half_const_r - 0.5 * tau * tau + x_r
        grad_r = 1.0 - tau * tau
        tau = math.exp(x_i) / sigma_i
        logp += half_const_i - 0.5 * tau * tau + x_i
        grad_i = 1.0 - tau * tau
        grad_m = 0.0
        if not flat_mean:
            z = (m0 - (mu_m - offset_mean)) / sigma_m
            logp += normal_const_m - 0.5 * z * z
            grad_m = -z / sigma_m
        mean = offset_mean + m0
        for s in range(s_total):
            ws, vs = w[s], v[s]
            u = x[4 + s] - ws * (a - o[s])
            scale_r = math.exp((1.0 - ws) * x_r)
            precision_r = math.exp(-2.0 * ws * x_r)
            theta = a + scale_r * u
            small = math.exp(-abs(theta))
            softplus = math.log1p(small)
            log_p = -softplus if theta >= 0 else theta - softplus  # log sigmoid(theta)
            p = 1.0 / (1.0 + small) if theta >= 0 else small / (1.0 + small)
            centre = mean + log_p
            zs = x[4 + s_total + s] - vs * (centre - q[s])
            scale_i = math.exp((1.0 - vs) * x_i)
            precision_i = math.exp(-2.0 * vs * x_i)
            log_mu = centre + scale_i * zs
            mu = math.exp(log_mu)
            logp += (-0.5 * u * u * precision_r - ws * x_r - 0.5 * zs * zs * precision_i - vs * x_i
                     + r[s] * log_p + (m[s] - r[s]) * (log_p - theta) + y[s] * log_mu - mu)
            # back to front: log_mu -> zs, centre -> theta -> u -> hyperparameters
            g_log_mu = y[s] - mu
            g_z = g_log_mu * scale_i - zs * precision_i
            grad[4 + s_total + s] = g_z
            g_centre = g_log_mu - vs * g_z
            grad_i += g_log_mu * (1.0 - vs) * scale_i * zs + vs * zs * zs * precision_i - vs
            grad_m += g_centre
            g_theta = g_centre * (1.0 - p) + r[s] - m[s] * p
            g_u = g_theta * scale_r - u * precision_r
            grad[4 + s] = g_u
            grad_a += g_theta - ws * g_u
            grad_r += g_theta * (1.0 - ws) * scale_r * u + ws * u * u * precision_r - ws
        grad[0], grad[1], grad[2], grad[3] = grad_a, grad_r, grad_m, grad_i
        return logp

    return kernel


def log_density_and_gradient(priors: Mapping[str, Mapping[str, Any]], x: np.ndarray,
                             inputs: Mapping[str, Any]) -> tuple[float, np.ndarray]:
    """Evaluate the kernel in Python (no numba): the reference the tests compare the callback with.

    Parameters
    ----------
    priors
        Merged priors of the pooled model.
    x
        Unconstrained parameters in nutpie's order (see the module docstring), ``4 + 2S`` values.
    inputs
        The model's data, as returned by :func:`hiddenrate.models.reporting.pooled.sampler_inputs`.

    Returns
    -------
    (float, numpy.ndarray)
        The log density without the data's combinatorial constant, and its gradient.
    """
    n_strata = len(inputs["recorded"])
    grad = np.zeros(4 + 2 * n_strata)
    arrays = [np.asarray(inputs[name], dtype=float) for name in DATA_NAMES[1:]]
    logp = _make_python_kernel(n_strata, priors)(np.asarray(x, float), float(inputs["offset_incidence_mean"]),
                                                 *arrays, grad)
    return logp, grad


def kernel_installed(compiled: Any) -> bool:
    """Whether ``compiled`` evaluates its log density with this module's kernel (False: PyTensor's)."""
    return is_installed(compiled, _KERNELS)


def install_kernel(compiled: Any, n_strata: int, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """Return ``compiled`` (a nutpie ``CompiledPyMCModel``) with its log density replaced by the kernel.

    Only when nutpie's model has the layout the kernel expects (the variables of
    ``_PARAMETERS`` in that order, the arrays of :data:`DATA_NAMES` with their dtypes: PyMC
    stores integer data as int32) and the
    priors are of the supported families; otherwise ``compiled`` is returned unchanged.
    """
    import json


    words = data_pointer_words(compiled.user_data, DATA_NAMES)
    shared = getattr(compiled, "shared_data", {})
    dtypes_ok = all(name in shared and shared[name].dtype == (np.int32 if name in ("recorded", "reported", "surveyed")
                                                               else np.float64) for name in DATA_NAMES)
    if (words is None or not dtypes_ok or not _supported(priors) or list(compiled.shape_info[0][:6]) != _PARAMETERS
            or int(compiled.n_dim) != 4 + 2 * n_strata or not hasattr(compiled, "compiled_logp_func")):
        return compiled
    key = (n_strata, json.dumps(priors, sort_keys=True))
    with _KERNELS_LOCK:
        if key not in _KERNELS:
            kernel = kernel_jit(SOURCE_DIGEST, key)(_make_python_kernel(n_strata, priors))
            _KERNELS[key] = _c_callback(kernel, n_strata, [words[name] for name in DATA_NAMES], key)
        return dataclasses.replace(compiled, compiled_logp_func=_KERNELS[key])


def _c_callback(kernel: Any, n_strata: int, words: list[int], key: Any) -> Any:
    import numba
    # nutpie's own intrinsic, as its callbacks use; bound as a module global, not a closure cell: numba
    # keys a cached callback on its cells, and an intrinsic pickles differently in every process
    global address_as_void_pointer
    from nutpie.compile_pymc import address_as_void_pointer

    n_dim = 4 + 2 * n_strata
    n_words = max(words) + 1
    w_mean, w_w, w_o, w_v, w_q, w_y, w_r, w_m = words

    end = finish()

    def logp_callback(dim: int, x_: Any, out_: Any, logp_: Any, user_data_: Any) -> int:
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, (1,))
        record = numba.carray(user_data_, (n_words,), np.uint64)
        offset_mean = numba.carray(address_as_void_pointer(record[w_mean]), (1,), np.float64)[0]
        w = numba.carray(address_as_void_pointer(record[w_w]), (n_strata,), np.float64)
        o = numba.carray(address_as_void_pointer(record[w_o]), (n_strata,), np.float64)
        v = numba.carray(address_as_void_pointer(record[w_v]), (n_strata,), np.float64)
        q = numba.carray(address_as_void_pointer(record[w_q]), (n_strata,), np.float64)
        y = numba.carray(address_as_void_pointer(record[w_y]), (n_strata,), np.int32)
        r = numba.carray(address_as_void_pointer(record[w_r]), (n_strata,), np.int32)
        m = numba.carray(address_as_void_pointer(record[w_m]), (n_strata,), np.int32)
        return end(kernel(x, offset_mean, w, o, v, q, y, r, m, out), out, logp)

    return compile_callback(logp_callback, SOURCE_DIGEST, (key, words))

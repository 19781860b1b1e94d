r"""Hand-written log density and gradient of the latent-class model, as a nutpie C callback.

Why this exists
---------------
The latent-class posterior needs deep NUTS trees (``target_accept = 0.99``; 60-180 gradient
evaluations per draw on five lists), so the cost of one evaluation is the cost of a fit. The
gradient that PyTensor generates for the model in :mod:`hiddenrate.models.lists.latent_class_core`
allocates a small array for every operation and took about 25-30 microseconds per evaluation
on five lists and ten classes; the loops below allocate a few work arrays per call and compute
the same numbers in about 9 microseconds. The PyTensor model is still compiled (nutpie takes its
initial points, variable layout and the expansion to ``log_odds_unseen``, ``class_weight`` and
``capture`` from it); only its ``compiled_logp_func`` is replaced. The tests check, at random
and extreme points, that the two functions agree to rounding error
(``tests/test_latent_class_kernel.py``).

The density (same notation as :mod:`hiddenrate.models.lists.latent_class_core`)
------------------------------------------------------------------------
Unconstrained parameters: :math:`z_{jk} = \operatorname{logit}\lambda_{jk}` (classes x lists,
row-major) then :math:`x_j = \log u_j` for :math:`j < K - 1` (log stick lengths). With
:math:`\ell^+ = \log\sigma(z)`, :math:`\ell^- = \log\sigma(-z)`, :math:`S = \sum_j u_j`,

.. math::

    \log p = \sum_{jk} (a \ell^+_{jk} + b \ell^-_{jk})
           + \sum_j x_j - (a_\alpha + K - 1) \log(b_\alpha + S)
           + \sum_{c \ne 0} n_c (\log\pi_c - \log(1 - \pi_0)),

    \log w_j = \log(1 - e^{-u_j})\,[j < K - 1] - \sum_{l < j} u_l, \qquad
    t_{cj} = \log w_j + \sum_k (c_k \ell^+_{jk} + (1 - c_k) \ell^-_{jk}),

:math:`\log\pi_c = \operatorname{logsumexp}_j t_{cj}` and
:math:`\log(1 - \pi_0) = \operatorname{logsumexp}_{c \ne 0} \log\pi_c`.

Gradient. With :math:`n = \sum_{c \ne 0} n_c`, :math:`q_c = \pi_c / (1 - \pi_0)`,
:math:`g_c = n_c - n q_c` and responsibilities :math:`r_{cj} = e^{t_{cj} - \log\pi_c}`:
:math:`W_j = \sum_c g_c r_{cj}` is the derivative with respect to :math:`\log w_j`;

.. math::

    \partial_{z_{jk}} = a\,\sigma(-z_{jk}) - b\,\sigma(z_{jk})
        + \sum_{c \ne 0} g_c r_{cj} (c_k \sigma(-z_{jk}) - (1 - c_k) \sigma(z_{jk})),

    \partial_{x_l} = 1 - (a_\alpha + K - 1) \frac{u_l}{b_\alpha + S}
        + W_l \frac{u_l}{e^{u_l} - 1} - u_l \sum_{j > l} W_j .

The sparse kernel (:func:`_make_sparse_kernel`)
-----------------------------------------------
``f(x, cells, cell_counts, survey_lists, survey_hits, survey_misses, grad) -> logp`` with
``cells`` the observed cells with a positive count and ``cell_counts`` their counts. Instead of summing :math:`\pi_c` over all
:math:`2^k - 1` observed cells, the probability of being seen is summed class by class,
:math:`1 - \pi_0 = \sum_j w_j (1 - u_j)` with :math:`\log u_j = \sum_k \ell^-_{jk}` and
:math:`1 - u_j = -\operatorname{expm1}(\log u_j)` (accurate when :math:`u_j` is near 1), so the
cost is :math:`O(K k)` per occupied cell: the sparse 8-list New Orleans table has 19 of 255.
With :math:`\rho_j = w_j (1 - u_j) / (1 - \pi_0)` the derivative of
:math:`-n \log(1 - \pi_0)` is :math:`-n \rho_j` with respect to :math:`\log w_j` and
:math:`-n\, w_j u_j \sigma(z_{jk}) / (1 - \pi_0)` with respect to :math:`z_{jk}`; an occupied
cell adds :math:`n_c r_{cj}` and :math:`n_c r_{cj} (c_k - \sigma(z_{jk}))`. Used by the
Gibbs-HMC sampler (:mod:`hiddenrate.models.sampling.latent_class_gibbs`); the tests check it against
:func:`log_density_and_gradient`.

Surveys (``survey_lists``, ``survey_hits``, ``survey_misses``: for each survey, the list it
asks about and how many respondents were and were not on it) add
:math:`h \log p_k + m \log(1 - p_k)` with :math:`p_k = \sum_j w_j \lambda_{jk}`, the share
of the population on list k: a respondent is a draw from the population, whose class is
unknown. Its derivatives are those of a cell that fixes only list k: responsibilities
:math:`w_j \lambda_{jk} / p_k` (hits) and :math:`w_j (1 - \lambda_{jk}) / (1 - p_k)` (misses).
"""

from __future__ import annotations

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

#: digest of this file as imported: part of the identity of the Gibbs-HMC sweep in numba's disk cache
SOURCE_DIGEST = file_digest(__file__)
address_as_void_pointer: Any = None  # nutpie's intrinsic, bound by _c_callback

_KERNELS: dict[tuple[int, int, float, float, float, float], Any] = {}
_KERNELS_LOCK = threading.Lock()


def _shared_parts(k: int, classes: int, priors: Mapping[str, Mapping[str, float]], jit: Any) -> tuple[Any, Any]:
    """The two parts both kernels share, each passed through ``jit`` (numba's, or none for Python).

    ``prior_and_weights(x, grad, log_hit, log_miss, sig_pos, log_weight, stick)`` fills the log
    capture probabilities, :math:`\\sigma(z)`, the log weights and the stick lengths, writes the
    priors' gradient with respect to the capture logits into ``grad`` and returns (prior log
    density, :math:`S`). ``stick_gradient(grad, stick, total_stick, weight_grad)`` applies the
    chain rule from :math:`W_j` (derivative with respect to :math:`\\log w_j`) to the log stick
    lengths.
    """
    a_cap, b_cap = float(priors["capture"]["a"]), float(priors["capture"]["b"])
    a_alpha, b_alpha = float(priors["alpha"]["shape"]), float(priors["alpha"]["rate"])
    n_capture = classes * k
    exponent = a_alpha + classes - 1

    def prior_and_weights(x: np.ndarray, grad: np.ndarray, log_hit: np.ndarray, log_miss: np.ndarray,
                          sig_pos: np.ndarray, log_weight: np.ndarray, stick: np.ndarray) -> tuple[float, float]:
        logp = 0.0
        for j in range(classes):
            for kk in range(k):
                z = x[j * k + kk]
                small = math.exp(-abs(z))
                softplus = math.log1p(small)  # log(1 + exp(-|z|))
                log_hit[j, kk] = -softplus if z >= 0 else z - softplus  # log sigmoid(z)
                log_miss[j, kk] = log_hit[j, kk] - z  # log sigmoid(-z)
                sig_pos[j, kk] = 1.0 / (1.0 + small) if z >= 0 else small / (1.0 + small)
                logp += a_cap * log_hit[j, kk] + b_cap * log_miss[j, kk]
                grad[j * k + kk] = a_cap * (1.0 - sig_pos[j, kk]) - b_cap * sig_pos[j, kk]
        # stick-breaking weights from the log stick lengths, the concentration integrated out
        total_stick = 0.0
        for j in range(classes - 1):
            stick[j] = math.exp(x[n_capture + j])
            total_stick += stick[j]
            logp += x[n_capture + j]
        if classes > 1:
            logp -= exponent * math.log(b_alpha + total_stick)
        cumulative = 0.0
        for j in range(classes):
            log_weight[j] = -cumulative
            if j < classes - 1:
                log_weight[j] += math.log(-math.expm1(-stick[j]))
                cumulative += stick[j]
        return logp, total_stick

    def stick_gradient(grad: np.ndarray, stick: np.ndarray, total_stick: float, weight_grad: np.ndarray) -> None:
        later = 0.0
        for j in range(classes - 1, -1, -1):
            if j < classes - 1:
                u = stick[j]
                grad[n_capture + j] = (1.0 - exponent * u / (b_alpha + total_stick)
                                       + weight_grad[j] * u * math.exp(-u) / -math.expm1(-u) - u * later)
            later += weight_grad[j]

    return jit(prior_and_weights), jit(stick_gradient)


def log_seen_by_class(log_weight: np.ndarray, log_miss: np.ndarray, log_unseen: np.ndarray,
                      log_seen: np.ndarray) -> tuple[float, float]:
    r"""Fill :math:`\log w_j u_j` and :math:`\log w_j (1 - u_j)`, :math:`\log u_j = \sum_k \ell^-_{jk}`,
    class by class (``1 - u_j`` as ``-expm1``, accurate when :math:`u_j` is near 1); return the
    largest of each (for a log-sum-exp). Used by the sparse kernel and the Gibbs sweep."""
    top_unseen = -np.inf
    top_seen = -np.inf
    for j in range(log_weight.shape[0]):
        miss = 0.0
        for kk in range(log_miss.shape[1]):
            miss += log_miss[j, kk]
        log_unseen[j] = log_weight[j] + miss
        log_seen[j] = log_weight[j] + math.log(-math.expm1(miss)) if miss < 0.0 else -np.inf
        top_unseen = max(top_unseen, log_unseen[j])
        top_seen = max(top_seen, log_seen[j])
    return top_unseen, top_seen


def _no_jit(function: Any) -> Any:
    return function


def _make_python_kernel(k: int, classes: int, priors: Mapping[str, Mapping[str, float]], jit: Any = _no_jit) -> Any:
    """The log density and gradient as a plain function ``f(x, counts, grad) -> logp``.

    Numba-compatible: :func:`install_kernel` compiles it; :func:`log_density_and_gradient` runs
    it as Python.
    """
    n_cells = 2 ** k  # cell c: list kk holds the record iff bit kk of c is set; cell 0 is unseen
    cells = np.arange(n_cells)
    parent = cells & (cells - 1)  # cell c without its lowest list
    lowest = np.zeros(n_cells, dtype=np.int64)  # that list
    lowest[1:] = [(c & -c).bit_length() - 1 for c in range(1, n_cells)]
    prior_and_weights, stick_gradient = _shared_parts(k, classes, priors, jit)

    def kernel(x: np.ndarray, counts: np.ndarray, grad: np.ndarray) -> float:
        log_hit = np.empty((classes, k))
        log_miss = np.empty((classes, k))
        sig_pos = np.empty((classes, k))
        log_weight = np.zeros(classes)
        stick = np.zeros(classes)
        logp, total_stick = prior_and_weights(x, grad, log_hit, log_miss, sig_pos, log_weight, stick)
        # terms t_cj built cell by cell: cell c differs from parent[c] only on list lowest[c]
        terms = np.empty((n_cells, classes))
        responsibility = np.empty((n_cells, classes))
        log_pi = np.empty(n_cells)
        for j in range(classes):
            t = log_weight[j]
            for kk in range(k):
                t += log_miss[j, kk]
            terms[0, j] = t
        for c in range(1, n_cells):
            largest = -np.inf
            for j in range(classes):
                t = terms[parent[c], j] + log_hit[j, lowest[c]] - log_miss[j, lowest[c]]
                terms[c, j] = t
                largest = max(largest, t)
            acc = 0.0
            for j in range(classes):
                responsibility[c, j] = math.exp(terms[c, j] - largest)
                acc += responsibility[c, j]
            for j in range(classes):
                responsibility[c, j] /= acc
            log_pi[c] = largest + math.log(acc)
        largest = -np.inf
        for c in range(1, n_cells):
            largest = max(largest, log_pi[c])
        acc = 0.0
        for c in range(1, n_cells):
            acc += math.exp(log_pi[c] - largest)
        log_seen = largest + math.log(acc)
        n_total = 0.0
        for c in range(1, n_cells):
            n_total += counts[c - 1]
        weight_grad = np.zeros(classes)  # W_j
        hit_grad = np.zeros((classes, k))  # sum of g_c r_cj over the cells c holding list kk
        for c in range(1, n_cells):
            n_c = counts[c - 1]
            logp += n_c * (log_pi[c] - log_seen)
            g_c = n_c - n_total * math.exp(log_pi[c] - log_seen)
            for j in range(classes):
                share = g_c * responsibility[c, j]
                weight_grad[j] += share
                for kk in range(k):
                    if (c >> kk) & 1:
                        hit_grad[j, kk] += share
        # sum_c g_c r_cj (c_k sigma(-z) - (1 - c_k) sigma(z)) = H_jk - W_j sigma(z)
        for j in range(classes):
            for kk in range(k):
                grad[j * k + kk] += hit_grad[j, kk] - weight_grad[j] * sig_pos[j, kk]
        stick_gradient(grad, stick, total_stick, weight_grad)
        return logp

    return kernel


def _make_sparse_kernel(k: int, classes: int, priors: Mapping[str, Mapping[str, float]], jit: Any = _no_jit) -> Any:
    """numba kernel: the sampler's log density and gradient, visiting only the cells that hold people.

    ``f(x, cells, cell_counts, survey_lists, survey_hits, survey_misses, grad) -> logp``; the sums
    and the surveys' terms are in the module docstring ("The sparse kernel"). The factory is long
    only because it wraps ``kernel`` (73 lines), which HMC calls at every leapfrog step: kept as
    one compiled function so that no call is added in that innermost loop.
    """
    prior_and_weights, stick_gradient = _shared_parts(k, classes, priors, jit)
    seen_by_class = jit(log_seen_by_class)

    def kernel(x: np.ndarray, cells: np.ndarray, cell_counts: np.ndarray, survey_lists: np.ndarray,
               survey_hits: np.ndarray, survey_misses: np.ndarray, grad: np.ndarray) -> float:
        log_hit = np.empty((classes, k))
        log_miss = np.empty((classes, k))
        sig_pos = np.empty((classes, k))
        log_weight = np.zeros(classes)
        stick = np.zeros(classes)
        logp, total_stick = prior_and_weights(x, grad, log_hit, log_miss, sig_pos, log_weight, stick)
        weight_grad = np.zeros(classes)
        # surveys: hits log p_k + misses log(1 - p_k), p_k = sum_j w_j lambda_jk
        hit_terms = np.empty(classes)
        miss_terms = np.empty(classes)
        for s in range(survey_lists.shape[0]):
            kk = survey_lists[s]
            top_hit = -np.inf
            top_miss = -np.inf
            for j in range(classes):
                hit_terms[j] = log_weight[j] + log_hit[j, kk]
                miss_terms[j] = log_weight[j] + log_miss[j, kk]
                top_hit = max(top_hit, hit_terms[j])
                top_miss = max(top_miss, miss_terms[j])
            acc_hit = 0.0
            acc_miss = 0.0
            for j in range(classes):
                hit_terms[j] = math.exp(hit_terms[j] - top_hit)
                miss_terms[j] = math.exp(miss_terms[j] - top_miss)
                acc_hit += hit_terms[j]
                acc_miss += miss_terms[j]
            logp += survey_hits[s] * (top_hit + math.log(acc_hit)) + survey_misses[s] * (top_miss + math.log(acc_miss))
            for j in range(classes):
                share_hit = survey_hits[s] * hit_terms[j] / acc_hit
                share_miss = survey_misses[s] * miss_terms[j] / acc_miss
                weight_grad[j] += share_hit + share_miss
                grad[j * k + kk] += share_hit * (1.0 - sig_pos[j, kk]) - share_miss * sig_pos[j, kk]
        # probability of being seen, class by class
        log_unseen = np.empty(classes)  # log w_j + log u_j
        log_seen_j = np.empty(classes)  # log w_j + log(1 - u_j)
        _, largest = seen_by_class(log_weight, log_miss, log_unseen, log_seen_j)
        acc = 0.0
        for j in range(classes):
            acc += math.exp(log_seen_j[j] - largest)
        log_seen = largest + math.log(acc)
        n_total = 0.0
        for i in range(cells.shape[0]):
            n_total += cell_counts[i]
        logp -= n_total * log_seen
        for j in range(classes):
            weight_grad[j] -= n_total * math.exp(log_seen_j[j] - log_seen)
            unseen_share = n_total * math.exp(log_unseen[j] - log_seen)
            for kk in range(k):
                grad[j * k + kk] -= unseen_share * sig_pos[j, kk]
        terms = np.empty(classes)
        for i in range(cells.shape[0]):
            c = cells[i]
            n_c = cell_counts[i]
            largest = -np.inf
            for j in range(classes):
                t = log_weight[j]
                for kk in range(k):
                    t += log_hit[j, kk] if (c >> kk) & 1 else log_miss[j, kk]
                terms[j] = t
                largest = max(largest, t)
            acc = 0.0
            for j in range(classes):
                terms[j] = math.exp(terms[j] - largest)
                acc += terms[j]
            logp += n_c * (largest + math.log(acc))
            for j in range(classes):
                share = n_c * terms[j] / acc
                weight_grad[j] += share
                for kk in range(k):
                    grad[j * k + kk] += share * (((c >> kk) & 1) - sig_pos[j, kk])
        stick_gradient(grad, stick, total_stick, weight_grad)
        return logp

    return kernel


def log_density_and_gradient(k: int, classes: int, priors: Mapping[str, Mapping[str, float]],
                             x: np.ndarray, counts: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate the kernel in Python (no numba): the reference the tests compare the callback with.

    Parameters
    ----------
    k, classes, priors
        Lists, truncation and merged priors, as for ``LatentClassSampler``.
    x
        Unconstrained parameters: ``classes * k`` logit capture probabilities (row-major), then
        ``classes - 1`` log stick lengths.
    counts
        The ``2**k - 1`` observed cell counts (cells 1, 2, ...).

    Returns
    -------
    (float, numpy.ndarray)
        The log density (up to a constant) and its gradient with respect to ``x``.
    """
    grad = np.zeros(classes * k + classes - 1)
    logp = _make_python_kernel(k, classes, priors)(np.asarray(x, float), np.asarray(counts, float), grad)
    return logp, grad


def kernel_installed(compiled: Any) -> bool:
    """Whether ``compiled`` evaluates its log density with this module's kernel (False: PyTensor's)."""
    return is_installed(compiled, _KERNELS)


def install_kernel(compiled: Any, k: int, classes: int, priors: Mapping[str, Mapping[str, float]]) -> Any:
    """Return ``compiled`` (a nutpie ``CompiledPyMCModel``) with its log density replaced by the kernel.

    The replacement is made only when nutpie's model has the layout the kernel expects (variables
    ``_logit_capture`` then ``_log_stick``, the counts as the only data); otherwise ``compiled``
    is returned unchanged, so a future nutpie falls back to the slower generated gradient instead
    of computing a wrong one.
    """
    import dataclasses


    names = list(compiled.shape_info[0][:2])
    expected = ["_logit_capture", "_log_stick"] if classes > 1 else ["_logit_capture"]
    words = data_pointer_words(compiled.user_data, ["observed_counts"])
    if (words is None or names[: len(expected)] != expected or int(compiled.n_dim) != classes * k + classes - 1
            or not hasattr(compiled, "compiled_logp_func")):
        return compiled
    key = (k, classes, float(priors["capture"]["a"]), float(priors["capture"]["b"]),
           float(priors["alpha"]["shape"]), float(priors["alpha"]["rate"]))
    with _KERNELS_LOCK:
        if key not in _KERNELS:
            jit = kernel_jit(SOURCE_DIGEST, key)
            kernel = jit(_make_python_kernel(k, classes, priors, jit))
            _KERNELS[key] = _c_callback(kernel, classes * k + classes - 1, 2 ** k - 1, words["observed_counts"], key)
        return dataclasses.replace(compiled, compiled_logp_func=_KERNELS[key])


def _c_callback(kernel: Any, n_dim: int, n_counts: int, word: int, key: Any) -> Any:
    import numba
    # nutpie's own intrinsic, as its callbacks use; bound as a module global, not a closure cell: numba
    # keys a cached callback on its cells, and an intrinsic pickles differently in every process
    global address_as_void_pointer
    from nutpie.compile_pymc import address_as_void_pointer

    end = finish()

    def logp_callback(dim: int, x_: Any, out_: Any, logp_: Any, user_data_: Any) -> int:
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, (1,))
        record = numba.carray(user_data_, (word + 1,), np.uint64)
        counts = numba.carray(address_as_void_pointer(record[word]), (n_counts,), np.float64)
        return end(kernel(x, counts, out), out, logp)

    return compile_callback(logp_callback, SOURCE_DIGEST, (key, word))

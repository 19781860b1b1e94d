r"""Gibbs-HMC sampler of the latent-class model (the default): numba, on the table of counts.

Same model, priors and :math:`p(N) \propto 1/N` as :mod:`hiddenrate.models.lists.latent_class_core`
(Manrique-Vallier 2016; LCMCR). Why a second algorithm: NUTS on the model with the classes summed
out rarely moves between the posterior's modes (how many classes are occupied), because a class
with no weight gives no gradient to bring its capture probabilities somewhere useful; LCMCR's
Gibbs sampler moves between them but random-walks slowly along the ridge where the number on no
list trades against the capture probabilities. One sweep here does both:

Gibbs block (exact draws from full conditionals, no Metropolis step; as LCMCR, but on the
:math:`2^k` cells instead of on people, so a sweep costs :math:`O(K k)` per occupied cell
whatever N is). With :math:`u_j = \prod_k (1 - \lambda_{jk})` and
:math:`t_{cj} = \log w_j + \sum_k c_k \log\lambda_{jk} + (1 - c_k) \log(1 - \lambda_{jk})`:

1. **The people on no list, by class.** :math:`n_0 \mid w, \lambda \sim
   \text{NegativeBinomial}(n, 1 - \pi_0)` is the exact conditional under :math:`p(N) \propto 1/N`
   (docs/methods.md#never-sample-n), i.e. Poisson(:math:`G \pi_0 / (1 - \pi_0)`) with :math:`G \sim \text{Gamma}(n, 1)`;
   splitting that Poisson count over the classes gives independent
   :math:`m_{0j} \sim \text{Poisson}(G\, w_j u_j / (1 - \pi_0))`, drawn directly, with
   :math:`1 - \pi_0 = \sum_j w_j (1 - u_j)` summed class by class (accurate when :math:`\pi_0` is
   near 1).
2. **Classes of the people in every observed cell**:
   :math:`(m_{c1}, \dots, m_{cK}) \sim \text{Multinomial}(n_c, e^{t_{c\cdot}} / \pi_c)`, one
   categorical draw per person in small cells, sequential binomials in large ones.
   **Survey respondents** (``surveys``: r of s people drawn from the population were on list
   k) get classes the same way, with probabilities :math:`\propto w_j \lambda_{jk}` (on the
   list) and :math:`w_j (1 - \lambda_{jk})` (not on it); they count as people of their class for
   the sticks and as r successes in s trials for :math:`\lambda_{jk}` alone, so every conditional
   stays conjugate.
2c. **Relabelling** (Papaspiliopoulos & Roberts 2008; Hastie, Liverani & Richardson 2015):
   stick-breaking weights are ordered by label in the prior (:math:`E[w_1] > E[w_2] > \dots`),
   and no step above moves a large class to a lower label. K times per sweep, two labels are
   drawn and the classes (their people, list counts and survey respondents) exchanged with the
   Metropolis probability :math:`\min(1, P(m') / P(m))`, where :math:`P(m) = \prod_{j<K}
   B(1 + m_j, \alpha + m_{>j})` is the probability of the class sizes in that order with the
   sticks integrated out (:func:`log_order_probability`). Nothing else changes (every class
   has the same prior on its capture probabilities), and steps 3 and 4 then draw the capture
   probabilities and sticks afresh given the classes, so the move is exact.
3. **Capture probabilities**: :math:`\lambda_{jk} \sim \text{Beta}(a_\lambda + s_{jk},\ b_\lambda +
   m_j - s_{jk})` (:math:`m_j` people in class j, :math:`s_{jk}` of them on list k). An empty class
   draws from the prior, which is how a new class gets born.
4. **Sticks** (Ishwaran & James 2001): :math:`v_j \sim \text{Beta}(1 + m_j,\ \alpha + \sum_{l > j}
   m_l)`, :math:`v_K = 1`; then **the concentration**
   :math:`\alpha \sim \text{Gamma}(a_\alpha + K - 1,\ b_\alpha - \sum_{j<K} \log(1 - v_j))`.

HMC move. Then one Hamiltonian Monte Carlo transition (identity mass matrix: a diagonal one
estimated in warm-up did worse, as a class's role changes between sweeps; a trajectory of
``leapfrog / 2`` to ``3 leapfrog / 2`` steps drawn uniformly, Metropolis accept/reject of the
whole trajectory) on the marginal posterior of the capture logits and log stick lengths, with
the classes, N and :math:`\alpha` summed out: the density NUTS samples, evaluated by
:func:`hiddenrate.models.sampling.latent_class_kernel._make_sparse_kernel` (only the occupied cells).
:math:`\alpha` is then redrawn from its conditional. Both moves leave the posterior of
:math:`(w, \lambda)` invariant (the Gibbs block draws the people's classes given
:math:`(w, \lambda)` and :math:`(w, \lambda)` given them; HMC is exact for the marginal), so
their composition is a valid sampler; the tests check both against the exact one-class
posterior, and the sampler against LCMCR on the eleven shared data sets. The step size is tuned
during warm-up by dual averaging (Hoffman & Gelman 2014) to an acceptance rate of 0.95
(:data:`TARGET_ACCEPT`); a transition whose energy error exceeds 1000 is counted as divergent
(as Stan does) and reported in ``sample_stats.diverging``.

Why these moves, in numbers (R-hat of N on the shared data sets with and without each, and what was
tried and not adopted): ``docs/latent-class-sampler.md``.

Parallel tempering (``ladder`` in :func:`run_chains`; used by
:class:`~hiddenrate.models.lists.latent_class.LatentClassModel` when a first run's chains disagree).
Each chain runs replicas r = 0..R-1; replica r samples, with the same sweep, the posterior given
the table of counts (and survey counts) times :math:`\beta_r`, rounded (:math:`\beta_0 = 1`: the
data; default ladder 1, 0.85, 0.72, 0.6, 0.5). Smaller tables give flatter posteriors, in which
a class is born and dies more easily. After every sweep neighbouring replicas (pairs 0-1, 2-3, ...
on even sweeps, 1-2, 3-4, ... on odd ones) propose to exchange their states
:math:`(w, \lambda, \alpha)`, accepted with probability
:math:`\min(1, L_a(\theta_b) L_b(\theta_a) / (L_a(\theta_a) L_b(\theta_b)))`, where :math:`L_r`
is the likelihood of replica r's table with N summed out; the priors cancel, so the ratio is
computed with the HMC kernel (the same log density, with the same prior, on the two tables).
Every replica's sweep leaves its own posterior invariant and the swaps leave the joint
invariant, so replica 0's draws are draws from the posterior given the data; the tests check
this against the exact one-class posterior and importance sampling with two classes. The step
sizes are tuned per replica (each keeps its own; only states move). Tempering is used only when a
first run's chains disagree (measurements: ``docs/latent-class-sampler.md``).

Beta draws are made on the log scale (:math:`\log v` and :math:`\log(1 - v)`): by inversion when
a parameter is 1 (empty classes under the default prior: one uniform), otherwise as a ratio of
Gamma draws (a Gamma with shape below 1 as :math:`\text{Gamma}(s + 1) U^{1/s}`), so values within
:math:`10^{-300}` of 0 or 1 keep both logs finite. A state with a stick exactly 0 or 1 gives a
non-finite HMC start and that HMC move is skipped (rejected).

Each chain starts from its own random point (concentration 1, sticks and capture probabilities
drawn from their priors), runs ``tune`` warm-up sweeps, then ``draws x thin`` sweeps of which
every ``thin``-th is kept. Chains run in parallel threads; numba's generator is seeded at the
start of each chain (per thread), so the same seed gives the same draws on any number of threads.

Code: this module holds the chain (set-up, sweeps, stored draws, replica swaps) and runs chains
in threads; :mod:`hiddenrate.models.sampling.latent_class_sweep` builds one sweep's compiled
pieces and :mod:`hiddenrate.models.sampling.latent_class_kernel` the HMC log density.

References
----------
Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process
mixtures. *Biometrics* 72, 1246-1254.
Ishwaran, H. & James, L. F. (2001). Gibbs sampling methods for stick-breaking priors. *JASA* 96, 161-173.
Hoffman, M. D. & Gelman, A. (2014). The No-U-Turn Sampler. *JMLR* 15, 1593-1623 (dual averaging).
Papaspiliopoulos, O. & Roberts, G. O. (2008). Retrospective Markov chain Monte Carlo methods for
Dirichlet process hierarchical models. *Biometrika* 95, 169-186 (label-switching moves).
Hastie, D. I., Liverani, S. & Richardson, S. (2015). Sampling from Dirichlet process mixture
models with unknown concentration parameter: mixing issues in large data implementations.
*Statistics and Computing* 25, 1023-1037.
"""

from __future__ import annotations

import json
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from hiddenrate.models.sampling.jit_cache import file_digest
from hiddenrate.models.sampling.latent_class_kernel import _make_sparse_kernel, log_seen_by_class

__all__ = ["run_chains"]

#: digest of this file as imported: part of the identity of the compiled sweep in numba's disk cache
SOURCE_DIGEST = file_digest(__file__)

_JIT: dict[tuple[int, int, str], Any] = {}
_JIT_LOCK = threading.Lock()
#: acceptance rate the HMC step size is tuned to during warm-up: 0.9 left divergent transitions on the
#: UK data (measurements: docs/latent-class-sampler.md)
TARGET_ACCEPT = 0.95


def _build(k_lists: int, n_classes: int, priors: dict[str, dict[str, float]]) -> Any:
    """Compile the sweep loop with numba (once per structure, 6-8 s; later processes load it from disk in about 0.05 s)."""
    from hiddenrate.models.sampling import latent_class_kernel, latent_class_sweep
    from hiddenrate.models.sampling.jit_cache import cached_jit, stamp

    identity = stamp((SOURCE_DIGEST, latent_class_sweep.SOURCE_DIGEST, latent_class_kernel.SOURCE_DIGEST),
                     json.dumps([k_lists, n_classes, priors], sort_keys=True))
    jit = cached_jit(identity, nogil=True, error_model="numpy")
    kernel = jit(_make_sparse_kernel(k_lists, n_classes, priors, jit))
    seen_by_class = jit(log_seen_by_class)
    log_order = jit(log_order_probability)
    n_dim = n_classes * k_lists + n_classes - 1
    hmc = latent_class_sweep.make_hmc(kernel, n_dim, jit)
    log_beta_variate, allocate = latent_class_sweep.make_draws(jit)
    swap_labels, to_q = latent_class_sweep.make_labels(k_lists, n_classes, jit)
    sweep = latent_class_sweep.make_sweep(jit, seen_by_class, log_order, hmc, log_beta_variate, allocate,
                                          swap_labels, to_q)
    return _make_chain(jit, kernel, n_dim, sweep, log_beta_variate, to_q)


def _make_chain(jit: Any, kernel: Any, n_dim: int, _sweep: Any, _log_beta_variate: Any, _to_q: Any) -> Any:
    """numba kernel: builds ``_chain``, one compiled function (see its docstring for why it is one)."""

    @jit
    def _chain(counts: np.ndarray, k: int, classes: int, a_cap: float, b_cap: float, a_alpha: float, b_alpha: float,
               tune: int, draws: int, thin: int, seed: int, max_hidden_mean: float,
               leapfrog: int, target: float, survey_lists: np.ndarray, survey_hits: np.ndarray,
               survey_misses: np.ndarray) -> tuple[Any, ...]:
        """numba kernel: one chain, kept whole so that each thread runs a chain without the GIL.

        ``counts`` is replicas x (2^k - 1) cell counts (row 0 the data, later rows the hotter
        replicas' smaller tables), ``survey_hits`` and ``survey_misses`` replicas x surveys. Set-up,
        sweeps, storing draws and replica swaps share the state arrays; numba's generator is seeded
        here, so the draws of a seed depend only on this order of calls.
        """
        np.random.seed(seed)
        replicas = counts.shape[0]
        n_cells = 1 << k
        bits = np.zeros((n_cells, k))
        for c in range(n_cells):
            for kk in range(k):
                if (c >> kk) & 1:
                    bits[c, kk] = 1.0
        cell_counts = np.zeros((replicas, n_cells), dtype=np.int64)
        sizes = np.zeros(replicas, dtype=np.int64)
        for r in range(replicas):
            for c in range(1, n_cells):
                cell_counts[r, c] = np.int64(counts[r, c - 1])
                sizes[r] += cell_counts[r, c]
        n_occupied = 0
        for c in range(1, n_cells):
            n_occupied += cell_counts[0, c] > 0
        occupied = np.zeros(n_occupied, dtype=np.int64)  # the observed cells with people in them
        i = 0
        for c in range(1, n_cells):
            if cell_counts[0, c] > 0:
                occupied[i] = c
                i += 1
        occupied_counts = np.zeros((replicas, n_occupied))
        for r in range(replicas):
            for i in range(n_occupied):
                occupied_counts[r, i] = cell_counts[r, occupied[i]]

        log_cap = np.empty((replicas, classes, k))
        log_miss = np.empty((replicas, classes, k))
        log_w = np.zeros((replicas, classes))
        log_rest = np.zeros((replicas, classes))  # log(1 - v_j)
        state = np.zeros((replicas, 5))
        for r in range(replicas):
            for j in range(classes):
                for kk in range(k):
                    log_cap[r, j, kk], log_miss[r, j, kk] = _log_beta_variate(a_cap, b_cap)
            alpha = 1.0
            remaining = 0.0
            for j in range(classes - 1):
                log_v, log_rest[r, j] = _log_beta_variate(1.0, alpha)
                log_w[r, j] = log_v + remaining
                remaining += log_rest[r, j]
            log_w[r, classes - 1] = remaining
            state[r, 0] = alpha
            state[r, 1] = np.log(0.1)
        out_hidden = np.zeros(draws, dtype=np.int64)
        out_log_odds = np.zeros(draws)
        out_alpha = np.zeros(draws)
        out_weight = np.zeros((draws, classes))
        out_capture = np.zeros((draws, classes, k))
        out_occupied = np.zeros(draws, dtype=np.int64)
        out_diverging = np.zeros(draws, dtype=np.bool_)
        scratch = np.zeros((3, classes))
        iscratch = np.zeros((3, classes), dtype=np.int64)
        captured = np.zeros((classes, k), dtype=np.int64)
        survey_on = np.zeros((classes, k), dtype=np.int64)  # survey respondents on the list they were asked about
        survey_off = np.zeros((classes, k), dtype=np.int64)  # ... not on it
        q = np.zeros(n_dim)
        q_other = np.zeros(n_dim)
        grad = np.zeros(n_dim)
        work = np.zeros((4, n_dim))
        inv_mass = np.ones(n_dim)
        swaps_tried = np.zeros(max(replicas - 1, 1))
        swaps_made = np.zeros(max(replicas - 1, 1))
        max_log_odds = np.log(max_hidden_mean / sizes[0])
        accept_sum = 0.0
        total_sweeps = tune + draws * thin
        for sweep in range(total_sweeps):
            keep = sweep >= tune and (sweep - tune) % thin == 0
            d = (sweep - tune) // thin
            if keep:
                out_alpha[d] = state[0, 0]
                for j in range(classes):
                    out_weight[d, j] = np.exp(log_w[0, j])
                    for kk in range(k):
                        out_capture[d, j, kk] = np.exp(log_cap[0, j, kk])
            for r in range(replicas):
                cap = max_log_odds if r == 0 else np.inf
                bounded, hidden, log_odds, used, accept, divergent = _sweep(
                    sweep, tune, cell_counts[r], sizes[r], bits, occupied, occupied_counts[r], k, classes, a_cap,
                    b_cap, a_alpha, b_alpha, leapfrog, target, survey_lists, survey_hits[r], survey_misses[r],
                    log_cap[r], log_miss[r], log_w[r], log_rest[r], state[r], scratch, iscratch, captured,
                    survey_on, survey_off, q, work, inv_mass, cap)
                if r > 0:
                    continue
                if not bounded:
                    return (out_hidden, out_log_odds, out_alpha, out_weight, out_capture, out_occupied, False,
                            out_diverging, 0.0, np.exp(state[0, 3]), swaps_tried, swaps_made)
                if keep:
                    out_hidden[d] = hidden
                    out_log_odds[d] = log_odds
                    out_occupied[d] = used
                if sweep >= tune:
                    accept_sum += accept
                    if divergent:
                        out_diverging[d] = True
            # swaps of neighbouring replicas' states (pairs 0-1, 2-3, ... on even sweeps, 1-2, 3-4, ... on odd)
            for lower in range(sweep % 2, replicas - 1, 2):
                upper = lower + 1
                _to_q(log_cap[lower], log_miss[lower], log_rest[lower], q)
                _to_q(log_cap[upper], log_miss[upper], log_rest[upper], q_other)
                log_ratio = (
                    kernel(q_other, occupied, occupied_counts[lower], survey_lists, survey_hits[lower],
                           survey_misses[lower], grad)
                    + kernel(q, occupied, occupied_counts[upper], survey_lists, survey_hits[upper],
                             survey_misses[upper], grad)
                    - kernel(q, occupied, occupied_counts[lower], survey_lists, survey_hits[lower],
                             survey_misses[lower], grad)
                    - kernel(q_other, occupied, occupied_counts[upper], survey_lists, survey_hits[upper],
                             survey_misses[upper], grad))
                swaps_tried[lower] += 1
                if not np.isfinite(log_ratio) or np.log(np.random.random()) >= log_ratio:
                    continue
                swaps_made[lower] += 1
                for j in range(classes):
                    log_w[lower, j], log_w[upper, j] = log_w[upper, j], log_w[lower, j]
                    log_rest[lower, j], log_rest[upper, j] = log_rest[upper, j], log_rest[lower, j]
                    for kk in range(k):
                        log_cap[lower, j, kk], log_cap[upper, j, kk] = log_cap[upper, j, kk], log_cap[lower, j, kk]
                        log_miss[lower, j, kk], log_miss[upper, j, kk] = log_miss[upper, j, kk], log_miss[lower, j, kk]
                state[lower, 0], state[upper, 0] = state[upper, 0], state[lower, 0]
        return (out_hidden, out_log_odds, out_alpha, out_weight, out_capture, out_occupied, True, out_diverging,
                accept_sum / max(draws * thin, 1), np.exp(state[0, 3]), swaps_tried, swaps_made)

    return _chain


def log_order_probability(members: np.ndarray, survey_members: np.ndarray, alpha: float) -> float:
    r"""Log probability that the class sizes come in this order, sticks integrated out (up to a constant).

    Under stick-breaking with :math:`v_j \sim \text{Beta}(1, \alpha)`, people fall in classes of
    sizes :math:`m_1, \dots, m_K` (in this order) with probability
    :math:`E[\prod_j w_j^{m_j}] = \prod_{j<K} B(1 + m_j, \alpha + m_{>j}) / B(1, \alpha)`, with
    :math:`m_{>j} = \sum_{l > j} m_l`. The sampler's relabelling move (step 2c) accepts a swap of
    two classes with the ratio of this probability after and before; the capture probabilities do
    not enter, since they move with their class and share one prior. Plain Python; the sweep
    compiles it with numba.

    Parameters
    ----------
    members, survey_members : numpy.ndarray
        People in each class (on the lists or on none) and survey respondents in each class; they
        add up to :math:`m_j`.
    alpha : float
        The concentration.

    Returns
    -------
    float
        :math:`\sum_{j<K} \log B(1 + m_j, \alpha + m_{>j})`; the constant
        :math:`-(K - 1) \log B(1, \alpha)` is left out.
    """
    after = 0.0
    for j in range(members.shape[0]):
        after += members[j] + survey_members[j]
    total = 0.0
    for j in range(members.shape[0] - 1):
        size = float(members[j] + survey_members[j])
        after -= size
        total += math.lgamma(1.0 + size) + math.lgamma(alpha + after) - math.lgamma(1.0 + alpha + size + after)
    return total


def check_ladder(ladder: Any) -> tuple[float, ...]:
    """The tempering ladder as a tuple: it must start at 1 (the data) and fall within (0, 1).

    Raises
    ------
    ValueError
        Otherwise, naming the ladder given.
    """
    values = tuple(float(beta) for beta in ladder)
    if not values or values[0] != 1.0 or any(not 0.0 < b < a for a, b in zip(values, values[1:])):
        raise ValueError(f"tempering must start at 1 and fall within (0, 1), got {list(values)}")
    return values


def _compiled_chain(k: int, classes: int, priors: dict[str, dict[str, float]]) -> Any:
    key = (k, classes, json.dumps(priors, sort_keys=True))
    with _JIT_LOCK:
        if key not in _JIT:
            _JIT[key] = _build(k, classes, priors)
        return _JIT[key]


def run_chains(counts: np.ndarray, k: int, classes: int, priors: dict[str, dict[str, float]], *, tune: int,
               draws: int, thin: int, seeds: list[int], max_hidden_mean: float, leapfrog: int,
               target_accept: float = TARGET_ACCEPT, surveys: Any = (), ladder: Any = (1.0,),
               threads: int | None = None) -> list[dict[str, Any]]:
    """Run one chain per seed, in parallel threads (numba releases the GIL), in seed order.

    Each chain seeds numba's generator of the thread it runs on, so which thread runs which chain
    does not change its draws. ``threads`` defaults to the number of CPUs. ``surveys``: (list
    index, respondents on that list, respondents not on it) for each survey of the population.
    ``ladder``: the share of the counts each replica sees, starting at 1 (the data) and falling;
    more than one value runs parallel tempering (see the module docstring).
    """
    ladder = check_ladder(ladder)
    # replica r sees the counts (and survey counts) times ladder[r], rounded
    table = np.stack([np.round(np.asarray(counts, dtype=np.float64) * beta) for beta in ladder])
    if table.sum(axis=1).min() < 1:
        raise ValueError(f"the tempering ladder {ladder} leaves a replica with no one on a list")
    hits = np.stack([np.round(np.array([float(s[1]) for s in surveys]) * beta) for beta in ladder])
    misses = np.stack([np.round(np.array([float(s[2]) for s in surveys]) * beta) for beta in ladder])
    survey_lists = np.array([int(s[0]) for s in surveys], dtype=np.int64)
    chain = _compiled_chain(k, classes, priors)
    workers = max(1, min(len(seeds), threads or os.cpu_count() or 1))

    def one(seed: int) -> dict[str, Any]:
        return _run_chain(chain, table, k, classes, priors, tune=tune, draws=draws, thin=thin, seed=seed,
                          max_hidden_mean=max_hidden_mean, leapfrog=leapfrog, target_accept=target_accept,
                          survey_lists=survey_lists, hits=hits, misses=misses)

    if workers == 1:
        return [one(seed) for seed in seeds]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, seeds))


def _run_chain(chain: Any, table: np.ndarray, k: int, classes: int, priors: dict[str, dict[str, float]], *,
               tune: int, draws: int, thin: int, seed: int, max_hidden_mean: float, leapfrog: int,
               target_accept: float, survey_lists: np.ndarray, hits: np.ndarray,
               misses: np.ndarray) -> dict[str, Any]:
    """Run one chain; returns the kept draws (``hidden``, ``log_odds_unseen``, ``alpha``,
    ``class_weight`` (draws x classes), ``capture`` (draws x classes x lists)) and ``bounded``:
    False when a sweep put the expected number on no list above ``max_hidden_mean`` (the chain
    stopped there; the posterior of N is then unbounded under the model and prior);
    ``swap_rate``: with tempering, the share of proposed swaps accepted between each pair of
    neighbouring replicas.

    Parameters
    ----------
    table : numpy.ndarray
        Replicas x the ``2**k - 1`` observed cell counts (cells 1 .. 2**k - 1 of
        :mod:`hiddenrate.core.design`); row 0 is the data, later rows the tempered replicas'.
    seed : int
        Seeds numba's generator for this chain.
    survey_lists, hits, misses : numpy.ndarray
        The list each survey asks about; replicas x respondents on it and not on it.
    """
    (hidden, log_odds, alpha, weight, capture, occupied, bounded, divergent, accept, step, swaps_tried,
     swaps_made) = chain(
        np.ascontiguousarray(table), int(k), int(classes), float(priors["capture"]["a"]),
        float(priors["capture"]["b"]), float(priors["alpha"]["shape"]), float(priors["alpha"]["rate"]), int(tune),
        int(draws), int(thin), int(seed), float(max_hidden_mean), int(leapfrog), float(target_accept),
        survey_lists, np.ascontiguousarray(hits), np.ascontiguousarray(misses))
    return {"hidden": hidden, "log_odds_unseen": log_odds, "alpha": alpha, "class_weight": weight,
            "capture": capture, "occupied_classes": occupied, "bounded": bool(bounded), "diverging": divergent, "accept": float(accept),
            "step": float(step), "swap_rate": (swaps_made / np.maximum(swaps_tried, 1))[:table.shape[0] - 1]}

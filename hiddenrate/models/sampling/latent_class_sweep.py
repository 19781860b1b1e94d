"""The compiled pieces of one Gibbs-HMC sweep of the latent-class sampler, built per structure.

:mod:`hiddenrate.models.sampling.latent_class_gibbs` describes the sampler and drives the chains;
this module builds, with numba, what one sweep of one replica does: the Gibbs block (the number
on no list, classes of the people and survey respondents, relabelling, capture probabilities,
sticks, concentration) and the HMC move on the marginal posterior. Each factory takes the ``jit``
decorator of :func:`hiddenrate.models.sampling.jit_cache.cached_jit` and the compiled functions
it calls, and returns compiled closures; its digest (:data:`SOURCE_DIGEST`) is part of the
identity of the cached machine code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hiddenrate.models.sampling.jit_cache import file_digest

__all__ = ["SOURCE_DIGEST", "make_draws", "make_hmc", "make_labels", "make_sweep"]

#: digest of this file as imported: part of the identity of the compiled sweep in numba's disk cache
SOURCE_DIGEST = file_digest(__file__)


def make_hmc(kernel: Any, n_dim: int, jit: Any) -> Any:
    """The HMC transition on the marginal posterior, given the compiled log density ``kernel``."""

    @jit
    def _hmc(q: np.ndarray, cells: np.ndarray, cell_counts: np.ndarray, survey_lists: np.ndarray,
             survey_hits: np.ndarray, survey_misses: np.ndarray, step: float, n_steps: int, inv_mass: np.ndarray,
             work: np.ndarray) -> tuple[float, bool, bool]:
        """One HMC transition of q on the marginal posterior (classes and N summed out).

        Returns (acceptance probability, divergent, moved); q is updated in place when it moved.
        ``work`` is 4 x n_dim scratch space.
        """
        grad, q_new, grad_new, momentum = work[0], work[1], work[2], work[3]
        logp0 = kernel(q, cells, cell_counts, survey_lists, survey_hits, survey_misses, grad)
        if not np.isfinite(logp0):
            return 0.0, False, False
        kinetic0 = 0.0
        for i in range(n_dim):
            momentum[i] = np.random.standard_normal() / np.sqrt(inv_mass[i])
            kinetic0 += 0.5 * momentum[i] * momentum[i] * inv_mass[i]
            q_new[i] = q[i]
            grad_new[i] = grad[i]
        logp = logp0
        for _ in range(n_steps):
            for i in range(n_dim):
                momentum[i] += 0.5 * step * grad_new[i]
                q_new[i] += step * inv_mass[i] * momentum[i]
            logp = kernel(q_new, cells, cell_counts, survey_lists, survey_hits, survey_misses, grad_new)
            if not np.isfinite(logp):
                return 0.0, True, False
            for i in range(n_dim):
                momentum[i] += 0.5 * step * grad_new[i]
        kinetic = 0.0
        for i in range(n_dim):
            kinetic += 0.5 * momentum[i] * momentum[i] * inv_mass[i]
        log_ratio = (logp - kinetic) - (logp0 - kinetic0)
        if not np.isfinite(log_ratio):
            return 0.0, True, False
        accept = 1.0 if log_ratio >= 0.0 else np.exp(log_ratio)
        moved = np.random.random() < accept
        if moved:
            for i in range(n_dim):
                q[i] = q_new[i]
        return accept, log_ratio < -1000.0, moved

    return _hmc


def make_draws(jit: Any) -> tuple[Any, Any]:
    """Compiled random draws: (log v, log(1 - v)) for v ~ Beta(a, b), and a multinomial split."""

    @jit
    def _log_gamma_variate(shape: float) -> float:
        """log of a Gamma(shape, 1) draw, finite for any shape > 0."""
        if shape >= 1.0:
            return np.log(np.random.gamma(shape, 1.0))
        return np.log(np.random.gamma(shape + 1.0, 1.0)) + np.log(np.random.random()) / shape

    @jit
    def _log_beta_variate(a: float, b: float) -> tuple[float, float]:
        """(log v, log(1 - v)) for v ~ Beta(a, b).

        With a parameter equal to 1 (an empty class: its capture probabilities under the Beta(1, 1)
        prior, its stick Beta(1, .)) by inversion, 1 - v = U^(1/b): one uniform instead of two
        Gamma draws. Otherwise as a ratio of Gamma draws.
        """
        if a == 1.0:
            log_rest = np.log(1.0 - np.random.random()) / b
            return np.log(-np.expm1(log_rest)), log_rest
        if b == 1.0:
            log_v = np.log(1.0 - np.random.random()) / a
            return log_v, np.log(-np.expm1(log_v))
        x = _log_gamma_variate(a)
        y = _log_gamma_variate(b)
        top = max(x, y)
        log_sum = top + np.log(np.exp(x - top) + np.exp(y - top))
        return x - log_sum, y - log_sum

    @jit
    def _allocate(count: int, prob: np.ndarray, mass: float, out: np.ndarray) -> None:
        """Add a Multinomial(count, prob / mass) draw to ``out`` (sequential binomials)."""
        left = count
        for j in range(prob.shape[0]):
            if left == 0:
                break
            if j == prob.shape[0] - 1 or prob[j] >= mass:
                drawn = left
            elif prob[j] <= 0.0:
                drawn = 0
            else:
                drawn = np.random.binomial(left, prob[j] / mass)
            mass -= prob[j]
            left -= drawn
            out[j] += drawn

    return _log_beta_variate, _allocate


def make_labels(k_lists: int, n_classes: int, jit: Any) -> tuple[Any, Any]:
    """Compiled moves of a class's label and of the state to the HMC coordinates."""

    @jit
    def _swap_labels(j: int, other: int, members: np.ndarray, survey_members: np.ndarray, captured: np.ndarray,
                     survey_on: np.ndarray, survey_off: np.ndarray) -> None:
        """Exchange the labels of classes j and other: their people, list counts and survey respondents."""
        members[j], members[other] = members[other], members[j]
        survey_members[j], survey_members[other] = survey_members[other], survey_members[j]
        for kk in range(captured.shape[1]):
            captured[j, kk], captured[other, kk] = captured[other, kk], captured[j, kk]
            survey_on[j, kk], survey_on[other, kk] = survey_on[other, kk], survey_on[j, kk]
            survey_off[j, kk], survey_off[other, kk] = survey_off[other, kk], survey_off[j, kk]

    @jit
    def _to_q(log_cap: np.ndarray, log_miss: np.ndarray, log_rest: np.ndarray, q: np.ndarray) -> None:
        """The HMC coordinates: capture logits, then log(-log(1 - v_j)) of the sticks (+-inf at 0 or 1)."""
        for j in range(n_classes):
            for kk in range(k_lists):
                q[j * k_lists + kk] = log_cap[j, kk] - log_miss[j, kk]
        for j in range(n_classes - 1):
            q[n_classes * k_lists + j] = np.log(-log_rest[j])

    return _swap_labels, _to_q


def make_sweep(jit: Any, seen_by_class: Any, log_order: Any, _hmc: Any, _log_beta_variate: Any, _allocate: Any,
               _swap_labels: Any, _to_q: Any) -> Any:
    """numba kernel: builds ``_sweep``, one compiled function (see its docstring for why it is one)."""

    @jit
    def _sweep(sweep: int, tune: int, replica_counts: np.ndarray, n: int, bits: np.ndarray, occupied: np.ndarray,
               occupied_counts: np.ndarray, k: int, classes: int, a_cap: float, b_cap: float, a_alpha: float,
               b_alpha: float, leapfrog: int, target: float, survey_lists: np.ndarray, survey_hits: np.ndarray,
               survey_misses: np.ndarray, log_cap: np.ndarray, log_miss: np.ndarray, log_w: np.ndarray,
               log_rest: np.ndarray, state: np.ndarray, scratch: np.ndarray, iscratch: np.ndarray,
               captured: np.ndarray, survey_on: np.ndarray, survey_off: np.ndarray, q: np.ndarray,
               work: np.ndarray, inv_mass: np.ndarray, max_log_odds: float) -> tuple[bool, int, float, int, float, bool]:
        """numba kernel: one sweep of one replica, the Gibbs block (1)-(5) and the HMC move (6), in place.

        One function because the steps share some thirty arrays that it updates in place (compiled
        helpers taking them all would add calls, not clarity) and because the draws must come from
        numba's generator in this exact order for a seed to give the same chain.

        ``state`` holds [alpha, log step, dual-averaging h_bar, log averaged step, mu]. Returns
        (bounded, number on no list, log odds of being on no list, occupied classes, HMC acceptance
        probability, divergent).
        """
        unseen_j, seen_j, prob = scratch[0], scratch[1], scratch[2]
        members, drawn_by_class, survey_members = iscratch[0], iscratch[1], iscratch[2]
        alpha = state[0]
        # (1) pi_0 and 1 - pi_0 class by class: 1 - prod(1 - lambda) = -expm1(sum log(1 - lambda)),
        # so log(1 - pi_0) stays accurate when pi_0 is near 1
        top_unseen, top_seen = seen_by_class(log_w, log_miss, unseen_j, seen_j)
        acc = 0.0
        acc_seen = 0.0
        for j in range(classes):
            acc += np.exp(unseen_j[j] - top_unseen)
            acc_seen += np.exp(seen_j[j] - top_seen)
        log_odds = top_unseen + np.log(acc) - top_seen - np.log(acc_seen)
        # (1) the number on no list
        if log_odds > max_log_odds:
            return False, 0, log_odds, 0, 0.0, False
        # n_0 and its split over the classes at once: NegativeBinomial(n, 1 - pi_0) is
        # Poisson(G pi_0 / (1 - pi_0)) with G ~ Gamma(n, 1), and a Poisson count split
        # multinomially gives independent Poisson counts, m_0j ~ Poisson(G w_j u_j / (1 - pi_0))
        # with u_j = prod_k (1 - lambda_jk)
        scale = np.random.gamma(float(n), 1.0)
        log_seen = top_seen + np.log(acc_seen)
        hidden = 0
        for j in range(classes):
            members[j] = np.random.poisson(scale * np.exp(unseen_j[j] - log_seen))
            hidden += members[j]
            for kk in range(k):
                captured[j, kk] = 0
        # (2) classes of the people in every cell
        for i in range(occupied.shape[0]):
            c = occupied[i]
            left = replica_counts[c]
            if left == 0:
                continue
            top = -np.inf
            for j in range(classes):
                value = log_w[j]
                for kk in range(k):
                    value += log_cap[j, kk] if bits[c, kk] > 0 else log_miss[j, kk]
                prob[j] = value
                top = max(top, value)
            mass = 0.0
            for j in range(classes):
                prob[j] = np.exp(prob[j] - top)
                mass += prob[j]
            if left <= classes:  # few people: one categorical draw each
                for _ in range(left):
                    u = np.random.random() * mass
                    j = 0
                    while j < classes - 1 and u >= prob[j]:
                        u -= prob[j]
                        j += 1
                    members[j] += 1
                    for kk in range(k):
                        if bits[c, kk] > 0:
                            captured[j, kk] += 1
                continue
            for j in range(classes):  # many: sequential binomials
                drawn_by_class[j] = 0
            _allocate(left, prob, mass, drawn_by_class)
            for j in range(classes):
                members[j] += drawn_by_class[j]
                for kk in range(k):
                    if bits[c, kk] > 0:
                        captured[j, kk] += drawn_by_class[j]
        used = 0
        for j in range(classes):
            used += members[j] > 0
        # (2b) classes of the survey respondents: on list k with probability w_j lambda_jk,
        # not on it with w_j (1 - lambda_jk)
        for j in range(classes):
            survey_members[j] = 0
            for kk in range(k):
                survey_on[j, kk] = 0
                survey_off[j, kk] = 0
        for s in range(survey_lists.shape[0]):
            kk = survey_lists[s]
            for on in range(2):
                count = np.int64(survey_hits[s] if on == 1 else survey_misses[s])
                if count == 0:
                    continue
                top = -np.inf
                for j in range(classes):
                    prob[j] = log_w[j] + (log_cap[j, kk] if on == 1 else log_miss[j, kk])
                    top = max(top, prob[j])
                mass = 0.0
                for j in range(classes):
                    prob[j] = np.exp(prob[j] - top)
                    mass += prob[j]
                for j in range(classes):
                    drawn_by_class[j] = 0
                _allocate(count, prob, mass, drawn_by_class)
                for j in range(classes):
                    survey_members[j] += drawn_by_class[j]
                    if on == 1:
                        survey_on[j, kk] += drawn_by_class[j]
                    else:
                        survey_off[j, kk] += drawn_by_class[j]
        # (2c) relabelling: swap the labels of two classes (with their people) when the order of the
        # class sizes, sticks integrated out, favours it; capture probabilities and sticks are drawn
        # afresh below given the classes, so they follow
        if classes > 1:
            for _ in range(classes):
                j = np.random.randint(0, classes)
                other = np.random.randint(0, classes - 1)
                other += other >= j
                log_before = log_order(members, survey_members, alpha)
                _swap_labels(j, other, members, survey_members, captured, survey_on, survey_off)
                if np.log(np.random.random()) >= log_order(members, survey_members, alpha) - log_before:
                    _swap_labels(j, other, members, survey_members, captured, survey_on, survey_off)
        # (3) capture probabilities
        for j in range(classes):
            for kk in range(k):
                log_cap[j, kk], log_miss[j, kk] = _log_beta_variate(
                    a_cap + captured[j, kk] + survey_on[j, kk],
                    b_cap + members[j] - captured[j, kk] + survey_off[j, kk])
        # (4) sticks, (5) concentration
        if classes > 1:
            after = 0
            for j in range(classes):
                after += members[j] + survey_members[j]
            remaining = 0.0
            stick_sum = 0.0
            for j in range(classes - 1):
                after -= members[j] + survey_members[j]
                log_v, log_rest[j] = _log_beta_variate(1.0 + members[j] + survey_members[j], alpha + after)
                log_w[j] = log_v + remaining
                remaining += log_rest[j]
                stick_sum -= log_rest[j]
            log_w[classes - 1] = remaining
            alpha = np.random.gamma(a_alpha + classes - 1, 1.0 / (b_alpha + stick_sum))
        state[0] = alpha
        if leapfrog == 0:
            return True, hidden, log_odds, used, 0.0, False
        # (6) HMC on the marginal posterior of the capture logits and log stick lengths
        _to_q(log_cap, log_miss, log_rest, q)
        n_steps = leapfrog // 2 + np.random.randint(0, leapfrog + 1)
        step = np.exp(state[1]) if sweep < tune else np.exp(state[3])
        accept, divergent, moved = _hmc(q, occupied, occupied_counts, survey_lists, survey_hits,
                                        survey_misses, step, n_steps, inv_mass, work)
        if sweep < tune:
            m = sweep + 1.0
            state[2] += (target - accept - state[2]) / (m + 10.0)
            state[1] = state[4] - np.sqrt(m) / 0.05 * state[2]
            eta = m ** -0.75
            state[3] = eta * state[1] + (1.0 - eta) * state[3]
        if not moved:
            return True, hidden, log_odds, used, accept, divergent
        for j in range(classes):
            for kk in range(k):
                z = q[j * k + kk]
                log_cap[j, kk] = -np.log1p(np.exp(-z)) if z > -30.0 else z
                log_miss[j, kk] = log_cap[j, kk] - z
        if classes > 1:
            remaining = 0.0
            stick_sum = 0.0
            for j in range(classes - 1):
                u = np.exp(q[classes * k + j])
                log_rest[j] = -u
                log_w[j] = np.log(-np.expm1(-u)) + remaining
                remaining -= u
                stick_sum += u
            log_w[classes - 1] = remaining
            state[0] = np.random.gamma(a_alpha + classes - 1, 1.0 / (b_alpha + stick_sum))
        return True, hidden, log_odds, used, accept, divergent

    return _sweep

r"""Simulate multiple-list data with a known population size (numpy only).

Used to check estimators: coverage of intervals, bias, behaviour under list
dependence and heterogeneity. Cells follow :mod:`hiddenrate.core.design`:
cell ``i`` is on list ``j`` iff ``(i >> j) & 1``; cell 0 is "on no list".

The model
---------
Each of ``N`` people independently falls in cell ``c`` with probability
:math:`\pi_c`, so the full table is :math:`\operatorname{Multinomial}(N, \pi)`.

* Independent lists with capture probabilities :math:`p_j`:
  :math:`\pi_c = \prod_j p_j^{c_j} (1 - p_j)^{1 - c_j}`.
* Pairwise dependence with log odds ratios :math:`\gamma_{ij}`:
  :math:`\pi_c \propto \prod_j p_j^{c_j}(1-p_j)^{1-c_j} \exp(\sum_{i<j} \gamma_{ij} c_i c_j)`,
  renormalised. This is the log-linear model with two-way interactions
  :math:`\gamma_{ij}` (the conditional log odds ratio of lists ``i`` and ``j``
  given the others). The :math:`p_j` are then *baseline* parameters, not the
  marginal capture probabilities: with :math:`\gamma > 0` the marginal
  probabilities of the lists involved rise above :math:`p_j` (and fall with
  :math:`\gamma < 0`), and the share never captured changes accordingly.
* Heterogeneity: latent classes with weights :math:`w_m` and class-specific
  capture probabilities :math:`p_{mj}`: :math:`\pi_c = \sum_m w_m \pi_c^{(m)}`
  (Manrique-Vallier 2016). With ``log_odds_ratios`` as well, each class's
  distribution is tilted and renormalised before mixing.

References
----------
Manrique-Vallier, D. (2016). Bayesian population size estimation using
Dirichlet process mixtures. *Biometrics* 72, 1246-1254.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.design import n_cells, patterns

__all__ = ["cell_probabilities", "counts_to_frame", "simulate_list_counts"]


def _check_probs(probs: Sequence[float], what: str) -> np.ndarray:
    values = np.asarray(probs, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ModelError(f"{what} must be a sequence of at least 2 probabilities (one per list), got {probs!r}")
    if not np.all((values > 0) & (values < 1)):
        raise ModelError(f"{what} must lie strictly between 0 and 1, got {values.tolist()}")
    return values


def cell_probabilities(
    capture_probs: Sequence[float] | None,
    *,
    log_odds_ratios: Mapping[tuple[int, int], float] | None = None,
    classes: Sequence[tuple[float, Sequence[float]]] | None = None,
) -> np.ndarray:
    r"""Cell probabilities :math:`\pi` (length ``2**K``, summing to 1) of the simulation model.

    Parameters are those of :func:`simulate_list_counts`; see the module docstring for the math.

    Raises
    ------
    ModelError
        For probabilities outside (0, 1), class weights that are not positive, lists of
        different lengths, a pair naming a list outside ``0..K-1`` or a list with itself,
        or both ``capture_probs`` and ``classes`` given.
    """
    if classes is None:
        if capture_probs is None:
            raise ModelError("give capture_probs (one per list) or classes")
        components = [(1.0, _check_probs(capture_probs, "capture_probs"))]
    else:
        if capture_probs is not None:
            raise ModelError("classes replace capture_probs: pass capture_probs=None when classes are given")
        if len(classes) == 0:
            raise ModelError("classes must contain at least one (weight, capture probs) pair")
        components = [(float(w), _check_probs(p, f"capture probs of class {m}")) for m, (w, p) in enumerate(classes)]
    k = components[0][1].size
    if any(p.size != k for _, p in components):
        raise ModelError(f"every class needs one capture probability per list ({k})")
    weights = np.array([w for w, _ in components])
    if not np.all(np.isfinite(weights) & (weights > 0)):
        raise ModelError(f"class weights must be positive, got {weights.tolist()}")
    weights = weights / weights.sum()

    pat = patterns(k).astype(float)
    tilt = np.zeros(n_cells(k))
    for pair, gamma in dict(log_odds_ratios or {}).items():
        i, j = (int(x) for x in pair)
        if i == j or not (0 <= i < k and 0 <= j < k):
            raise ModelError(f"log_odds_ratios key {pair!r} must name two different lists in 0..{k - 1}")
        if not np.isfinite(gamma):
            raise ModelError(f"log odds ratio of lists {pair!r} must be finite, got {gamma!r}")
        tilt += float(gamma) * pat[:, i] * pat[:, j]

    pi = np.zeros(n_cells(k))
    for weight, (_, probs) in zip(weights, components):
        log_pi = pat @ np.log(probs) + (1 - pat) @ np.log1p(-probs) + tilt
        class_pi = np.exp(log_pi - log_pi.max())
        pi += weight * class_pi / class_pi.sum()
    return pi / pi.sum()


def simulate_list_counts(
    n_total: int,
    capture_probs: Sequence[float] | None,
    *,
    rng: np.random.Generator,
    log_odds_ratios: Mapping[tuple[int, int], float] | None = None,
    classes: Sequence[tuple[float, Sequence[float]]] | None = None,
) -> np.ndarray:
    r"""Simulate a full K-list table for a population of known size.

    Parameters
    ----------
    n_total : int
        True population size N (>= 0).
    capture_probs : sequence of float, length K
        Probability that a person is on list ``j`` (independent lists); under
        ``log_odds_ratios`` a baseline parameter instead (see Notes). Pass ``None``
        when ``classes`` is given.
    rng : numpy.random.Generator
        Source of randomness (e.g. ``np.random.default_rng(seed)``).
    log_odds_ratios : mapping {(i, j): gamma}, optional
        Pairwise list dependence: the cell probabilities are multiplied by
        :math:`\exp(\sum \gamma_{ij} c_i c_j)` and renormalised. ``gamma > 0``: people on
        list ``i`` are more likely to be on list ``j`` (positive dependence, which makes
        independence-model estimates of N too low).
    classes : sequence of (weight, capture probs), optional
        Heterogeneous capture: latent classes with the given (relative) weights and
        per-list capture probabilities; replaces ``capture_probs``.

    Returns
    -------
    numpy.ndarray of int64, length ``2**K``
        Counts per cell; entry 0 is the true number on no list (unobserved in real data),
        so ``counts.sum() == n_total``.

    Notes
    -----
    The table is :math:`\operatorname{Multinomial}(N, \pi)` with :math:`\pi` from
    :func:`cell_probabilities`. With dependence the marginal capture probabilities are
    no longer ``capture_probs``: for ``gamma > 0`` they increase, for ``gamma < 0`` they
    decrease. Compute the realised marginals from ``cell_probabilities`` if needed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> table = simulate_list_counts(2000, [0.3, 0.2, 0.25], rng=rng)
    >>> int(table.sum()), table.shape
    (2000, (8,))
    """
    if int(n_total) != n_total or n_total < 0:
        raise ModelError(f"n_total must be a whole number >= 0, got {n_total!r}")
    pi = cell_probabilities(capture_probs, log_odds_ratios=log_odds_ratios, classes=classes)
    return rng.multinomial(int(n_total), pi).astype(np.int64)


def counts_to_frame(counts: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Observed cells as a table in the Rcapture / SparseMSE layout.

    Parameters
    ----------
    counts : array of int, length ``2**K``
        Counts in hiddenrate's cell order; entry 0 (on no list) is not written.
    names : sequence of str, length K
        List names, in the order of the bits (list ``j`` is bit ``j``).

    Returns
    -------
    pandas.DataFrame
        One 0/1 column per list, then ``count``; one row per observed pattern, ordered by
        cell index (``1 .. 2**K - 1``). Rows with count 0 are *kept*, so every observed
        pattern appears and sampling zeros are explicit (Rcapture's ``dfreq = TRUE`` and
        SparseMSE both accept them).

    Raises
    ------
    DataError
        If ``counts`` does not have length ``2**len(names)``, or holds negative or
        non-whole numbers; if names are not unique or include ``count``.
    """
    names = [str(name) for name in names]
    k = len(names)
    values = np.asarray(counts)
    if values.ndim != 1 or values.shape[0] != n_cells(k):
        raise DataError(f"counts must have length 2**{k} = {n_cells(k)} for lists {names}, got shape {values.shape}")
    if len(set(names)) != k or "count" in names:
        raise DataError(f"list names must be unique and not 'count', got {names}")
    if not np.all(np.isfinite(values[1:])) or np.any(values[1:] < 0) or np.any(values[1:] != np.round(values[1:])):
        raise DataError("counts must be whole numbers >= 0")
    frame = pd.DataFrame(patterns(k)[1:].astype(np.int64), columns=names)
    frame["count"] = values[1:].astype(np.int64)
    return frame

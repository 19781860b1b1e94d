"""Existence and identifiability of log-linear maximum likelihood estimates with sampling zeros.

The Poisson log-linear model for ``K`` lists is fitted to the ``2**K - 1`` observed cells,
:math:`\\log \\mu_c = x_c^\\top \\beta`. Its log-likelihood
:math:`\\ell(\\beta) = \\sum_c n_c x_c^\\top\\beta - \\sum_c e^{x_c^\\top\\beta}` has no maximiser
(the MLE does not exist) exactly when there is a *direction of recession* :math:`d` with

.. math::

    (X d)_c \\le 0 \\text{ for every observed cell}, \\quad
    (X d)_c = 0 \\text{ where } n_c > 0, \\quad (X d)_c < 0 \\text{ for some cell},

because along :math:`\\beta + t d` the likelihood increases towards its supremum as
:math:`t \\to \\infty`. The union of the cells with :math:`(Xd)_c < 0` over all such directions is
found by one linear programme (the directions form a convex cone, so a maximiser of
:math:`\\sum_c \\min(1, -(Xd)_c)` is negative on all of them); we repeat it on what is left to
guard against cells that a floating-point solver misses. Its complement is the *facial set*
:math:`F` (Fienberg & Rinaldo 2012). The *extended MLE* fits the model to the cells of
:math:`F` and sets the other fitted values to 0; parameters that are not estimable from
:math:`F` (``e_j`` not in the row space of :math:`X_F`) are infinite in the extended MLE.

The quantity of interest is the mean of the unobserved cell, :math:`e^{\\beta_0}` (the
intercept). It is determined by the data when :math:`e_0` lies in the row space of
:math:`X_F`. Otherwise some recession direction (or a direction of flatness) moves the
intercept: if one can do so with :math:`d_0 = 0` the likelihood is flat in the intercept and
``N`` is not identifiable; if every such direction has :math:`d_0 > 0` the likelihood keeps
increasing as ``N`` grows without bound (no MLE of ``N``); with :math:`d_0 < 0` it increases
as the hidden count shrinks to 0 (no MLE in the interior either).

Assumptions: counts are non-negative whole numbers; the model is hierarchical (not needed
by the mathematics, but checked by the callers).

References
----------
Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
*Annals of Statistics* 40(2), 996-1023.
Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse
capture data: inferential challenges when there are nonoverlapping lists. *JASA* 116,
1297-1306.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.core.design import Terms, design_matrix, is_hierarchical, normalize_terms

# A cell counts as "pushed to zero" by the LP when its slack exceeds this (slacks are capped at 1).
_LP_SUPPORT_TOL = 1e-7

# Which way the recession directions move the intercept when it is not estimable.
INTERCEPT_FIXED = "fixed"  # estimable: N is determined by the data
INTERCEPT_FREE = "free"  # flat in the intercept: N not identifiable
INTERCEPT_TO_INFINITY = "to-infinity"  # likelihood increases as N grows: no MLE, N -> infinity
INTERCEPT_TO_ZERO = "to-zero"  # likelihood increases as the hidden count shrinks to 0


@dataclass(frozen=True)
class MleExistence:
    """Whether, and in which sense, the log-linear MLE and the MLE of ``N`` exist.

    Attributes
    ----------
    exists : bool
        True when the ordinary MLE exists (no observed cell is fitted 0).
    facial_cells : tuple of int
        Observed cells kept in the extended MLE (the facial set ``F``).
    zero_cells : tuple of int
        Observed cells fitted exactly 0 in the extended MLE (all have count 0).
    infinite_terms : Terms
        Interaction terms not estimable from the facial set: their MLE is infinite
        (-infinity for a pair of lists that never overlap).
    n_params : int
        Rank of the design restricted to the facial set.
    identifiable : bool
        False when the likelihood does not determine ``N`` (flat in the intercept).
    finite : bool
        True when the MLE of ``N`` exists and is finite: the intercept is estimable from the
        facial set.
    intercept : str
        ``"fixed"``, ``"free"`` (not identifiable), ``"to-infinity"`` (no MLE; the
        likelihood increases as ``N`` grows) or ``"to-zero"`` (the likelihood increases as
        the hidden count shrinks to 0).
    """

    exists: bool
    facial_cells: tuple[int, ...]
    zero_cells: tuple[int, ...]
    infinite_terms: Terms
    n_params: int
    identifiable: bool
    finite: bool
    intercept: str


def validate_counts(counts: np.ndarray, k: int) -> np.ndarray:
    """Check a count vector and return it as floats with entry 0 set to 0.

    Raises
    ------
    ModelError
        If ``k`` is not an integer of at least 2.
    DataError
        If the vector has the wrong length, or counts that are negative, not whole numbers
        or not finite, or a list with no records, or no records at all.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ModelError(f"k (the number of lists) must be a whole number >= 2, got {k!r}")
    try:
        vector = np.array(counts, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise DataError(f"counts must be a vector of numbers ({error})") from None
    if vector.size != 1 << k:
        raise DataError(
            f"counts must have 2**k = {1 << k} entries for k = {k} lists (entry 0 = the unobserved "
            f"cell, ignored), got {vector.size}"
        )
    vector[0] = 0.0
    bad = np.flatnonzero(~np.isfinite(vector) | (vector < 0) | (np.abs(vector - np.round(vector)) > 1e-9))
    if bad.size:
        cell = int(bad[0])
        raise DataError(
            f"count for capture pattern {cell} (cell index) is {vector[cell]!r}; counts must be whole numbers >= 0"
        )
    vector = np.round(vector)
    if vector.sum() <= 0:
        raise DataError("all counts are 0: there is nobody observed to estimate from")
    cells = np.arange(1 << k)
    for j in range(k):
        if vector[((cells >> j) & 1) == 1].sum() == 0:
            raise DataError(
                f"list {j + 1} (bit {j}) has no records; drop it before fitting (its main effect would be -infinity)"
            )
    return vector


def validate_terms(terms: Terms, k: int) -> Terms:
    """Normalise interaction terms and check them against ``k`` lists and hierarchy.

    Raises
    ------
    ModelError
        If a term names a list outside ``0..k-1`` or the model is not hierarchical.
    """
    try:
        normalized = normalize_terms(terms)
    except TypeError:
        raise ModelError(
            f"terms must be a sequence of tuples of list indices, e.g. ((0, 1), (0, 2)); got {terms!r}"
        ) from None
    for term in normalized:
        if term[0] < 0 or term[-1] >= k:
            raise ModelError(f"term {term} refers to a list outside 0..{k - 1} (there are {k} lists)")
    if not is_hierarchical(normalized):
        raise ModelError(
            f"the model {normalized} is not hierarchical: every sub-interaction of a term must be in the "
            "model too (use hiddenrate.core.design.hierarchical_closure)"
        )
    return normalized


def null_space(matrix: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (as columns) of the null space of ``matrix``."""
    n_rows, n_cols = matrix.shape
    if n_rows < n_cols:  # pad with zero rows so that the thin SVD returns all of V
        matrix = np.vstack([matrix, np.zeros((n_cols - n_rows, n_cols))])
    if n_cols == 0:
        return np.zeros((0, 0))
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    cutoff = rtol * max(singular.max(initial=0.0), 1.0) * max(matrix.shape)
    rank = int(np.sum(singular > cutoff))
    return vt[rank:].T


def column_basis(matrix: np.ndarray, rtol: float = 1e-10) -> list[int]:
    """Indices of a maximal set of independent columns, chosen greedily from the left.

    Keeping the intercept and main effects first means a reduced design keeps the usual
    meaning of the intercept whenever it is estimable.
    """
    kept: list[int] = []
    orthonormal: list[np.ndarray] = []
    for j in range(matrix.shape[1]):
        column = matrix[:, j].astype(float)
        norm = float(np.linalg.norm(column))
        if norm == 0.0:
            continue
        residual = column.copy()
        for _ in range(2):  # re-orthogonalise once for stability
            for q in orthonormal:
                residual -= (q @ residual) * q
        if np.linalg.norm(residual) > rtol * max(norm, 1.0) * 1e3:
            orthonormal.append(residual / np.linalg.norm(residual))
            kept.append(j)
    return kept


def _recession_support(design: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Boolean mask of observed cells that some direction of recession pushes to zero.

    ``design`` and ``counts`` are restricted to the observed cells. Solves, repeatedly,
    ``max sum(z)`` subject to ``X_P d = 0``, ``X_Z d + z <= 0``, ``0 <= z <= 1`` where ``P``
    are cells with positive counts and ``Z`` the zero cells not yet found.
    """
    positive = counts > 0
    found = np.zeros(len(counts), dtype=bool)
    if np.linalg.matrix_rank(design[positive]) == design.shape[1]:
        return found  # X_P d = 0 only for d = 0: no direction of recession, no linear programme needed
    # Imported here, not at the top: scipy.optimize costs ~0.2 s of start-up.
    from scipy.optimize import linprog

    while True:
        candidates = np.flatnonzero(~positive & ~found)
        if candidates.size == 0:
            return found
        n_par = design.shape[1]
        n_z = candidates.size
        objective = np.concatenate([np.zeros(n_par), -np.ones(n_z)])
        a_ub = np.hstack([design[candidates], np.eye(n_z)])
        a_eq = np.hstack([design[positive], np.zeros((int(positive.sum()), n_z))])
        bounds = [(None, None)] * n_par + [(0.0, 1.0)] * n_z
        result = linprog(
            objective,
            A_ub=a_ub,
            b_ub=np.zeros(n_z),
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=np.zeros(a_eq.shape[0]) if a_eq.shape[0] else None,
            bounds=bounds,
            method="highs",
        )
        if result.status != 0:
            raise EstimationError(
                f"the linear programme that checks whether the MLE exists failed ({result.message}); "
                "this is a bug in hiddenrate, please report it with the data"
            )
        direction = result.x[:n_par]
        slack = result.x[n_par:]
        # Confirm with the direction itself, not only the slacks.
        pushed = (slack > _LP_SUPPORT_TOL) & (design[candidates] @ direction < -_LP_SUPPORT_TOL / 10)
        if not pushed.any():
            return found
        found[candidates[pushed]] = True


def _intercept_direction(facial_design: np.ndarray, zero_design: np.ndarray) -> str:
    """Classify how directions that keep the facial fit move the intercept (column 0).

    Feasibility LPs over ``X_F d = 0``, ``X_S d <= -1`` with ``d_0`` fixed to 0, +1 or -1.
    """
    # Imported here, not at the top: scipy.optimize costs ~0.2 s of start-up.
    from scipy.optimize import linprog

    n_par = facial_design.shape[1]
    for d0, label in ((0.0, INTERCEPT_FREE), (1.0, INTERCEPT_TO_INFINITY), (-1.0, INTERCEPT_TO_ZERO)):
        if zero_design.shape[0] == 0:
            return INTERCEPT_FREE
        bounds = [(d0, d0)] + [(None, None)] * (n_par - 1)
        result = linprog(
            np.zeros(n_par),
            A_ub=zero_design,
            b_ub=-np.ones(zero_design.shape[0]),
            A_eq=facial_design if facial_design.shape[0] else None,
            b_eq=np.zeros(facial_design.shape[0]) if facial_design.shape[0] else None,
            bounds=bounds,
            method="highs",
        )
        if result.status == 0:
            return label
    return INTERCEPT_FREE


def existence_from_design(design: np.ndarray, counts: np.ndarray, terms: Terms, k: int) -> MleExistence:
    """Existence analysis for a full design (rows ``0..2**k-1``) and a count vector.

    Parameters
    ----------
    design : ndarray, shape (2**k, 1 + k + len(terms))
        Design matrix from :func:`hiddenrate.core.design.design_matrix`.
    counts : ndarray, shape (2**k,)
        Cell counts; entry 0 is ignored.
    terms : Terms
        The interaction terms, in the order of the design's interaction columns.
    k : int
        Number of lists.
    """
    observed = design[1:]
    observed_counts = counts[1:]
    if np.all(observed_counts > 0):
        pushed = np.zeros(len(observed_counts), dtype=bool)
    else:
        pushed = _recession_support(observed, observed_counts)
    facial = ~pushed
    facial_design = observed[facial]
    null_basis = null_space(facial_design)
    estimable = np.all(np.abs(null_basis) < 1e-8, axis=1)
    rank = facial_design.shape[1] - null_basis.shape[1]
    first_term_column = 1 + k
    infinite = tuple(terms[j - first_term_column] for j in range(first_term_column, design.shape[1])
                     if pushed.any() and not estimable[j])
    if estimable[0]:
        intercept = INTERCEPT_FIXED
    else:
        intercept = _intercept_direction(facial_design, observed[pushed])
    cells = np.arange(1, len(counts))
    return MleExistence(
        exists=not pushed.any(),
        facial_cells=tuple(int(c) for c in cells[facial]),
        zero_cells=tuple(int(c) for c in cells[pushed]),
        infinite_terms=infinite,
        n_params=rank,
        identifiable=intercept != INTERCEPT_FREE,
        finite=intercept == INTERCEPT_FIXED,
        intercept=intercept,
    )


def facial_cells_of_complete_table(design: np.ndarray, counts: np.ndarray) -> tuple[int, ...]:
    """Facial set of the complete table (all ``2**k`` cells, cell 0 included with its count).

    Used for the profile likelihood when ``N`` is given a value: with a positive count in
    cell 0 the directions of recession must leave the intercept alone.
    """
    if np.all(counts > 0):
        return tuple(range(len(counts)))
    pushed = _recession_support(design, counts)
    return tuple(int(c) for c in np.flatnonzero(~pushed))


def mle_existence(counts: np.ndarray, k: int, terms: Terms = ()) -> MleExistence:
    """Check whether the log-linear MLE, and the MLE of ``N``, exist for these counts.

    Parameters
    ----------
    counts : array_like, shape (2**k,)
        Counts by capture pattern (cell ``i``: list ``j`` captured iff ``(i >> j) & 1``);
        entry 0 (the unobserved cell) is ignored.
    k : int
        Number of lists.
    terms : Terms
        Hierarchical interaction terms (main effects are always in).

    Returns
    -------
    MleExistence
        The facial set, the cells fitted 0 in the extended MLE, the infinite terms, and
        whether ``N`` is identifiable and finite.

    Raises
    ------
    DataError, ModelError
        For invalid counts or terms.

    Notes
    -----
    Method of Fienberg & Rinaldo (2012), as a linear programme (HiGHS); see the module
    docstring for the mathematics.
    """
    count_vector = validate_counts(counts, k)
    model_terms = validate_terms(terms, k)
    return existence_from_design(design_matrix(k, model_terms), count_vector, model_terms, k)

"""Fit and rank every hierarchical log-linear model at once (and a stepwise fallback).

Speed comes from four facts:

* All models of one data set share the observed-cell design; a model is a mask over its
  columns. Newton-Raphson runs on a whole batch of models at once: the Hessians
  :math:`X^\\top \\mathrm{diag}(\\mu) X` of every model are one matrix product
  ``mu @ XX`` with ``XX[c, (i, j)] = X[c, i] X[c, j]`` (upper triangle), then masked.
* Models are fitted by number of terms, each started from the fit of the model without its
  last term, so Newton needs a few iterations only.
* A term whose lists are never captured together (zero margin) has MLE -infinity and
  every cell containing it is fitted 0 (the direction ``-e_t`` is a direction of
  recession). Such cells are dropped combinatorially, per model, before Newton starts, and
  the columns that vanish on what is left are dropped too.
* Only models where that is not enough (a rank-deficient reduced design, Newton not
  converging, or a zero cell fitted ~0) go through the exact path of
  :func:`hiddenrate.models.lists.loglinear_core.fit_loglinear` (linear programmes of Fienberg &
  Rinaldo 2012). After the combinatorial step the reduced MLE exists whenever Newton
  converges with no fitted value collapsing, so both paths give the same answer.

Rankings use ``bic = -2 loglik + log(n) q`` (``n`` = people observed) or
``aic = -2 loglik + 2 q``, ``q = n_params + len(infinite_terms)`` (see
:mod:`hiddenrate.models.lists.loglinear_core`); models whose MLE of ``N`` does not exist or is not
identifiable are kept, flagged, after all the valid ones.

References
----------
Madigan, D. and York, J. C. (1997). Bayesian methods for estimation of the size of a closed
population. *Biometrika* 84, 19-31 (hierarchical models for capture-recapture).
Baillargeon, S. and Rivest, L.-P. (2007). Rcapture. *J. Statistical Software* 19(5)
(``closedpMS.t``, which fits the same set of models one at a time with ``glm``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np
from scipy.special import gammaln

from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.design import Term, Terms, design_matrix
from hiddenrate.models.lists.existence import validate_counts, validate_terms
from hiddenrate.models.lists.loglinear_core import (
    LoglinearFit,
    _fit,
    _infinite_reason,
    _names_for,
    extended_message,
    ok_message,
    zero_margin_terms,
)

_CRITERIA = ("bic", "aic")
_BATCH_SIZE = 512
_BATCH_MAX_ITER = 60
_COLLAPSED = 1e-9  # a zero cell fitted below this suggests a further direction of recession
_STEP_TOL = 1e-7  # Newton converges quadratically: the error after such a step is ~1e-14


def _check_order(k: int, max_order: int) -> None:
    if isinstance(max_order, bool) or not isinstance(max_order, (int, np.integer)) or not 1 <= max_order <= k:
        raise ModelError(f"max_order must be a whole number from 1 to k = {k}, got {max_order!r}")


def candidate_terms(k: int, max_order: int = 2) -> Terms:
    """All interaction terms of order 2..max_order, by order then lexicographically."""
    return tuple(t for size in range(2, max_order + 1) for t in itertools.combinations(range(k), size))


def _iterate_models(k: int, max_order: int) -> Iterator[Terms]:
    """Yield every hierarchical model (as a tuple of terms) with terms of order <= max_order."""
    if max_order <= 2:
        pairs = candidate_terms(k, 2) if max_order == 2 else ()
        for size in range(len(pairs) + 1):
            yield from itertools.combinations(pairs, size)
        return
    candidates = candidate_terms(k, max_order)

    def extend(index: int, chosen: list[Term], chosen_set: set[Term]) -> Iterator[Terms]:
        if index == len(candidates):
            yield tuple(chosen)
            return
        yield from extend(index + 1, chosen, chosen_set)
        term = candidates[index]
        if len(term) == 2 or all(sub in chosen_set for sub in itertools.combinations(term, len(term) - 1)):
            chosen.append(term)
            chosen_set.add(term)
            yield from extend(index + 1, chosen, chosen_set)
            chosen.pop()
            chosen_set.discard(term)

    yield from extend(0, [], set())


def count_models(k: int, max_order: int = 2, limit: int | None = None) -> int:
    """Number of hierarchical models; stops counting (returns ``limit + 1``) past ``limit``."""
    _check_order(k, max_order)
    if max_order <= 2:
        total = 2 ** (k * (k - 1) // 2) if max_order == 2 else 1
        return total if limit is None else min(total, limit + 1)
    count = 0
    for _ in _iterate_models(k, max_order):
        count += 1
        if limit is not None and count > limit:
            break
    return count


def enumerate_models(k: int, max_order: int = 2) -> list[Terms]:
    """Every hierarchical log-linear model with interaction terms of order <= ``max_order``.

    Main effects are always in; ``()`` is the independence model. Models are ordered by
    number of terms, then lexicographically. With ``max_order == 2`` there are
    ``2 ** (k (k - 1) / 2)`` of them (32,768 for six lists, 268 million for eight: the list is
    built in memory, so check :func:`count_models` first).

    Raises
    ------
    ModelError
        If ``max_order`` is not in ``1..k``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ModelError(f"k (the number of lists) must be a whole number >= 2, got {k!r}")
    _check_order(k, max_order)
    return sorted(_iterate_models(k, max_order), key=lambda model: (len(model), model))


# ----------------------------------------------------------------------------------------
# Batch Newton


class _BatchProblem:
    """Shared design of all models with terms from ``candidates``, on the observed cells."""

    def __init__(self, counts: np.ndarray, k: int, candidates: Terms) -> None:
        self.k = k
        self.candidates = candidates
        self.design = design_matrix(k, candidates)[1:]
        self.counts = counts[1:]
        self.n_cells, self.n_cols = self.design.shape
        # Products of pairs of columns, upper triangle only: Hessians are (weights @ outer).
        self._upper = np.triu_indices(self.n_cols)
        self.outer = self.design[:, self._upper[0]] * self.design[:, self._upper[1]]
        self.positive = self.counts > 0
        self.log_factorial = float(gammaln(self.counts + 1.0).sum())
        first = 1 + k
        margins = self.counts @ self.design[:, first:]
        self.zero_margin_columns = np.flatnonzero(margins == 0) + first
        self.column_index = {term: first + i for i, term in enumerate(candidates)}
        self.full_term_columns = [first + i for i, term in enumerate(candidates) if len(term) == k]

    def masks(self, models: Sequence[Terms]) -> tuple[np.ndarray, np.ndarray]:
        """Per model: active (not forced to 0) cells, and active (estimable) columns."""
        columns = np.zeros((len(models), self.n_cols), dtype=bool)
        columns[:, : 1 + self.k] = True
        for row, model in enumerate(models):
            columns[row, [self.column_index[t] for t in model]] = True
        zero_columns = self.zero_margin_columns
        if zero_columns.size:
            killers = columns[:, zero_columns].astype(float) @ self.design[:, zero_columns].T
            cells = killers == 0
        else:
            cells = np.ones((len(models), self.n_cells), dtype=bool)
        columns &= (cells.astype(float) @ self.design) > 0
        return cells, columns

    def _masked_hessian(self, weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """``X' diag(w) X`` per model, with inactive rows/columns replaced by the identity."""
        return masked_hessian(self.outer, self._upper, weights, columns)

    def _loglik(self, beta: np.ndarray, cells: np.ndarray) -> np.ndarray:
        eta = beta @ self.design.T
        mu = np.exp(np.clip(eta, -700.0, 700.0))
        return np.where(cells, self.counts * eta - mu, 0.0).sum(axis=1)

    def full_rank(self, cells: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """True where the reduced design has full column rank (its Gram matrix is well conditioned).

        Models sharing a pattern of active cells are settled at once when the largest
        column set possible on those cells (every column except the k-way one that is not
        identically 0 there) has full rank: any subset of its columns then has too.
        """
        result = np.zeros(cells.shape[0], dtype=bool)
        packed = np.packbits(cells, axis=1)
        if packed.shape[1] <= 8:
            keys = np.zeros((cells.shape[0], 8), dtype=np.uint8)
            keys[:, : packed.shape[1]] = packed
            _, first, inverse = np.unique(keys.view(np.uint64)[:, 0], return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        patterns = cells[first]
        inverse = inverse.reshape(-1)
        widest = (patterns.astype(float) @ self.design) > 0
        widest[:, self.full_term_columns] = False
        settled = self._well_conditioned(patterns, widest)
        result[settled[inverse]] = True
        unsettled = np.flatnonzero(~settled[inverse])
        if unsettled.size:
            result[unsettled] = self._well_conditioned(cells[unsettled], columns[unsettled])
        return result

    def _well_conditioned(self, cells: np.ndarray, columns: np.ndarray) -> np.ndarray:
        eigenvalues = np.linalg.eigvalsh(self._masked_hessian(cells.astype(float), columns))
        return eigenvalues[:, 0] > 1e-9 * eigenvalues[:, -1]

    def newton(
        self, cells: np.ndarray, columns: np.ndarray, start: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batch Newton with step-halving; returns coefficients and a success flag per model.

        ``start`` (models x columns; rows of NaN mean "no start") are warm starts, e.g. the fit
        of a model with one term less; otherwise the weighted least-squares fit of
        ``log(counts + 0.5)`` (as R's ``glm``).
        """
        n_models = cells.shape[0]
        on = columns.astype(float)
        warm = np.zeros(n_models, dtype=bool) if start is None else ~np.isnan(start).any(axis=1)
        beta = np.zeros((n_models, self.n_cols))
        if warm.any() and start is not None:
            beta[warm] = start[warm] * on[warm]
        cold = np.flatnonzero(~warm)
        if cold.size:
            weights = (self.counts + 0.5)[None, :] * cells[cold]
            hessian = self._masked_hessian(weights, columns[cold])
            gradient = ((weights * np.log(self.counts + 0.5)) @ self.design) * on[cold]
            beta[cold], _ = solve_each(hessian, gradient)
        loglik = self._loglik(beta, cells)
        running = np.ones(n_models, dtype=bool)
        ok = np.zeros(n_models, dtype=bool)
        for _ in range(_BATCH_MAX_ITER):
            index = np.flatnonzero(running)
            if index.size == 0:
                break
            b, c, o = beta[index], cells[index], on[index]
            mu = np.where(c, np.exp(np.clip(b @ self.design.T, -700.0, 700.0)), 0.0)
            gradient = ((self.counts - mu) * c) @ self.design * o
            step, singular = solve_each(self._masked_hessian(mu, columns[index]), gradient)
            scale = np.ones(index.size)
            old = loglik[index]
            new = self._loglik(b + step, c)
            worse = new < old - 1e-12 * (np.abs(old) + 1.0)
            for _ in range(40):
                if not worse.any():
                    break
                scale[worse] /= 2.0
                new[worse] = self._loglik(b[worse] + scale[worse, None] * step[worse], c[worse])
                worse = new < old - 1e-12 * (np.abs(old) + 1.0)
            stuck = worse  # step-halving failed: leave the model to the exact path
            new[stuck] = old[stuck]
            scale[stuck] = 0.0
            b = b + scale[:, None] * step
            beta[index], loglik[index] = b, new
            done = np.max(np.abs(scale[:, None] * step), axis=1) < _STEP_TOL
            fitted = np.exp(np.clip(b @ self.design.T, -700.0, 700.0))
            collapsed = np.any(c & ~self.positive & (fitted < _COLLAPSED), axis=1) | singular | stuck
            ok[index[done & ~collapsed]] = True
            running[index[done | collapsed]] = False
        return beta, ok


def masked_hessian(outer: np.ndarray, upper: tuple[np.ndarray, np.ndarray], weights: np.ndarray,
                   columns: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` for a stack of models, inactive rows/columns replaced by the identity.

    Parameters
    ----------
    outer
        Products of design columns over the upper triangle, ``X[:, i] * X[:, j]`` (cells x pairs).
    upper
        The upper-triangle indices ``(i, j)`` matching ``outer``.
    weights
        Poisson weights (fitted means) per model and cell.
    columns
        Which design columns each model uses (models x columns, bool).
    """
    p = columns.shape[1]
    symmetric = np.empty((p, p), dtype=np.intp)  # each (i, j) to its upper-triangle entry
    entries = np.arange(len(upper[0]))
    symmetric[upper] = entries
    symmetric[upper[1], upper[0]] = entries
    on = columns.astype(float)
    # one gather and in-place products: the same numbers as scattering the upper triangle twice
    # and adding a stack of identities, in half the time (the hot loop of the all-model ranking)
    hessian = np.take(weights @ outer, symmetric.ravel(), axis=1).reshape(-1, p, p)
    hessian *= on[:, :, None]
    hessian *= on[:, None, :]
    flat = hessian.reshape(-1, p * p)
    flat[:, :: p + 1] += 1.0 - on
    return hessian


def solve_each(matrices: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a stack of linear systems; singular ones get a zero solution and a True flag (shared with the bootstrap)."""
    try:
        return np.linalg.solve(matrices, vectors[..., None])[..., 0], np.zeros(len(matrices), dtype=bool)
    except np.linalg.LinAlgError:
        solutions = np.zeros_like(vectors)
        singular = np.zeros(len(matrices), dtype=bool)
        for row in range(len(matrices)):
            try:
                solutions[row] = np.linalg.solve(matrices[row], vectors[row])
            except np.linalg.LinAlgError:
                singular[row] = True
        return solutions, singular


def _single_threaded_blas() -> contextlib.AbstractContextManager[object]:
    """Limit BLAS to one thread while fitting batches, when ``threadpoolctl`` is available.

    The batches are many small products and 22 x 22 solves: threads only add
    synchronisation (measured on the 6-list UK data, 2 cores: 1.5 s of CPU with one thread,
    6-13 s with two when the machine is busy). ``threadpoolctl`` comes with PyMC; without it
    nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is installed with PyMC
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _batch_fits(
    counts: np.ndarray, k: int, models: Sequence[Terms], candidates: Terms, names: Sequence[str]
) -> list[LoglinearFit]:
    with _single_threaded_blas():
        return _batch_fits_unlimited(counts, k, models, candidates, names)


def _batch_fits_unlimited(
    counts: np.ndarray, k: int, models: Sequence[Terms], candidates: Terms, names: Sequence[str]
) -> list[LoglinearFit]:
    problem = _BatchProblem(counts, k, candidates)
    observed = float(counts.sum())
    zero_margin = zero_margin_terms(counts, k, candidates)
    has_full_term = np.array([any(len(t) == k for t in model) for model in models], dtype=bool)
    fits: list[LoglinearFit | None] = [None] * len(models)
    labels = _BatchLabels(problem, zero_margin, names, observed)
    # Models are fitted level by level (number of terms), each warm-started from the fit of
    # the model without its last term (still hierarchical: that term is in no other term).
    position = {model: i for i, model in enumerate(models)}
    solutions = np.full((len(models), problem.n_cols), np.nan)
    order = sorted(range(len(models)), key=lambda i: (len(models[i]), i))
    levels: dict[int, list[int]] = {}
    for index in order:
        levels.setdefault(len(models[index]), []).append(index)
    for level in sorted(levels):
        members = levels[level]
        for begin in range(0, len(members), _BATCH_SIZE):
            indices = np.array(members[begin: begin + _BATCH_SIZE])
            chunk = [models[i] for i in indices]
            cells, columns = problem.masks(chunk)
            # Models with the k-way term are never identifiable: they go to the exact path.
            regular = problem.full_rank(cells, columns) & ~has_full_term[indices]
            parents = np.array([position.get(model[:-1], -1) if model else -1 for model in chunk])
            start = np.where((parents >= 0)[:, None], solutions[np.maximum(parents, 0)], np.nan)
            beta = np.zeros((len(chunk), problem.n_cols))
            ok = np.zeros(len(chunk), dtype=bool)
            if regular.any():
                beta[regular], ok[regular] = problem.newton(cells[regular], columns[regular], start[regular])
            solutions[indices[ok]] = beta[ok]
            for row, fit in zip(np.flatnonzero(ok), labels.fits(chunk, ok, cells, columns, beta)):
                fits[int(indices[row])] = fit
    for index, slot in enumerate(fits):
        if slot is None:
            fits[index] = _fit(counts, k, models[index], names).fit
    return [fit for fit in fits if fit is not None]


class _BatchLabels:
    """Turns batch Newton results into LoglinearFit objects (vectorised sums, cached labels)."""

    def __init__(self, problem: _BatchProblem, zero_margin: set[Term], names: Sequence[str], observed: float) -> None:
        self.problem = problem
        self.zero_margin = zero_margin
        self.names = names
        self.observed = observed
        self.log_observed = math.log(observed)
        self._cells: dict[bytes, tuple[int, ...]] = {}
        self._reasons: dict[Terms, str] = {}

    def fits(
        self, models: Sequence[Terms], ok: np.ndarray, cells: np.ndarray, columns: np.ndarray, beta: np.ndarray
    ) -> list[LoglinearFit]:
        problem = self.problem
        rows = np.flatnonzero(ok)
        cells, columns, beta = cells[rows], columns[rows], beta[rows]
        eta = beta @ problem.design.T
        fitted = np.where(cells, np.exp(np.clip(eta, -700.0, 700.0)), 0.0)
        positive = problem.positive
        counts = problem.counts[positive]
        fitted_sum = fitted.sum(axis=1)
        logliks = eta[:, positive] @ counts - fitted_sum - problem.log_factorial
        saturated = counts @ np.log(counts)
        deviances = np.maximum(2.0 * (saturated - eta[:, positive] @ counts) - 2.0 * (self.observed - fitted_sum), 0.0)
        n_params = columns.sum(axis=1)
        n_cells = cells.sum(axis=1)
        hidden = np.exp(np.clip(beta[:, 0], -700.0, 700.0))
        result = []
        for position, row in enumerate(rows):
            model = models[int(row)]
            infinite = tuple(t for t in model if not columns[position, problem.column_index[t]])
            zero_cells = self._zero_cells(cells[position])
            loglik = float(logliks[position])
            penalised = int(n_params[position]) + len(infinite)
            total = self.observed + float(hidden[position])
            if zero_cells:
                status = "extended"
                if infinite not in self._reasons:
                    self._reasons[infinite] = _infinite_reason(infinite, self.zero_margin, self.names)
                message = extended_message(self._reasons[infinite], len(zero_cells), total)
            else:
                status = "ok"
                message = ok_message(total, self.observed)
            result.append(
                LoglinearFit(
                    terms=model,
                    status=status,
                    hidden=float(hidden[position]),
                    total=total,
                    loglik=loglik,
                    deviance=float(deviances[position]),
                    n_params=int(n_params[position]),
                    df=int(n_cells[position] - n_params[position]),
                    aic=-2.0 * loglik + 2.0 * penalised,
                    bic=-2.0 * loglik + self.log_observed * penalised,
                    infinite_terms=infinite,
                    zero_fitted_cells=zero_cells,
                    converged=True,
                    message=message,
                )
            )
        return result

    def _zero_cells(self, active: np.ndarray) -> tuple[int, ...]:
        key = active.tobytes()
        if key not in self._cells:
            self._cells[key] = tuple(int(c) + 1 for c in np.flatnonzero(~active))
        return self._cells[key]


def _criterion_value(fit: LoglinearFit, criterion: str) -> float:
    return fit.bic if criterion == "bic" else fit.aic


def _check_criterion(criterion: str) -> None:
    if criterion not in _CRITERIA:
        raise ModelError(f"unknown criterion {criterion!r}; choose one of: {', '.join(_CRITERIA)}")


def rank_models(
    counts: np.ndarray,
    k: int,
    max_order: int = 2,
    criterion: str = "bic",
    max_models: int = 200_000,
    *,
    names: Sequence[str] | None = None,
) -> list[LoglinearFit]:
    """Fit every hierarchical model and rank them, best first.

    Parameters
    ----------
    counts : array_like, shape (2**k,)
        Counts by capture pattern; entry 0 is ignored.
    k : int
        Number of lists.
    max_order : int
        Highest order of interaction terms considered (main effects are always in).
    criterion : {"bic", "aic"}
        ``bic = -2 loglik + log(n) q`` with ``n`` the number of people observed and
        ``q = n_params + len(infinite_terms)``; ``aic = -2 loglik + 2 q``.
    max_models : int
        Refuse (ModelError) when there are more models than this; use :func:`stepwise`.
    names : sequence of str, optional
        List names used in messages.

    Returns
    -------
    list of LoglinearFit
        Models with a finite (extended) MLE of ``N`` first, by the criterion; then the models
        flagged ``"no-mle"`` or ``"not-identifiable"``, also by the criterion. Ties keep the
        order of :func:`enumerate_models`.

    Raises
    ------
    ModelError
        Unknown criterion, ``max_order`` outside ``1..k`` or too many models.
    DataError
        Invalid counts.
    """
    count_vector = validate_counts(counts, k)
    _check_order(k, max_order)
    _check_criterion(criterion)
    label_names = _names_for(names, k)
    n_models = count_models(k, max_order, limit=max_models)
    if n_models > max_models:
        raise ModelError(
            f"there are more than {max_models:,} hierarchical models with terms up to order {max_order} "
            f"for {k} lists; use stepwise() or a lower max_order, or raise max_models"
        )
    models = enumerate_models(k, max_order)
    fits = _batch_fits(count_vector, k, models, candidate_terms(k, max_order), label_names)
    order = sorted(range(len(fits)), key=lambda i: (not fits[i].valid, _criterion_value(fits[i], criterion), i))
    return [fits[i] for i in order]


def stepwise(
    counts: np.ndarray,
    k: int,
    criterion: str = "bic",
    *,
    start: Terms = (),
    max_order: int = 2,
    max_steps: int = 200,
    names: Sequence[str] | None = None,
) -> LoglinearFit:
    """Bidirectional stepwise search over hierarchical models, for when enumeration is too big.

    From ``start`` (default independence), each step fits every model one term away (adding
    a term of order <= ``max_order`` whose sub-terms are all in, or removing a term that is in
    no larger term) and moves to the one with the lowest criterion among those with a finite
    (extended) MLE of ``N``, while that improves on the current model.

    Returns
    -------
    LoglinearFit
        The model where the search stops. It is a local optimum: compare with
        :func:`rank_models` where enumeration is feasible.

    Raises
    ------
    ModelError
        Unknown criterion, ``max_order`` outside ``1..k``, invalid ``start``.
    """
    count_vector = validate_counts(counts, k)
    _check_order(k, max_order)
    _check_criterion(criterion)
    label_names = _names_for(names, k)
    current_terms = validate_terms(start, k)
    candidates = candidate_terms(k, max_order)
    cache: dict[Terms, LoglinearFit] = {}

    def fit_model(model: Terms) -> LoglinearFit:
        if model not in cache:
            cache[model] = _fit(count_vector, k, model, label_names).fit
        return cache[model]

    def score(fit: LoglinearFit) -> float:
        return _criterion_value(fit, criterion) if fit.valid else math.inf

    current = fit_model(current_terms)
    for _ in range(max_steps):
        in_model = set(current_terms)
        neighbours: list[Terms] = []
        for term in candidates:
            if term in in_model:
                continue
            if len(term) == 2 or all(s in in_model for s in itertools.combinations(term, len(term) - 1)):
                neighbours.append(validate_terms(current_terms + (term,), k))
        for term in current_terms:
            if not any(set(term) < set(other) for other in current_terms):
                neighbours.append(tuple(t for t in current_terms if t != term))
        best_terms, best_fit = current_terms, current
        for model in neighbours:
            fit = fit_model(model)
            if score(fit) < score(best_fit) - 1e-9:
                best_terms, best_fit = model, fit
        if best_terms == current_terms:
            break
        current_terms, current = best_terms, best_fit
    return current

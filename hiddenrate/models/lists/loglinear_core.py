"""Classical log-linear capture-recapture (multiple systems estimation) by maximum likelihood.

Model
-----
With ``K`` lists, cell ``c`` (list ``j`` captured iff ``(c >> j) & 1``) has count
:math:`n_c \\sim \\mathrm{Poisson}(\\mu_c)` independently for the ``2**K - 1`` observed cells,

.. math::

    \\log \\mu_c = \\beta_0 + \\sum_j \\beta_j c_j + \\sum_{t \\in T} \\beta_t \\prod_{j\\in t} c_j ,

with hierarchical interaction terms ``T``. The unobserved cell ``c = 0`` has mean
:math:`e^{\\beta_0}`, so the Poisson (equivalently, conditional-multinomial) MLE of the
population is :math:`\\hat N = n + e^{\\hat\\beta_0}` with ``n`` the number of people observed
(what SparseMSE and R's ``glm`` report). The fit is Newton-Raphson with step-halving on the
cells of the facial set (see :mod:`hiddenrate.models.lists.existence`), so sparse tables give either
the extended MLE or an explicit flag, never a silent huge number.

Profile likelihood for ``N`` (Cormack 1992): for a candidate ``N`` the complete table (observed
cells plus ``N - n`` in cell 0) is multinomial with index ``N``,

.. math::

    \\ell(N) = \\log\\frac{N!}{(N-n)!} + \\max_\\beta \\Big[\\sum_{c \\neq 0} n_c \\log p_c
    + (N - n) \\log p_0\\Big], \\qquad p_c = \\mu_c / \\textstyle\\sum_{c'} \\mu_{c'},

(``lgamma`` makes ``N`` continuous). Rcapture's ``closedpCI.t`` reports the maximiser of
:math:`\\ell(N)` as its point estimate (checked on the reference data: artificial sparse
table, independence model, 530.94 against 539.09 for :math:`n + e^{\\hat\\beta_0}`), and the
interval :math:`\\{N : 2[\\ell(\\hat N) - \\ell(N)] \\le \\chi^2_{1}(\\text{level})\\}`.
:func:`profile_likelihood` (in :mod:`hiddenrate.models.lists.loglinear_profile`, re-exported here) returns
both; :func:`fit_loglinear` returns the Poisson MLE.

Information criteria (constants shared by every model of the same data cancel in rankings):
``aic = -2 loglik + 2 q`` and ``bic = -2 loglik + log(n) q`` where ``loglik`` is the Poisson
log-likelihood of the observed cells (with its ``-log n_c!`` terms), ``n`` the number of people
observed (not the number of cells) and ``q = n_params + len(infinite_terms)``: the rank of the
design on the facial set (intercept included) plus one for every term estimated as infinite.
Counting the infinite terms is SparseMSE's adjustment of AIC (``modelfit``: ``aic + 2 *
number of non-overlapping pairs``); without it, adding a term for two lists that never overlap
would raise the likelihood at no cost and every ranking would be topped by such models. With it,
the best-BIC models of Rcapture's ``closedpMS.t`` (which drops models that warn) are reproduced
on every reference data set.

References
----------
Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed populations.
*Biometrics* 48, 567-576.
Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
*Annals of Statistics* 40, 996-1023.
Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in
R. *Journal of Statistical Software* 19(5).

Examples
--------
>>> import numpy as np
>>> counts = np.array([0, 40, 30, 6, 20, 0, 0, 0])  # lists A, B, C; A and C never overlap
>>> fit = fit_loglinear(counts, 3, ((0, 1),))
>>> fit.status
'no-mle'
>>> round(fit_loglinear(counts, 3).total, 1)
539.1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaln

from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.design import Terms, design_matrix
from hiddenrate.models.lists.existence import (
    INTERCEPT_FIXED,
    INTERCEPT_FREE,
    INTERCEPT_TO_INFINITY,
    MleExistence,
    column_basis,
    existence_from_design,
    mle_existence,
    validate_counts,
    validate_terms,
)

if TYPE_CHECKING:  # re-exported lazily below, to avoid an import cycle
    from hiddenrate.models.lists.loglinear_profile import ProfileLikelihood, profile_interval, profile_likelihood
    from hiddenrate.models.lists.ranking import enumerate_models, rank_models, stepwise

__all__ = [
    "LoglinearFit",
    "MleExistence",
    "ProfileLikelihood",
    "enumerate_models",
    "fit_loglinear",
    "mle_existence",
    "profile_interval",
    "profile_likelihood",
    "rank_models",
    "stepwise",
]

_EXP_CAP = 700.0  # exp(700) ~ 1e304: larger linear predictors are clipped (no overflow warnings)
_NEWTON_MAX_ITER = 200


@dataclass(frozen=True)
class LoglinearFit:
    """Maximum likelihood fit of one log-linear model to the observed cells.

    Attributes
    ----------
    terms : Terms
        Interaction terms (hierarchical; main effects are always in).
    status : str
        ``"ok"`` (the MLE exists), ``"extended"`` (some terms' MLE are infinite; ``N`` from
        the extended MLE), ``"no-mle"`` (the MLE of ``N`` does not exist: the likelihood
        increases as ``N`` goes to infinity, or as the hidden count goes to 0) or
        ``"not-identifiable"`` (the data do not determine ``N`` under this model).
    hidden, total : float or None
        Poisson MLE of the unobserved count, :math:`e^{\\hat\\beta_0}`, and ``n + hidden``;
        None unless status is ``"ok"`` or ``"extended"``.
    loglik : float
        Poisson log-likelihood of the observed cells at the (extended) MLE; for ``"no-mle"``
        and ``"not-identifiable"`` it is the supremum (approached, not attained).
    deviance : float
        ``2 (loglik_saturated - loglik)`` on the observed cells.
    n_params : int
        Rank of the design restricted to the facial set (estimable parameters).
    df : int
        Facial-set cells minus ``n_params``.
    aic, bic : float
        ``-2 loglik + 2 q`` and ``-2 loglik + log(n) q`` with ``n`` the number of people observed
        and ``q = n_params + len(infinite_terms)`` (each infinite term counts as a parameter,
        as in SparseMSE).
    infinite_terms : Terms
        Terms whose MLE is infinite (e.g. -infinity for lists that never overlap).
    zero_fitted_cells : tuple of int
        Observed cells fitted exactly 0 (all have count 0).
    converged : bool
        Whether Newton-Raphson met its tolerance.
    message : str
        One plain-English sentence describing the result.
    """

    terms: Terms
    status: str
    hidden: float | None
    total: float | None
    loglik: float
    deviance: float
    n_params: int
    df: int
    aic: float
    bic: float
    infinite_terms: Terms
    zero_fitted_cells: tuple[int, ...]
    converged: bool
    message: str

    @property
    def valid(self) -> bool:
        """True when the fit gives a finite estimate of ``N`` (status ok or extended)."""
        return self.status in ("ok", "extended")


# ----------------------------------------------------------------------------------------
# Labels and messages


def default_names(k: int) -> tuple[str, ...]:
    """List names used in messages when none are given: ``A, B, C, ...`` (``L1, L2, ...`` past 26)."""
    if k <= 26:
        return tuple(chr(ord("A") + j) for j in range(k))
    return tuple(f"L{j + 1}" for j in range(k))


def _names_for(names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if names is None:
        return default_names(k)
    if len(names) != k:
        raise ModelError(f"names has {len(names)} entries but there are {k} lists")
    return tuple(str(name) for name in names)


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _term_text(term: Sequence[int], names: Sequence[str]) -> str:
    return ":".join(names[j] for j in term)


def _infinite_reason(infinite: Terms, zero_margin: set[tuple[int, ...]], names: Sequence[str]) -> str:
    """Clause explaining the infinite terms, e.g. 'no one is on both A and C, so ...'."""
    never = [t for t in infinite if t in zero_margin]
    others = [t for t in infinite if t not in zero_margin]
    clauses = []
    if never:
        # Describe only the smallest groups of lists that never overlap.
        minimal = [t for t in never if not any(set(u) < set(t) for u in never)]
        groups = [
            ("both " if len(t) == 2 else "all of ") + _join([names[j] for j in t]) for t in minimal[:3]
        ]
        if len(minimal) > 3:
            unit = "pairs of lists" if all(len(t) == 2 for t in minimal) else "groups of lists"
            groups[-1] += f" ({len(minimal)} {unit} in all)"
        labels = _join([_term_text(t, names) for t in never]) if len(never) <= 4 else f"{len(never)} corresponding"
        what = "term is" if len(never) == 1 else "terms are"
        clauses.append(f"no one is on {', or on '.join(groups)}, so the {labels} {what} -infinity")
    if others:
        labels = _join([_term_text(t, names) for t in others]) if len(others) <= 4 else f"{len(others)} other"
        what = "term is" if len(others) == 1 else "terms are"
        clauses.append(f"the {labels} {what} not estimable from the cells that can be fitted (infinite MLE)")
    return "; ".join(clauses)


def zero_margin_terms(counts: np.ndarray, k: int, terms: Terms) -> set[tuple[int, ...]]:
    """Terms whose lists are never all captured together (their margin is 0)."""
    cells = np.arange(1 << k)
    result = set()
    for term in terms:
        inside = np.ones(1 << k, dtype=bool)
        for j in term:
            inside &= ((cells >> j) & 1) == 1
        if counts[inside].sum() == 0:
            result.add(term)
    return result


def ok_message(total: float, observed: float) -> str:
    """Message of a fit whose MLE exists."""
    return f"the MLE exists: N = {total:.1f} ({observed:.0f} observed + {total - observed:.1f} hidden)"


def extended_message(reason: str, n_zero_cells: int, total: float) -> str:
    """Message of an extended MLE; ``reason`` explains the infinite terms."""
    lead = reason or f"{n_zero_cells} cells with zero counts are fitted as 0"
    return f"{lead}; N = {total:.1f} is the extended MLE (as SparseMSE reports)"


def cell_label(cell: int, names: Sequence[str]) -> str:
    """Name a capture pattern by its lists, e.g. ``A+C`` for cell 5."""
    return "+".join(name for j, name in enumerate(names) if (cell >> j) & 1)


def fit_message(
    status: str,
    infinite_terms: Terms,
    zero_cells: Sequence[int],
    intercept: str,
    total: float | None,
    observed: float,
    zero_margin: set[tuple[int, ...]],
    names: Sequence[str],
    terms: Terms,
    k: int,
) -> str:
    """The one-sentence ``message`` of a :class:`LoglinearFit`."""
    if status == "ok" and total is not None:
        return ok_message(total, observed)
    if status == "extended" and total is not None:
        return extended_message(_infinite_reason(infinite_terms, zero_margin, names), len(zero_cells), total)
    # Without a finite MLE of N only the lists that never overlap explain anything.
    reason = _infinite_reason(tuple(t for t in infinite_terms if t in zero_margin), zero_margin, names)
    suffix = f" ({reason})" if reason else ""
    if status == "no-mle":
        shown = ", ".join(cell_label(c, names) for c in zero_cells[:3]) + (", ..." if len(zero_cells) > 3 else "")
        if intercept == INTERCEPT_TO_INFINITY:
            return (
                "the MLE of N does not exist under this model: the likelihood keeps increasing as N goes to "
                f"infinity, the only way it can fit 0 to the empty cells {shown}{suffix}"
            )
        return (
            "the MLE of N does not exist under this model: the likelihood keeps increasing as the hidden "
            f"count shrinks to 0, the only way it can fit 0 to the empty cells {shown}{suffix}"
        )
    if any(len(t) == k for t in terms):
        return (
            f"N is not identifiable under this model: the {k}-way term makes it saturated on the observed "
            "cells, so every N fits equally well"
        )
    return (
        "N is not identifiable under this model: on the cells that can be fitted the likelihood is "
        f"the same for every N{suffix}"
    )


# ----------------------------------------------------------------------------------------
# Numerics


def _safe_exp(eta: np.ndarray) -> np.ndarray:
    return np.exp(np.minimum(eta, _EXP_CAP))


def newton_direction(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """The Newton step ``H^-1 g``, by least squares when ``H`` is singular."""
    try:
        return np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(hessian, gradient, rcond=None)[0]


def _poisson_loglik_kernel(design: np.ndarray, counts: np.ndarray, beta: np.ndarray) -> float:
    eta = design @ beta
    return float(counts @ eta - _safe_exp(eta).sum())


def poisson_newton(
    design: np.ndarray, counts: np.ndarray, beta: np.ndarray | None = None, tol: float = 1e-10
) -> tuple[np.ndarray, bool]:
    """Maximise the Poisson log-likelihood by Newton-Raphson with step-halving.

    Parameters
    ----------
    design : ndarray, shape (cells, p)
        Full column rank design.
    counts : ndarray, shape (cells,)
        Counts.
    beta : ndarray, optional
        Starting value; default the weighted least-squares fit to ``log(counts + 0.5)``.
    tol : float
        Convergence tolerance on the largest coefficient change.

    Returns
    -------
    beta : ndarray
        Coefficients.
    converged : bool
        True when the step and the log-likelihood change met the tolerance.
    """
    if beta is None:
        start = counts + 0.5
        weighted = design * start[:, None]
        beta = np.linalg.lstsq(weighted.T @ design, weighted.T @ np.log(start), rcond=None)[0]
    loglik = _poisson_loglik_kernel(design, counts, beta)
    for _ in range(_NEWTON_MAX_ITER):
        mu = _safe_exp(design @ beta)
        gradient = design.T @ (counts - mu)
        hessian = design.T @ (design * mu[:, None])
        step = newton_direction(hessian, gradient)
        scale = 1.0
        for _ in range(60):
            candidate = beta + scale * step
            new_loglik = _poisson_loglik_kernel(design, counts, candidate)
            if new_loglik >= loglik - 1e-12 * (abs(loglik) + 1.0):
                break
            scale /= 2.0
        else:  # no step improves: at the optimum up to rounding, or stuck
            return beta, bool(gradient @ step < 1e-8 * (abs(loglik) + 1.0))
        change = float(np.max(np.abs(scale * step), initial=0.0))
        improvement = new_loglik - loglik
        beta, loglik = candidate, new_loglik
        if change < tol or (abs(improvement) < 1e-13 * (abs(loglik) + 1.0) and change < 1e-6):
            return beta, True
    return beta, False


def _poisson_summaries(counts: np.ndarray, fitted: np.ndarray) -> tuple[float, float]:
    """Poisson log-likelihood and deviance of observed cells (``counts``/``fitted`` without cell 0)."""
    positive = counts > 0
    log_fitted = np.zeros_like(fitted)
    log_fitted[positive] = np.log(fitted[positive])
    loglik = float(counts @ log_fitted - fitted.sum() - gammaln(counts + 1.0).sum())
    deviance = float(
        2.0 * (counts[positive] @ (np.log(counts[positive]) - log_fitted[positive]))
        - 2.0 * (counts.sum() - fitted.sum())
    )
    return loglik, max(deviance, 0.0)


def information_criteria(loglik: float, n_params: int, n_observed: float) -> tuple[float, float]:
    """AIC ``-2 loglik + 2 p`` and BIC ``-2 loglik + log(n_observed) p``.

    ``p`` is the number of parameters the criteria charge for: the rank of the design on the
    facial set plus the number of infinite terms (see the module docstring).
    """
    return -2.0 * loglik + 2.0 * n_params, -2.0 * loglik + math.log(n_observed) * n_params


@dataclass(frozen=True)
class _FacialFit:
    fit: LoglinearFit
    facial: np.ndarray  # facial cells (indices into the full table)
    basis_design: np.ndarray  # facial design restricted to independent columns (intercept first)
    beta: np.ndarray


def _fit(counts: np.ndarray, k: int, terms: Terms, names: Sequence[str]) -> _FacialFit:
    design = design_matrix(k, terms)
    existence = existence_from_design(design, counts, terms, k)
    facial = np.asarray(existence.facial_cells, dtype=int)
    facial_design = design[facial]
    basis = column_basis(facial_design)
    basis_design = facial_design[:, basis]
    beta, converged = poisson_newton(basis_design, counts[facial])
    fitted = np.zeros(1 << k)
    fitted[facial] = _safe_exp(basis_design @ beta)
    loglik, deviance = _poisson_summaries(counts[1:], fitted[1:])
    observed = float(counts.sum())
    n_params = len(basis)
    infinite_terms = existence.infinite_terms if existence.zero_cells else ()
    aic, bic = information_criteria(loglik, n_params + len(infinite_terms), observed)
    hidden: float | None = None
    total: float | None = None
    if existence.intercept == INTERCEPT_FIXED:
        status = "ok" if existence.exists else "extended"
        hidden = float(_safe_exp(np.array([beta[0]]))[0])
        total = observed + hidden
    elif existence.intercept == INTERCEPT_FREE:
        status = "not-identifiable"
    else:
        status = "no-mle"
    zero_margin = zero_margin_terms(counts, k, terms)
    message = fit_message(
        status, existence.infinite_terms, existence.zero_cells, existence.intercept, total, observed,
        zero_margin, names, terms, k,
    )
    fit = LoglinearFit(
        terms=terms,
        status=status,
        hidden=hidden,
        total=total,
        loglik=loglik,
        deviance=deviance,
        n_params=n_params,
        df=len(facial) - n_params,
        aic=aic,
        bic=bic,
        infinite_terms=infinite_terms,
        zero_fitted_cells=existence.zero_cells,
        converged=converged,
        message=message,
    )
    return _FacialFit(fit=fit, facial=facial, basis_design=basis_design, beta=beta)


def fit_loglinear(
    counts: np.ndarray, k: int, terms: Terms = (), *, names: Sequence[str] | None = None
) -> LoglinearFit:
    """Fit a hierarchical log-linear model by (extended) maximum likelihood.

    Parameters
    ----------
    counts : array_like, shape (2**k,)
        Counts by capture pattern; entry 0 (the unobserved cell) is ignored.
    k : int
        Number of lists (at least 2).
    terms : Terms
        Hierarchical interaction terms, e.g. ``((0, 1), (0, 2))``; ``()`` is independence.
    names : sequence of str, optional
        List names used in the message (default ``A, B, C, ...``).

    Returns
    -------
    LoglinearFit
        With ``total = n + exp(intercept)`` when the (extended) MLE of ``N`` exists.

    Raises
    ------
    DataError
        Counts of the wrong length, negative or fractional counts, a list with no records.
    ModelError
        Terms outside the lists or a model that is not hierarchical.

    Notes
    -----
    First the facial set is found by linear programming (Fienberg & Rinaldo 2012), then the
    Poisson likelihood is maximised on it by Newton-Raphson with step-halving. See the
    module docstring for the mathematics.
    """
    count_vector = validate_counts(counts, k)
    model_terms = validate_terms(terms, k)
    return _fit(count_vector, k, model_terms, _names_for(names, k)).fit


def __getattr__(name: str) -> Any:
    """Expose the ranking and profile functions here too (lazy: those modules import this one)."""
    if name in ("enumerate_models", "rank_models", "stepwise", "count_models"):
        from hiddenrate.models.lists import ranking

        return getattr(ranking, name)
    if name in ("profile_likelihood", "profile_interval", "ProfileLikelihood"):
        from hiddenrate.models.lists import loglinear_profile

        return getattr(loglinear_profile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

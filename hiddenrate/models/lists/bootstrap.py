r"""Forward stepwise log-linear selection with a bootstrap that re-runs the selection.

Which bootstrap
---------------
The *nonparametric* bootstrap of Chan, Silverman & Vincent (2021), as SparseMSE 2.0.1's
``estimatepopulation`` does it: with :math:`n` people observed and :math:`n_c` in capture
pattern :math:`c`, each replicate table is

.. math::

    (n^*_c)_{c \ne 0} \sim \operatorname{Multinomial}\bigl(n, (n_c / n)_{c \ne 0}\bigr),

i.e. the :math:`n` observed people resampled with replacement (:math:`n` held fixed). In every
replicate the *whole* procedure is re-run: forward stepwise selection of two-list
interactions, then the estimate :math:`\hat N^* = n + e^{\hat\beta_0^*}` (Poisson MLE, the
extended MLE when lists never overlap). The interval is the BCa interval (Efron 1987;
DiCiccio & Efron 1996):

.. math::

    \hat z_0 = \Phi^{-1}\bigl(\#\{\hat N^*_b < \hat N\} / B\bigr), \qquad
    \alpha' = \Phi\Bigl(\hat z_0 + \frac{\hat z_0 + z_\alpha}{1 - \hat a (\hat z_0 + z_\alpha)}\Bigr),

and the end for level :math:`\alpha` is the :math:`\alpha'` quantile of the replicates
(Hyndman & Fan type 8, as SparseMSE). The acceleration :math:`\hat a` comes from the
jackknife over people: removing one person from cell :math:`c` gives
:math:`\hat N_{(c)}` (selection re-run), and with weights :math:`n_c`,
:math:`d_c = \bar N_{(\cdot)} - \hat N_{(c)}`,
:math:`\hat a = \sum_c n_c d_c^3 / \bigl(6 (\sum_c n_c d_c^2)^{3/2}\bigr)`.

The selection (SparseMSE's ``stepwisefit``)
-------------------------------------------
Start from main effects. In each cycle, for every two-list term not yet in the model, the
number of people on both lists :math:`n^\star` is compared with its fitted Poisson mean
:math:`\mu^\star` under the current model: :math:`p = \min\{P(X \le n^\star), P(X \ge n^\star)\}`,
:math:`X \sim \operatorname{Poisson}(\mu^\star)`. The term with the smallest :math:`p` is
added if :math:`p <` ``pthresh`` (default 0.02) *and* the enlarged model passes the checks of
SparseMSE's ``checkident``: after removing the cells of lists that never overlap (their term
is :math:`-\infty`), the MLE exists (no direction of recession; Fienberg & Rinaldo 2012) and
the design has full column rank. Otherwise the next smallest :math:`p` is tried; the search
stops when none is below the threshold.

Speed
-----
Every table (the data, the :math:`B` replicates and the jackknife tables) runs the selection
in lock-step: each cycle is one batched Newton-Raphson over all tables at once (warm-started
from the current fit), so 1,000 replicates of a 5-list table take well under a second. A
linear programme is solved only for the rare fits where Newton's fitted values collapse
toward 0 (a sign that the MLE does not exist).

Assumptions: as for any log-linear model (closed population, correct record linkage, the
selected terms absorb list dependence and heterogeneity); the bootstrap treats the observed
people as an i.i.d. sample, holding :math:`n` fixed.

References
----------
Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse
capture data: inferential challenges when there are nonoverlapping lists. *JASA* 116, 1297-1306.
DiCiccio, T. J. & Efron, B. (1996). Bootstrap confidence intervals. *Statistical Science* 11, 189-228.
Fienberg, S. E. & Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
*Annals of Statistics* 40, 996-1023.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri, pdtr, pdtrc

from hiddenrate.core.settings import DEFAULT_LEVELS, DEFAULT_SEED
from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.core.design import Terms, design_matrix, model_label, model_structure
from hiddenrate.models.lists.existence import _recession_support
from hiddenrate.models.lists.ranking import _single_threaded_blas, masked_hessian, solve_each
from hiddenrate.result.value import StratumEstimate

DEFAULT_REPLICATES = 1000
DEFAULT_PTHRESH = 0.02
_MAX_ITER = 60
_STEP_TOL = 1e-8
_EXP_CAP = 700.0
_DIVERGED = 1e-12


@dataclass(frozen=True)
class BootstrapResult:
    """Selection-aware bootstrap of the stepwise log-linear estimate.

    Attributes
    ----------
    estimate
        :math:`n + e^{\\hat\\beta_0}` of the model selected on the data.
    terms
        Two-list terms selected on the data (pairs of list indices).
    replicates
        The estimate of every bootstrap replicate (NaN where a replicate gave none).
    replicate_terms
        How often each selected model occurred among the replicates.
    acceleration, bias_correction
        :math:`\\hat a` (jackknife) and :math:`\\hat z_0`.
    intervals
        BCa interval per level.
    """

    estimate: float
    terms: Terms
    replicates: np.ndarray
    replicate_terms: dict[Terms, int]
    acceleration: float
    bias_correction: float
    intervals: dict[float, tuple[float, float]]
    pthresh: float
    seed: int
    failed: int = 0
    jackknife: np.ndarray = field(default_factory=lambda: np.zeros(0))


class _Stepwise:
    """Forward stepwise selection (SparseMSE's ``stepwisefit``) run on many tables at once."""

    def __init__(self, k: int, pthresh: float) -> None:
        self.k = k
        self.pthresh = pthresh
        self.pairs: Terms = tuple(itertools.combinations(range(k), 2))
        self.design = design_matrix(k, self.pairs)[1:]  # observed cells x (1 + k + pairs)
        self.n_cells, self.n_cols = self.design.shape
        self.first_pair = 1 + k
        self.pair_cells = self.design[:, self.first_pair:].astype(bool)
        self.list_cells = self.design[:, 1:self.first_pair].astype(bool)
        upper = np.triu_indices(self.n_cols)
        self._upper = upper
        self.outer = self.design[:, upper[0]] * self.design[:, upper[1]]

    # ------------------------------------------------------------------ batched Newton
    def _hessian(self, weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return masked_hessian(self.outer, self._upper, weights, columns)

    def _loglik(self, counts: np.ndarray, cells: np.ndarray, beta: np.ndarray) -> np.ndarray:
        eta = np.clip(beta @ self.design.T, -_EXP_CAP, _EXP_CAP)
        return np.where(cells, counts * eta - np.exp(eta), 0.0).sum(axis=1)

    def full_rank(self, cells: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """True where the design restricted to the active cells and columns has full column rank."""
        eigenvalues = np.linalg.eigvalsh(self._hessian(cells.astype(float), columns))
        return eigenvalues[:, 0] > 1e-9 * eigenvalues[:, -1]

    def newton(self, counts: np.ndarray, cells: np.ndarray, columns: np.ndarray,
               start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Poisson MLE on the active cells/columns of each row; returns (beta, ok)."""
        rows = counts.shape[0]
        on = columns.astype(float)
        if start is None:
            weights = (counts + 0.5) * cells
            gradient = ((weights * np.log(counts + 0.5)) @ self.design) * on
            beta, _ = solve_each(self._hessian(weights, columns), gradient)
        else:
            beta = start * on
        loglik = self._loglik(counts, cells, beta)
        running = np.ones(rows, dtype=bool)
        ok = np.zeros(rows, dtype=bool)
        for _ in range(_MAX_ITER):
            index = np.flatnonzero(running)
            if index.size == 0:
                break
            b, c, y = beta[index], cells[index], counts[index]
            mu = np.where(c, np.exp(np.clip(b @ self.design.T, -_EXP_CAP, _EXP_CAP)), 0.0)
            gradient = ((y - mu) * c) @ self.design * on[index]
            step, singular = solve_each(self._hessian(mu, columns[index]), gradient)
            scale = np.ones(index.size)
            old = loglik[index]
            new = self._loglik(y, c, b + step)
            worse = new < old - 1e-12 * (np.abs(old) + 1.0)
            for _ in range(30):
                if not worse.any():
                    break
                scale[worse] /= 2.0
                new[worse] = self._loglik(y[worse], c[worse], b[worse] + scale[worse, None] * step[worse])
                worse = new < old - 1e-12 * (np.abs(old) + 1.0)
            new[worse] = old[worse]
            scale[worse] = 0.0
            b = b + scale[:, None] * step
            beta[index], loglik[index] = b, new
            done = np.max(np.abs(scale[:, None] * step), axis=1) < _STEP_TOL
            # Without an MLE the iterates run off along a direction of recession with steps of
            # order 1, so "converged" and "no MLE" separate cleanly; tiny fitted values alone
            # are no sign (cells on many lists can have fitted means of 1e-12 legitimately).
            failed = singular | worse
            ok[index[done & ~failed]] = True
            running[index[done | failed]] = False
        return beta, ok

    def _mle_exists(self, counts: np.ndarray, cells: np.ndarray, columns: np.ndarray) -> bool:
        """Exact check (linear programme) that the MLE exists on the active cells."""
        design = self.design[np.ix_(cells, columns)]
        return not bool(_recession_support(design, counts[cells]).any())

    # ------------------------------------------------------------------ the selection
    def _fit_checked(self, counts: np.ndarray, cells: np.ndarray, columns: np.ndarray,
                     start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Newton, then the exact existence check for fits that did not settle."""
        beta, ok = self.newton(counts, cells, columns, start)
        fitted = np.exp(np.clip(beta @ self.design.T, -_EXP_CAP, _EXP_CAP))
        # Iterates that ran off along a direction of recession have pushed some empty cells'
        # fitted means to ~0: no MLE, no linear programme needed. Only the ambiguous rest is checked.
        diverged = np.any(cells & (counts == 0) & (fitted < _DIVERGED), axis=1)
        for row in np.flatnonzero(~ok & ~diverged):
            if self._mle_exists(counts[row], cells[row], columns[row]):
                again, fine = self.newton(counts[row:row + 1], cells[row:row + 1], columns[row:row + 1], None)
                beta[row], ok[row] = again[0], fine[0]
        return beta, ok

    def run(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Select and fit on every row of ``counts`` (tables x observed cells).

        Returns the estimates (NaN where none) and the included pairs (tables x pairs).
        """
        counts = np.asarray(counts, dtype=float)
        rows = counts.shape[0]
        observed = counts.sum(axis=1)
        list_totals = counts @ self.list_cells
        overlaps = counts @ self.pair_cells
        cells = np.ones((rows, self.n_cells), dtype=bool)
        columns = np.zeros((rows, self.n_cols), dtype=bool)
        columns[:, :self.first_pair] = True
        # a list with nobody on it: its main effect is -infinity (cells fitted 0)
        empty_list = list_totals == 0
        if empty_list.any():
            cells &= ~((empty_list.astype(float) @ self.list_cells.T) > 0)
            columns[:, 1:self.first_pair] &= ~empty_list
        beta, ok = self._fit_checked(counts, cells, columns, None)
        for row in np.flatnonzero(~ok):  # main effects without an MLE: extended MLE on the facial set
            design = self.design[np.ix_(cells[row], columns[row])]
            pushed = _recession_support(design, counts[row, cells[row]])
            active = np.flatnonzero(cells[row])
            cells[row, active[pushed]] = False
            again, fine = self.newton(counts[row:row + 1], cells[row:row + 1], columns[row:row + 1], None)
            beta[row], ok[row] = again[0], fine[0]
        valid = ok.copy()
        included = np.zeros((rows, len(self.pairs)), dtype=bool)
        active = valid.copy() if self.pthresh > 0 else np.zeros(rows, dtype=bool)
        for _ in range(len(self.pairs)):
            index = np.flatnonzero(active)
            if index.size == 0:
                break
            mu = np.where(cells[index], np.exp(np.clip(beta[index] @ self.design.T, -_EXP_CAP, _EXP_CAP)), 0.0)
            expected = mu @ self.pair_cells
            seen = overlaps[index]
            with np.errstate(invalid="ignore"):
                lower_tail = pdtr(seen, expected)
                upper_tail = np.where(seen > 0, pdtrc(np.maximum(seen - 1, 0), expected), 1.0)
            pvalues = np.minimum(lower_tail, upper_tail)
            pvalues[included[index] | ~np.isfinite(pvalues)] = 1.0
            pending = np.ones(index.size, dtype=bool)
            while pending.any():
                rows_left = np.flatnonzero(pending)
                choice = np.argmin(pvalues[rows_left], axis=1)
                best = pvalues[rows_left, choice]
                stop = best >= self.pthresh
                active[index[rows_left[stop]]] = False
                pending[rows_left[stop]] = False
                rows_try, pair_try = rows_left[~stop], choice[~stop]
                if rows_try.size == 0:
                    break
                target = index[rows_try]
                new_cells = cells[target].copy()
                new_columns = columns[target].copy()
                empty = overlaps[target, pair_try] == 0
                new_cells[empty] &= ~self.pair_cells[:, pair_try[empty]].T
                new_columns[~empty, self.first_pair + pair_try[~empty]] = True
                rank_ok = self.full_rank(new_cells, new_columns)
                new_beta = beta[target].copy()
                fit_ok = np.zeros(target.size, dtype=bool)
                if rank_ok.any():
                    fitted, fine = self._fit_checked(counts[target[rank_ok]], new_cells[rank_ok],
                                                     new_columns[rank_ok], beta[target[rank_ok]])
                    new_beta[rank_ok], fit_ok[rank_ok] = fitted, fine
                accept = rank_ok & fit_ok
                won = target[accept]
                cells[won], columns[won], beta[won] = new_cells[accept], new_columns[accept], new_beta[accept]
                included[won, pair_try[accept]] = True
                pending[rows_try[accept]] = False
                pvalues[rows_try[~accept], pair_try[~accept]] = 1.0
        with np.errstate(over="ignore"):
            hidden = np.exp(np.minimum(beta[:, 0], _EXP_CAP))
        estimates = np.where(valid & np.isfinite(hidden), observed + hidden, np.nan)
        return estimates, included


def bca_interval(replicates: np.ndarray, estimate: float, acceleration: float, level: float) -> tuple[float, float]:
    """BCa interval from bootstrap replicates (DiCiccio & Efron 1996), quantiles of type 8.

    ``z0 = Phi^-1(share of replicates below the estimate)``; the ends are the quantiles at
    ``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = Phi^-1((1 -+ level) / 2)``.
    """
    values = np.sort(replicates[np.isfinite(replicates)])
    if values.size < 2:
        raise EstimationError("too few bootstrap replicates gave an estimate for an interval")
    share_below = float(np.mean(values < estimate))
    z0 = float(ndtri(min(max(share_below, 0.5 / values.size), 1 - 0.5 / values.size)))
    ends = []
    for alpha in ((1 - level) / 2, (1 + level) / 2):
        z = float(ndtri(alpha)) + z0
        adjusted = float(ndtr(z0 + z / (1 - acceleration * z)))
        ends.append(float(np.quantile(values, adjusted, method="median_unbiased")))
    return ends[0], ends[1]


def selection_bootstrap(counts: np.ndarray, k: int, *, replicates: int = DEFAULT_REPLICATES,
                        pthresh: float = DEFAULT_PTHRESH, levels: tuple[float, ...] = DEFAULT_LEVELS,
                        seed: int = DEFAULT_SEED) -> BootstrapResult:
    """Stepwise log-linear estimate with the selection-aware BCa bootstrap (module docstring).

    Parameters
    ----------
    counts : array of int, length ``2**k``
        Cell counts (cell ``i``: list ``j`` iff ``(i >> j) & 1``); entry 0 is ignored.
    k : int
        Number of lists (at least 2).
    replicates : int
        Bootstrap replicates :math:`B` (default 1,000, as SparseMSE).
    pthresh : float
        p-value threshold of the forward selection (0.02, as SparseMSE; 0 = main effects only).
    levels : tuple of float
        Interval levels.
    seed : int
        Seeds the multinomial resampling (``numpy.random.SeedSequence``).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ModelError
        For fewer than 2 lists, fewer than 100 replicates or a threshold outside [0, 1].
    EstimationError
        When no model gives an estimate on the data.
    """
    if k < 2:
        raise ModelError("the stepwise log-linear model needs at least 2 lists")
    if int(replicates) != replicates or replicates < 100:
        raise ModelError(f"the bootstrap needs at least 100 replicates (1,000 recommended), got {replicates}")
    if not 0 <= pthresh <= 1:
        raise ModelError(f"pthresh must be between 0 and 1, got {pthresh}")
    observed = np.asarray(counts, dtype=float)[1:]
    n = int(round(observed.sum()))
    if n <= 0:
        raise EstimationError("nobody is observed: there is nothing to estimate from")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    stepwise = _Stepwise(k, pthresh)
    with _single_threaded_blas():
        first, first_terms = stepwise.run(observed[None, :])
        estimate = float(first[0])
        if not np.isfinite(estimate):
            raise EstimationError("the main-effects log-linear model gives no estimate of N on these data "
                                  "(its maximum-likelihood estimate does not exist)")
        resampled = rng.multinomial(n, observed / n, size=int(replicates)).astype(float)
        nonzero = np.flatnonzero(observed > 0)
        jackknife_tables = np.repeat(observed[None, :], nonzero.size, axis=0)
        jackknife_tables[np.arange(nonzero.size), nonzero] -= 1.0
        estimates, included = stepwise.run(np.vstack([resampled, jackknife_tables]))
    included = np.vstack([first_terms, included])
    boot = estimates[:replicates]
    jack = estimates[replicates:]
    acceleration = _jackknife_acceleration(jack, observed[nonzero])
    finite_boot = boot[np.isfinite(boot)]
    share_below = float(np.mean(finite_boot < estimate)) if finite_boot.size else 0.5
    z0 = float(ndtri(min(max(share_below, 0.5 / max(finite_boot.size, 1)), 1 - 0.5 / max(finite_boot.size, 1))))
    intervals = {level: bca_interval(boot, estimate, acceleration, level) for level in levels}
    chosen = Counter(_terms(stepwise.pairs, row) for row in included[1:1 + replicates])
    return BootstrapResult(
        estimate=estimate,
        terms=_terms(stepwise.pairs, included[0]),
        replicates=boot,
        replicate_terms=dict(chosen.most_common()),
        acceleration=acceleration,
        bias_correction=z0,
        intervals=intervals,
        pthresh=pthresh,
        seed=seed,
        failed=int((~np.isfinite(boot)).sum()),
        jackknife=jack,
    )


def _jackknife_acceleration(jack: np.ndarray, weights: np.ndarray) -> float:
    """BCa acceleration from the jackknife estimates, each weighted by the count of its cell
    (the tables with one person removed from that cell); 0 with fewer than 2 finite estimates."""
    finite = np.isfinite(jack)
    if finite.sum() >= 2:
        mean = float(np.sum(weights[finite] * jack[finite]) / weights[finite].sum())
        deviation = mean - jack[finite]
        spread = float(np.sum(weights[finite] * deviation**2))
        acceleration = float(np.sum(weights[finite] * deviation**3) / (6 * spread**1.5)) if spread > 0 else 0.0
    else:
        acceleration = 0.0
    return acceleration


def _terms(pairs: Terms, row: np.ndarray) -> Terms:
    return tuple(pair for pair, used in zip(pairs, row) if used)


class StepwiseBootstrapModel(ListModel):
    """Forward stepwise log-linear model with a selection-aware BCa bootstrap interval.

    Parameters
    ----------
    bootstrap
        Number of bootstrap replicates (default 1,000).
    pthresh
        p-value threshold for adding a two-list term (default 0.02, as SparseMSE).
    """

    name = "stepwise"
    title = "Stepwise log-linear model with a selection-aware bootstrap (SparseMSE method)"
    description = ("Two-list interactions added one at a time while significant (p < pthresh), as in "
                   "Chan, Silverman & Vincent (2021); the interval re-runs the selection on 1,000 resampled tables.")
    estimate_type = "maximum-likelihood estimate of the selected model"
    interval_type = "BCa bootstrap interval, model selection re-run in every replicate"
    min_lists = 2
    option_names: ClassVar[tuple[str, ...]] = ("bootstrap", "pthresh")
    assumptions: ClassVar[tuple[str, ...]] = (
        "The selected two-list interactions capture all dependence between lists; no interaction among three "
        "or more lists.",
        "Capture probabilities do not vary between people beyond what those interactions absorb.",
        "Closed population, and records matched correctly across lists.",
        "The observed people are a random sample of the observable population (nonparametric bootstrap).",
    )

    def __init__(self, bootstrap: int | None = None, pthresh: float | None = None) -> None:
        self.replicates = int(bootstrap) if bootstrap is not None else DEFAULT_REPLICATES
        self.pthresh = float(pthresh) if pthresh is not None else DEFAULT_PTHRESH
        if self.replicates < 100:
            raise ModelError(f"--bootstrap needs at least 100 replicates (1,000 recommended), got {self.replicates}")
        if not 0 <= self.pthresh <= 1:
            raise ModelError(f"--pthresh must be between 0 and 1, got {self.pthresh}")

    def options(self) -> dict[str, Any]:
        return {"bootstrap": self.replicates, "pthresh": self.pthresh,
                "bootstrap_kind": "nonparametric (multinomial resampling of the observed people), BCa"}

    def describe(self, data: ListData) -> str:
        return f"{self.description} Threshold p < {self.pthresh:g}; {self.replicates:,} replicates."

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        method = diag.exact(f"maximum likelihood; nonparametric bootstrap, {self.replicates:,} replicates, BCa")
        try:
            boot = selection_bootstrap(table.counts, table.k, replicates=self.replicates, pthresh=self.pthresh,
                                       levels=levels, seed=seed)
        except EstimationError as err:
            return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None, diagnostics=method,
                                   reason=str(err))
        return StratumEstimate(
            stratum=table.stratum,
            observed=table.observed,
            total=PointEstimate(boot.estimate, boot.intervals, self.interval_type),
            diagnostics=method,
            warnings=tuple(bootstrap_warnings(boot, table.names)),
            details=bootstrap_details(boot, table.names),
        )


def bootstrap_details(boot: BootstrapResult, names: tuple[str, ...]) -> dict[str, Any]:
    """JSON-ready details: the selected model and how often the replicates chose each model."""
    replicates = boot.replicates.size
    chosen = list(boot.replicate_terms.items())[:8]
    rows = [[model_label(terms, names), count / replicates] for terms, count in chosen]
    return {
        "terms": model_label(boot.terms, names),
        "structure": model_structure(boot.terms, names),
        "pthresh": boot.pthresh,
        "replicates": replicates,
        "failed_replicates": boot.failed,
        "acceleration": boot.acceleration,
        "bias_correction": boot.bias_correction,
        "tables": [{
            "title": f"Models chosen in the {replicates:,} bootstrap replicates",
            "columns": ["model", "share of replicates"],
            "rows": rows,
            "note": "The interval accounts for this variation in the chosen model.",
            "facts": {"models": [model_structure(terms, names) for terms, _ in chosen]},
        }],
    }


def bootstrap_warnings(boot: BootstrapResult, names: tuple[str, ...]) -> list[str]:
    """Plain warnings: unstable selection, failed replicates."""
    warnings = []
    share = boot.replicate_terms.get(boot.terms, 0) / max(boot.replicates.size, 1)
    if share < 0.5:
        warnings.append(
            f"the model chosen on the data ({model_label(boot.terms, names)}) is chosen in only {100 * share:.0f}% of "
            "bootstrap replicates: the model choice is unstable (the interval accounts for it)"
        )
    if boot.failed:
        warnings.append(f"{boot.failed} of {boot.replicates.size:,} bootstrap replicates gave no estimate and were left out")
    return warnings

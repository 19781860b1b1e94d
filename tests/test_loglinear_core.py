"""Tests of the classical log-linear engine: fits, existence, profile likelihood, ranking.

Modules: hiddenrate.models.lists.loglinear_core, .existence, .loglinear_profile, .ranking.
Agreement with the R packages is in test_loglinear_reference.py; here the references are
closed forms and brute-force computations.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln
from scipy.stats import chi2

from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.design import all_pairs, design_matrix, is_hierarchical
from hiddenrate.models.lists.loglinear_core import LoglinearFit, fit_loglinear, mle_existence
from hiddenrate.models.lists.loglinear_profile import profile_interval, profile_likelihood
from hiddenrate.models.lists.ranking import count_models, enumerate_models, rank_models, stepwise

EXAMPLES = Path(__file__).resolve().parents[1] / "hiddenrate" / "data" / "examples" / "lists"

# artificial_sparse_3lists.csv (Chan, Silverman & Vincent): A 40, B 30, A+B 6, C 20; C never
# overlaps A or B. Cell i has list j iff (i >> j) & 1.
ARTIFICIAL = np.array([0, 40, 30, 6, 20, 0, 0, 0], dtype=float)
AB, AC, BC = (0, 1), (0, 2), (1, 2)


def read_counts(name: str) -> tuple[np.ndarray, int]:
    """Count vector of a bundled list data set (absent patterns are zero counts)."""
    with open(EXAMPLES / f"{name}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    k = len(rows[0]) - 1
    counts = np.zeros(1 << k)
    for row in rows[1:]:
        counts[sum(int(bit) << j for j, bit in enumerate(row[:k]))] += float(row[k])
    return counts, k


def poisson_fit_by_irls(design: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Plain IRLS (no step-halving), an independent check of the library's Newton solver."""
    beta = np.linalg.lstsq(design, np.log(counts + 0.5), rcond=None)[0]
    for _ in range(100):
        mu = np.exp(design @ beta)
        working = design @ beta + (counts - mu) / mu
        weighted = design * mu[:, None]
        beta = np.linalg.solve(weighted.T @ design, weighted.T @ working)
    return beta


# ---------------------------------------------------------------------------------------
# Single fits


def test_two_lists_independence_is_lincoln_petersen():
    # N = n1 n2 / n11 (Lincoln-Petersen): hidden = n10 n01 / n11; saturated on 3 observed cells.
    counts = np.array([0, 60, 40, 20], dtype=float)
    fit = fit_loglinear(counts, 2)
    assert isinstance(fit, LoglinearFit)
    assert fit.status == "ok" and fit.converged
    assert fit.hidden == pytest.approx(60 * 40 / 20, rel=1e-10)
    assert fit.total == pytest.approx(80 * 60 / 20, rel=1e-10)
    assert fit.deviance == pytest.approx(0.0, abs=1e-8)
    assert (fit.n_params, fit.df) == (3, 0)
    assert fit.infinite_terms == () and fit.zero_fitted_cells == ()


def test_fit_matches_independent_irls_and_definitions():
    counts, k = read_counts("hiv_rome")
    terms = ((0, 1), (1, 2))
    fit = fit_loglinear(counts, k, terms)
    design = design_matrix(k, terms)[1:]
    beta = poisson_fit_by_irls(design, counts[1:])
    assert fit.hidden == pytest.approx(math.exp(beta[0]), rel=1e-9)
    mu = np.exp(design @ beta)
    observed = counts[1:]
    loglik = float(np.sum(observed * np.log(mu) - mu - gammaln(observed + 1)))
    positive = observed > 0
    deviance = 2 * float(np.sum(observed[positive] * np.log(observed[positive] / mu[positive])) - np.sum(observed - mu))
    n = counts.sum()
    assert fit.loglik == pytest.approx(loglik, rel=1e-10)
    assert fit.deviance == pytest.approx(deviance, rel=1e-8)
    assert (fit.n_params, fit.df) == (1 + k + 2, 15 - (1 + k + 2))
    # aic = -2 loglik + 2 q, bic = -2 loglik + log(n) q, n = people observed.
    assert fit.aic == pytest.approx(-2 * loglik + 2 * fit.n_params, rel=1e-10)
    assert fit.bic == pytest.approx(-2 * loglik + math.log(n) * fit.n_params, rel=1e-10)


def test_profile_matches_brute_force_two_lists():
    # For two lists under independence the complete-table MLE given N is closed form:
    # p1 = n1 / N, p2 = n2 / N. Brute force: evaluate the multinomial profile on a fine grid.
    counts = np.array([0, 60, 40, 20], dtype=float)
    n, n1, n2 = 120.0, 80.0, 60.0
    grid = np.linspace(n + 1e-6, 1500, 400_001)
    p1, p2 = n1 / grid, n2 / grid
    profile = (
        gammaln(grid + 1) - gammaln(grid - n + 1)
        + 20 * np.log(p1 * p2) + 60 * np.log(p1 * (1 - p2)) + 40 * np.log((1 - p1) * p2)
        + (grid - n) * np.log((1 - p1) * (1 - p2))
    )
    deviance = 2 * (profile.max() - profile)
    inside = grid[deviance <= chi2.ppf(0.95, 1)]
    step = grid[1] - grid[0]
    result = profile_likelihood(counts, 2)
    assert result.total == pytest.approx(grid[np.argmax(profile)], abs=2 * step)
    assert result.lower == pytest.approx(inside.min(), abs=2 * step)
    assert result.upper == pytest.approx(inside.max(), abs=2 * step)
    assert result.poisson_total == pytest.approx(240.0)
    assert profile_interval(counts, 2) == (result.lower, result.upper)


def test_profile_lower_end_is_observed_count_when_deviance_never_crosses():
    counts = np.array([0, 3, 3, 1], dtype=float)  # 7 people: N = 7 is inside the 95% region
    result = profile_likelihood(counts, 2)
    assert result.lower == 7.0
    assert result.upper is not None and result.upper > result.total > 7.0


def test_profile_level_changes_width():
    counts, k = read_counts("spina_bifida_new_york")
    lower90, upper90 = profile_interval(counts, k, (), level=0.90)
    lower99, upper99 = profile_interval(counts, k, (), level=0.99)
    assert lower99 < lower90 < upper90 < upper99


# ---------------------------------------------------------------------------------------
# Sparse tables: existence and identifiability (artificial_sparse_3lists)


@pytest.mark.parametrize(
    ("terms", "status", "infinite"),
    [
        ((), "ok", ()),
        ((AC,), "extended", (AC,)),
        ((BC,), "extended", (BC,)),
        ((AC, BC), "extended", (AC, BC)),
        ((AB,), "no-mle", None),
        ((AB, AC), "no-mle", None),
        ((AB, BC), "no-mle", None),
        ((AB, AC, BC), "not-identifiable", None),
    ],
)
def test_artificial_sparse_statuses(terms, status, infinite):
    # Chan, Silverman & Vincent (2021) / SparseMSE checkident: any model with A:B fails, the
    # all-two-way model is not identifiable, [AC, B]-style models have an extended MLE.
    fit = fit_loglinear(ARTIFICIAL, 3, terms)
    assert fit.status == status
    if status in ("ok", "extended"):
        assert fit.total is not None and 96 < fit.total < 1e4
        assert fit.infinite_terms == infinite
    else:
        assert fit.total is None and fit.hidden is None
        assert "does not exist" in fit.message or "not identifiable" in fit.message


def test_artificial_extended_fit_equals_fit_without_the_empty_cells():
    # [AC, B]: no one is on both A and C, so cells A+C (5) and A+B+C (7) are fitted 0 and the
    # rest is the independence model on cells 1, 2, 3, 4, 6.
    fit = fit_loglinear(ARTIFICIAL, 3, (AC,), names=["A", "B", "C"])
    assert fit.zero_fitted_cells == (5, 7)
    assert "no one is on both A and C" in fit.message and "A:C" in fit.message
    keep = [1, 2, 3, 4, 6]
    beta = poisson_fit_by_irls(design_matrix(3)[keep], ARTIFICIAL[keep])
    assert fit.hidden == pytest.approx(math.exp(beta[0]), rel=1e-8)
    assert (fit.n_params, fit.df) == (4, 1)
    # One infinite term counts as a parameter in the criteria (SparseMSE's AIC adjustment).
    assert fit.bic == pytest.approx(-2 * fit.loglik + math.log(96) * 5)


def test_mle_existence_artificial():
    ok = mle_existence(ARTIFICIAL, 3, ())
    assert ok.exists and ok.finite and ok.identifiable and ok.zero_cells == ()
    extended = mle_existence(ARTIFICIAL, 3, (AC,))
    assert not extended.exists and extended.finite
    assert extended.zero_cells == (5, 7) and extended.facial_cells == (1, 2, 3, 4, 6)
    assert extended.infinite_terms == (AC,) and extended.n_params == 4
    no_mle = mle_existence(ARTIFICIAL, 3, (AB,))
    assert not no_mle.finite and no_mle.identifiable and no_mle.intercept == "to-infinity"
    assert no_mle.zero_cells == (5, 6, 7)
    flat = mle_existence(ARTIFICIAL, 3, (AB, AC, BC))
    assert not flat.identifiable and flat.intercept == "free"


def test_k_way_term_is_not_identifiable():
    counts, k = read_counts("spina_bifida_new_york")
    fit = fit_loglinear(counts, k, (AB, AC, BC, (0, 1, 2)))
    assert fit.status == "not-identifiable" and fit.total is None
    assert "3-way" in fit.message


def test_profile_without_mle_reports_lower_end_only():
    result = profile_likelihood(ARTIFICIAL, 3, (AB,))
    assert result.status == "no-mle" and result.total is None
    assert result.upper is None
    assert result.lower is not None and 96 < result.lower < 1e5
    assert "no upper end" in result.message
    assert profile_interval(ARTIFICIAL, 3, (AB, AC, BC)) == (None, None)


def test_empty_cells_on_uk_5_lists_are_the_non_overlapping_pair():
    counts, k = read_counts("uk_modern_slavery_2013_5lists")
    fit = fit_loglinear(counts, k, all_pairs(k), names=["LA", "NG", "PFNCA", "GO", "GP"])
    cells = [c for c in range(1, 32) if (c & 1) and (c >> 4) & 1]  # LA and GP both
    assert fit.status == "extended" and fit.zero_fitted_cells == tuple(cells)
    assert fit.infinite_terms == ((0, 4),)
    assert fit.message.startswith("no one is on both LA and GP, so the LA:GP term is -infinity")
    keep = [c for c in range(1, 32) if c not in cells]
    beta = poisson_fit_by_irls(design_matrix(k, [t for t in all_pairs(k) if t != (0, 4)])[keep], counts[keep])
    assert fit.total == pytest.approx(counts.sum() + math.exp(beta[0]), rel=1e-8)


# ---------------------------------------------------------------------------------------
# Input validation


@pytest.mark.parametrize(
    ("counts", "k", "terms", "error", "match"),
    [
        ([0, 1, 2], 2, (), DataError, "2\\*\\*k = 4"),
        ([0, 1, -2, 3], 2, (), DataError, "whole numbers >= 0"),
        ([0, 1, 2.5, 3], 2, (), DataError, "whole numbers >= 0"),
        ([0, 1, np.nan, 3], 2, (), DataError, "whole numbers >= 0"),
        ([0, 4, 0, 0], 2, (), DataError, "list 2"),
        ([0, 0, 0, 0], 2, (), DataError, "all counts are 0"),
        ([0, 1], 1, (), ModelError, "k \\(the number of lists\\)"),
        ([0, 1, 2, 3, 4, 5, 6, 7], 3, ((0, 1, 2),), ModelError, "not hierarchical"),
        ([0, 1, 2, 3, 4, 5, 6, 7], 3, ((0, 3),), ModelError, "outside 0..2"),
    ],
)
def test_invalid_input_raises_helpful_errors(counts, k, terms, error, match):
    with pytest.raises(error, match=match):
        fit_loglinear(np.array(counts, dtype=float), k, terms)


def test_invalid_options_raise_model_errors():
    with pytest.raises(ModelError, match="level"):
        profile_likelihood(ARTIFICIAL, 3, (), level=95)
    with pytest.raises(ModelError, match="criterion"):
        rank_models(ARTIFICIAL, 3, criterion="dic")
    with pytest.raises(ModelError, match="max_order"):
        rank_models(ARTIFICIAL, 3, max_order=4)
    with pytest.raises(ModelError, match="names"):
        fit_loglinear(ARTIFICIAL, 3, (), names=["A", "B"])
    counts, k = read_counts("new_orleans_trafficking")  # 8 lists: 2**28 two-way models
    with pytest.raises(ModelError, match="stepwise"):
        rank_models(counts, k)


# ---------------------------------------------------------------------------------------
# Enumeration and ranking


def test_enumerate_models_counts_and_hierarchy():
    assert len(enumerate_models(3)) == 8
    assert len(enumerate_models(3, max_order=3)) == 9
    assert len(enumerate_models(4)) == 64
    assert enumerate_models(4, max_order=1) == [()]
    assert count_models(6) == 2**15
    for max_order in (3, 4):
        candidates = [t for size in range(2, max_order + 1) for t in itertools.combinations(range(4), size)]
        brute = {
            subset for r in range(len(candidates) + 1) for subset in itertools.combinations(candidates, r)
            if is_hierarchical(subset)
        }
        models = enumerate_models(4, max_order=max_order)
        assert len(models) == len(set(models)) == len(brute) == count_models(4, max_order)
        assert set(models) == brute
        assert models[0] == ()


def test_rank_models_matches_single_fits():
    # The batch engine (combinatorial zero margins + vectorised Newton) against the exact path
    # (linear programmes + one Newton fit per model), on a sparse 5-list table.
    counts, k = read_counts("western_us_sex_trafficking")
    ranking = rank_models(counts, k)
    assert len(ranking) == 1024
    for fit in ranking[::9]:
        single = fit_loglinear(counts, k, fit.terms)
        assert (fit.status, fit.infinite_terms, fit.zero_fitted_cells) == (
            single.status, single.infinite_terms, single.zero_fitted_cells
        )
        assert (fit.n_params, fit.df) == (single.n_params, single.df)
        assert fit.total == pytest.approx(single.total, rel=1e-7)
        assert fit.bic == pytest.approx(single.bic, rel=1e-9)
        assert fit.deviance == pytest.approx(single.deviance, rel=1e-6, abs=1e-8)
        # the total is compared above (rel 1e-7); in the message it is rounded to 0.1, where two
        # totals 1e-7 apart can round differently (1811.25 -> 1811.2 or 1811.3), so mask it there
        assert _mask_number(fit.message) == _mask_number(single.message)


def _mask_number(message: str | None) -> str | None:
    return re.sub(r"N = [0-9.]+", "N = #", message) if message else message


def test_rank_models_puts_flagged_models_last():
    ranking = rank_models(ARTIFICIAL, 3)
    assert len(ranking) == 8
    statuses = [fit.status for fit in ranking]
    assert statuses[:4].count("ok") + statuses[:4].count("extended") == 4
    assert set(statuses[4:]) == {"no-mle", "not-identifiable"}
    valid = [fit.bic for fit in ranking[:4]]
    assert valid == sorted(valid)
    assert ranking[0].terms == ()  # independence, Rcapture Mt 530.94
    by_aic = rank_models(ARTIFICIAL, 3, criterion="aic")
    assert [fit.aic for fit in by_aic[:4]] == sorted(fit.aic for fit in by_aic[:4])


def test_rank_models_with_three_way_terms_matches_single_fits():
    counts, k = read_counts("lesbian_allegheny")
    ranking = rank_models(counts, k, max_order=4)
    assert len(ranking) == count_models(4, 4)
    full = [fit for fit in ranking if any(len(t) == 4 for t in fit.terms)]
    assert len(full) == 1 and full[0].status == "not-identifiable"
    for fit in ranking[::7]:
        assert fit.bic == pytest.approx(fit_loglinear(counts, k, fit.terms).bic, rel=1e-9)


def test_stepwise_new_orleans_eight_lists():
    # Chan, Silverman & Vincent (2021): stepwise selects D:E, estimate 1,184.
    counts, k = read_counts("new_orleans_trafficking")
    fit = stepwise(counts, k)
    assert fit.terms == ((3, 4),)
    assert fit.total == pytest.approx(1184, rel=1e-3)


def test_stepwise_agrees_with_enumeration_on_hiv_rome():
    counts, k = read_counts("hiv_rome")
    assert stepwise(counts, k).terms == rank_models(counts, k)[0].terms

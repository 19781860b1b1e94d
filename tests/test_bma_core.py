"""Tests of exact Bayesian model averaging over decomposable graphs (hiddenrate.models.lists.bma_core,
hiddenrate.models.lists.decomposable).

Reference values: the ``dga`` rows of tests/reference/reference_results.csv (dga 2.0.2, R 4.2.2):

    Y <- array(counts, dim = rep(2, p)); data(graphs5)           # graphs3 / graphs4 / graphs5
    w <- bma.cr(Y, Nmissing, delta = 2^-p, graphs = graphs5)     # logprior = -log(N), the default
    N <- Nmissing + sum(Y); posteriorQuantiles(colSums(w), N, c(0.5, 0.025, 0.975))

and the two examples of ``?bma.cr``: Madigan & York's congenital anomalies with
``delta = .5, Nmissing = 1:300``; spina bifida with ``delta = 1`` and the negative binomial
prior ``logprior <- N*log(b) - (N + a)*log(1 + b) + lgamma(N + a) - lgamma(N + 1) - lgamma(a)``,
``a = 13.14, b = 55.17``. dga's ``posteriorQuantiles`` returns ``N[which(cumsum(w) > level)[1]]``.

The reference rows were computed on grids of ``Nmissing`` with steps of 5 (spina bifida, UK),
4 (HIV, Western) or 1; ``test_dga_rows_exactly_on_dga_grids`` reproduces them to the unit on
such grids, and our default (every integer, tail below 1e-6) is within 1% of every row but
the artificial sparse table, whose dga row is an artefact of a grid with a step of 1000.
"""

from __future__ import annotations

import csv
import doctest
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.models.lists import bma_core
from hiddenrate.models.lists.bma_core import (
    BMAPosterior,
    bma_posterior,
    joint_log_posterior,
    posterior_quantiles,
    tail_exponents,
)
from hiddenrate.models.lists.decomposable import (
    cliques_and_separators,
    decomposable_graphs,
    factor_coefficients,
    graph_coefficients,
    is_decomposable,
)
from hiddenrate.core.design import cell_index

LISTS = Path(__file__).resolve().parents[1] / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = Path(__file__).resolve().parent / "reference" / "reference_results.csv"


def load_counts(name: str) -> tuple[np.ndarray, int]:
    """Counts vector (cell i: list j iff bit j of i) and number of lists of an example file."""
    with open(LISTS / f"{name}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lists = [column for column in rows[0] if column != "count"]
    counts = np.zeros(1 << len(lists))
    for row in rows:
        counts[cell_index([int(row[column]) for column in lists])] += float(row["count"])
    return counts, len(lists)


def dga_quantiles(log_weights: np.ndarray, totals: np.ndarray, levels=(0.5, 0.025, 0.975)) -> list[int]:
    """dga::posteriorQuantiles(colSums(w), N, levels): first N with cumsum(w) > level."""
    column = np.exp(log_weights - log_weights.max()).sum(axis=0)
    cumulative = np.cumsum(column / column.sum())
    return [int(totals[np.flatnonzero(cumulative > level)[0]]) for level in levels]


# ------------------------------------------------------------------------ graphs


@pytest.mark.parametrize(("k", "expected"), [(1, 1), (2, 2), (3, 8), (4, 61), (5, 822)])
def test_number_of_decomposable_graphs_matches_dga(k: int, expected: int) -> None:
    graphs = decomposable_graphs(k)
    assert len(graphs) == expected == len(set(graphs))
    assert graphs[0] == () and len(graphs[-1]) == k * (k - 1) // 2
    assert graph_coefficients(k).shape == (expected, 1 << k)


def _has_chordless_cycle(edges, k: int) -> bool:
    """Brute force: some vertex subset of size >= 4 induces a cycle (connected, all degree 2)."""
    edge_set = set(edges)
    for size in range(4, k + 1):
        for subset in itertools.combinations(range(k), size):
            inside = [e for e in itertools.combinations(subset, 2) if e in edge_set]
            degree = {v: sum(v in e for e in inside) for v in subset}
            if len(inside) == size and all(d == 2 for d in degree.values()):
                reached, frontier = {subset[0]}, [subset[0]]
                while frontier:
                    v = frontier.pop()
                    for a, b in inside:
                        for u, w in ((a, b), (b, a)):
                            if u == v and w not in reached:
                                reached.add(w)
                                frontier.append(w)
                if len(reached) == size:
                    return True
    return False


def test_decomposable_means_no_chordless_cycle_brute_force() -> None:
    k = 5
    pairs = list(itertools.combinations(range(k), 2))
    chordal = {
        edges
        for size in range(len(pairs) + 1)
        for edges in itertools.combinations(pairs, size)
        if not _has_chordless_cycle(edges, k)
    }
    assert chordal == set(decomposable_graphs(k))
    assert not is_decomposable(((0, 1), (1, 2), (2, 3), (0, 3)), 4)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_elimination_form_equals_cliques_over_separators(k: int) -> None:
    """prod_v h(fam_v)/h(pa_v) uses each subset as often as prod_C h(C) / prod_S h(S)."""
    for edges in decomposable_graphs(k):
        cliques, separators = cliques_and_separators(edges, k)
        expected = np.zeros(1 << k, dtype=np.int64)
        np.add.at(expected, list(cliques), 1)
        np.add.at(expected, list(separators), -1)
        expected[0] = 0  # empty separators: h = 1
        assert np.array_equal(factor_coefficients(edges, k), expected), edges
        covered = {j for c in cliques for j in range(k) if (c >> j) & 1}
        assert covered == set(range(k))


def test_not_decomposable_and_bad_k_raise() -> None:
    with pytest.raises(ModelError, match="not decomposable"):
        factor_coefficients(((0, 1), (1, 2), (2, 3), (0, 3)), 4)
    with pytest.raises(ModelError, match="up to 6|1 to 6"):
        decomposable_graphs(7)


# ------------------------------------------------- the marginal likelihood, brute force


def _log_h(table: np.ndarray, k: int, members: tuple[int, ...], delta: float) -> float:
    """log h(A) from the marginal table of lists A (numpy axes; independent of bitmasks)."""
    n_total = table.sum()
    alpha = delta * 2.0 ** (k - len(members))
    alpha_total = delta * 2.0**k
    # reshape in C order: axis a is list k-1-a
    axes = tuple(k - 1 - j for j in range(k) if j not in members)
    marginal = table.reshape([2] * k).sum(axis=axes).ravel()
    return float(
        gammaln(alpha_total) - gammaln(alpha_total + n_total) + np.sum(gammaln(alpha + marginal) - gammaln(alpha))
    )


@pytest.mark.parametrize("name", ["spina_bifida_new_york", "hiv_rome", "congenital_anomaly_massachusetts"])
def test_joint_matches_clique_separator_formula(name: str) -> None:
    """log p(N, g | data) = log p(N) + log N!/(N-n)! + sum_C log h(C) - sum_S log h(S) (+ const)."""
    counts, k = load_counts(name)
    delta = 2.0**-k
    n = counts.sum()
    missing = np.array([0.0, 1.0, 7.0, 150.0, 4000.0])
    ours = joint_log_posterior(counts, k, missing)
    graphs = decomposable_graphs(k)
    rng = np.random.default_rng(7)
    chosen = sorted(set(rng.choice(len(graphs), size=min(40, len(graphs)), replace=False)) | {0, len(graphs) - 1})
    for g in chosen:
        cliques, separators = cliques_and_separators(graphs[g], k)
        for column, m in enumerate(missing):
            table = counts.copy()
            table[0] = m
            members = lambda mask: tuple(j for j in range(k) if (mask >> j) & 1)  # noqa: E731
            log_table = sum(_log_h(table, k, members(c), delta) for c in cliques) - sum(
                _log_h(table, k, members(s), delta) for s in separators
            )
            total = n + m
            brute = log_table + gammaln(total + 1) - gammaln(m + 1) - math.log(total)
            assert ours[g, column] == pytest.approx(brute, abs=1e-7), (graphs[g], m)


def test_complete_graph_is_dirichlet_multinomial_and_its_tail_exponent() -> None:
    counts, k = load_counts("spina_bifida_new_york")
    delta, n = 2.0**-k, counts.sum()
    missing = np.array([0.0, 5.0, 100.0])
    complete = joint_log_posterior(counts, k, missing)[-1]
    for value, m in zip(complete, missing):
        cells = counts.copy()
        cells[0] = m
        expected = (
            gammaln(delta * 8) - gammaln(delta * 8 + n + m) + np.sum(gammaln(delta + cells) - gammaln(delta))
            + gammaln(n + m + 1) - gammaln(m + 1) - math.log(n + m)
        )
        assert value == pytest.approx(expected, abs=1e-8)
    # beta = -1 + delta - 2^K delta = -2 + 2^-K under p(N) = 1/N: the mass beyond M falls like M^-(1-2^-K)
    exponents = tail_exponents(counts, k)
    assert exponents[-1] == pytest.approx(-2.0 + 2.0**-k)
    far = joint_log_posterior(counts, k, np.array([1e8, 1e9]))
    slopes = (far[:, 1] - far[:, 0]) / math.log(10.0)
    assert slopes == pytest.approx(exponents, abs=1e-3)
    assert np.all(exponents < -1.0)
    assert tail_exponents(counts, k, prior_n="uniform")[-1] == pytest.approx(-1.0 + 2.0**-k)


# ------------------------------------------------------------------ quantiles


def test_quantiles_against_brute_force() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(200):
        size = int(rng.integers(1, 40))
        pmf = rng.dirichlet(np.full(size, 0.3)) * (1.0 - rng.uniform(0, 1e-3))
        totals = np.arange(10, 10 + size)
        levels = rng.uniform(0.0005, pmf.sum() - 1e-9, size=5)
        got = posterior_quantiles(totals, pmf, levels)
        for level, value in zip(levels, got):
            running, expected = 0.0, None
            for total, p in zip(totals, pmf):
                running += p
                if running >= level:
                    expected = total
                    break
            assert value == expected
    # an exact tie: F(N) == level gives that N (dga's "> level" would give the next one)
    assert posterior_quantiles(np.array([5, 6, 7]), np.array([0.25, 0.25, 0.5]), 0.5)[0] == 6
    with pytest.raises(EstimationError, match="give a larger --n-max"):
        posterior_quantiles(np.array([5, 6]), np.array([0.5, 0.4]), 0.95)
    with pytest.raises(ModelError):
        posterior_quantiles(np.array([5]), np.array([1.0]), 1.0)


# ------------------------------------------------------------------ dga references


def _dga_rows():
    """Every dga row except the artificial sparse table, whose 96 [96, 96] is dga's answer on a
    grid stepping by 1000, not on every integer: test_artificial_sparse_dga_row_is_a_coarse_grid_artefact
    reproduces that row on dga's grid and checks our answer on every integer."""
    with open(REFERENCE, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["package"] == "dga"]
    return [
        pytest.param(row, id=f"{row['dataset']}-{row['model']}")
        for row in rows
        if row["dataset"] != "artificial_sparse_3lists"
    ]


@pytest.mark.parametrize("row", _dga_rows())
def test_reproduces_dga_reference_rows(row: dict) -> None:
    counts, k = load_counts(row["dataset"])
    if row["model"] == "bma.cr delta=2^-p":
        # bma.cr(Y, Nmissing, delta = 2^-p, graphsp, logprior = -log(N))
        posterior = bma_posterior(counts, k)
    elif row["model"] == "bma.cr delta=0.5 (doc example)":
        # bma.cr(Y, Nmissing = 1:300, delta = .5, graphs5)
        posterior = bma_posterior(counts, k, delta=0.5)
    elif row["model"] == "bma.cr delta=1 NB prior (doc example)":
        # bma.cr(Y, Nmissing = 1:300, delta = 1, graphs3, logprior = <negative binomial, a = 13.14, b = 55.17>)
        posterior = bma_posterior(counts, k, delta=1.0, prior_n="negbin:13.14,55.17")
    else:
        pytest.fail(f"unknown dga row {row['model']}")
    assert posterior.tail_mass <= 1e-6
    lower, upper = posterior.interval(0.95)
    for ours, reference in ((posterior.median, row["estimate"]), (lower, row["lower95"]), (upper, row["upper95"])):
        assert ours == pytest.approx(float(reference), rel=0.01)


@pytest.mark.parametrize(
    ("name", "step", "length", "expected"),
    [
        ("spina_bifida_new_york", 5, 3000, (731, 691, 786)),
        ("hiv_rome", 4, 10000, (11220, 9404, 14096)),
        ("lesbian_allegheny", 1, 10000, (5131, 4635, 5749)),
        pytest.param("uk_modern_slavery_2013_5lists", 5, 17000, (22989, 10389, 33509), marks=pytest.mark.slow),
        pytest.param("western_us_sex_trafficking", 4, 17000, (2133, 1341, 3881), marks=pytest.mark.slow),
        pytest.param("new_orleans_trafficking_5lists", 1, 17000, (869, 511, 1762), marks=pytest.mark.slow),
    ],
)
def test_dga_rows_exactly_on_dga_grids(name: str, step: int, length: int, expected: tuple) -> None:
    """bma.cr(Y, Nmissing = seq(0, by = step, length.out = length), 2^-p, graphsp): to the unit."""
    counts, k = load_counts(name)
    missing = np.arange(length, dtype=float) * step
    log_weights = joint_log_posterior(counts, k, missing)
    assert tuple(dga_quantiles(log_weights, counts.sum() + missing)) == expected


def test_artificial_sparse_dga_row_is_a_coarse_grid_artefact() -> None:
    """dga's 96 [96, 96]: on Nmissing = 0, 1000, 2000, ... the point N = n carries the mass.

    On every integer the posterior has a heavy tail (the complete graph and the graphs that
    separate list C, which never overlaps A or B, decay like N^-1.875 and N^-2.25): median 292,
    upper end ~5,300, mass beyond 2 million ~5e-5, reported in tail_mass.
    """
    counts, k = load_counts("artificial_sparse_3lists")
    coarse = np.arange(3000, dtype=float) * 1000
    assert dga_quantiles(joint_log_posterior(counts, k, coarse), 96 + coarse) == [96, 96, 96]
    posterior = bma_posterior(counts, k)
    assert posterior.median == 292
    lower, upper = posterior.interval(0.95)
    assert lower == 96 and 5000 < upper < 5600
    assert len(posterior.totals) == bma_core.MAX_AUTO_GRID
    assert 1e-5 < posterior.tail_mass < 1e-4
    assert posterior.pmf.sum() + posterior.tail_mass == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------- grid, tails, interpolation


def test_interpolated_pmf_matches_exact_grid() -> None:
    counts, k = load_counts("hiv_rome")
    fast = bma_posterior(counts, k)
    exact = bma_posterior(counts, k, n_max=int(fast.totals[-1]), interpolate=False)
    assert np.array_equal(fast.totals, exact.totals)
    assert np.max(np.abs(fast.pmf / exact.pmf - 1.0)) < 1e-6
    assert fast.tail_mass == pytest.approx(exact.tail_mass, rel=1e-6)
    assert fast.graph_probs == pytest.approx(exact.graph_probs, abs=1e-8)


def test_pmf_matches_brute_force_normalisation_on_a_wide_grid() -> None:
    """Brute force: every N to n + 10^6, plus the power-law remainder past it."""
    counts, k = load_counts("spina_bifida_new_york")
    posterior = bma_posterior(counts, k, n_max=626 + 400)  # grid ends early: 3e-4 of the mass beyond
    missing = np.arange(0.0, 1_000_000.0)
    log_weights = joint_log_posterior(counts, k, missing)
    exponents = tail_exponents(counts, k)
    last = joint_log_posterior(counts, k, np.array([missing[-1] + 0.5]))[:, 0]
    remainder = last + math.log(missing[-1] + 0.5) - np.log(-(exponents + 1.0))
    peak = log_weights.max()
    total = np.exp(log_weights - peak).sum() + np.exp(remainder - peak).sum()
    brute_pmf = np.exp(log_weights[:, :401] - peak).sum(axis=0) / total
    # exact region: equal up to the normalisation, i.e. the ~1e-8 error of the tail integral
    assert posterior.pmf[:200] == pytest.approx(brute_pmf[:200], rel=1e-7)
    assert posterior.pmf == pytest.approx(brute_pmf, rel=1e-6)  # spline beyond
    assert posterior.tail_mass == pytest.approx(1.0 - brute_pmf.sum(), rel=1e-3)
    assert 1e-4 < posterior.tail_mass < 1e-2


def test_automatic_grid_tail_is_below_tolerance_and_consistent() -> None:
    counts, k = load_counts("lesbian_allegheny")
    posterior = bma_posterior(counts, k)
    assert isinstance(posterior, BMAPosterior)
    assert posterior.totals[0] == counts.sum() and np.all(np.diff(posterior.totals) == 1)
    assert 0 < posterior.tail_mass <= 1e-6
    assert posterior.pmf.sum() + posterior.tail_mass == pytest.approx(1.0, abs=1e-12)
    loose = bma_posterior(counts, k, tail_tol=1e-3)
    assert len(loose.totals) < len(posterior.totals) and loose.tail_mass <= 1e-3
    assert loose.median == posterior.median
    assert posterior.n_graphs == 61 and posterior.n_evaluated <= 61


def test_flat_prior_improper_without_n_max_and_bounded_with_it() -> None:
    counts, k = load_counts("spina_bifida_new_york")
    with pytest.raises(ModelError, match="improper.*n_max"):
        bma_posterior(counts, k, prior_n="uniform")
    bounded = bma_posterior(counts, k, prior_n="uniform", n_max=2000)
    assert bounded.tail_mass == 0.0 and bounded.totals[-1] == 2000
    assert bounded.pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert "2000" in bounded.prior_n
    # delta = 1 makes every graph's tail decay faster than 1/N: proper without n_max
    proper = bma_posterior(counts, k, prior_n="uniform", delta=1.0)
    assert proper.tail_mass <= 1e-6


def test_other_priors_on_n() -> None:
    counts, k = load_counts("spina_bifida_new_york")
    tight = bma_posterior(counts, k, prior_n="lognormal:700,0.05")
    wide = bma_posterior(counts, k, prior_n="lognormal:700,5")
    inverse = bma_posterior(counts, k)
    assert "lognormal" in tight.prior_n and "1/N" in inverse.prior_n
    assert abs(tight.median - 700) < abs(inverse.median - 700)
    assert abs(wide.median - inverse.median) <= 2
    with pytest.raises(ModelError, match="inverse, uniform"):
        bma_posterior(counts, k, prior_n="gamma")
    with pytest.raises(ModelError, match="positive"):
        bma_posterior(counts, k, prior_n="lognormal:700,-1")


def test_graph_and_edge_probabilities() -> None:
    counts, k = load_counts("congenital_anomaly_massachusetts")
    posterior = bma_posterior(counts, k, min_graph_prob=0.0)
    assert posterior.graph_probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.diff(posterior.graph_probs) <= 0)
    assert len(posterior.graphs) == posterior.n_evaluated
    assert np.allclose(posterior.edge_probs, posterior.edge_probs.T)
    assert np.all((posterior.edge_probs >= 0) & (posterior.edge_probs <= 1 + 1e-12))
    by_hand = sum(p for g, p in zip(posterior.graphs, posterior.graph_probs) if (0, 1) in g)
    assert posterior.edge_probs[0, 1] == pytest.approx(by_hand)
    top = bma_posterior(counts, k)
    assert top.graphs[0] == posterior.graphs[0] and np.all(top.graph_probs >= 1e-6)
    assert not posterior.pmf.flags.writeable


def test_relabelling_lists_permutes_graphs_not_the_posterior() -> None:
    counts, k = load_counts("congenital_anomaly_massachusetts")
    order = [3, 0, 4, 1, 2]  # new list j is old list order[j]
    permuted = np.zeros_like(counts)
    for cell in range(1 << k):
        new_cell = sum(((cell >> old) & 1) << new for new, old in enumerate(order))
        permuted[new_cell] = counts[cell]
    a, b = bma_posterior(counts, k, n_max=1200), bma_posterior(permuted, k, n_max=1200)
    assert b.pmf == pytest.approx(a.pmf, rel=1e-9)
    position = {old: new for new, old in enumerate(order)}
    relabelled = tuple(sorted(tuple(sorted((position[i], position[j]))) for i, j in a.graphs[0]))
    assert b.graphs[0] == relabelled


# ------------------------------------------------------------------------- errors


def test_input_errors() -> None:
    counts, k = load_counts("spina_bifida_new_york")
    with pytest.raises(ModelError, match="at least 3 lists"):
        bma_posterior(np.array([0.0, 5, 6, 2]), 2)
    with pytest.raises(ModelError, match="up to 6 lists.*merge lists or fit a log-linear"):
        bma_posterior(np.ones(1 << 7), 7)
    with pytest.raises(DataError, match="length 2\\*\\*k = 16"):
        bma_posterior(counts, 4)
    with pytest.raises(DataError, match="whole numbers"):
        bma_posterior(np.array([0, -1, 2, 3, 4, 5, 6, 7.0]), 3)
    with pytest.raises(DataError, match="no one was observed"):
        bma_posterior(np.zeros(8), 3)
    with pytest.raises(ModelError, match="delta"):
        bma_posterior(counts, k, delta=0.0)
    with pytest.raises(ModelError, match="graph_prior"):
        bma_posterior(counts, k, graph_prior="sparse")
    with pytest.raises(ModelError, match="n_max"):
        bma_posterior(counts, k, n_max=100)
    with pytest.raises(ModelError, match="level"):
        bma_posterior(counts, k).interval(1.5)
    # entry 0 (people on no list) is ignored
    shifted = counts.copy()
    shifted[0] = 99
    assert bma_posterior(shifted, k).median == bma_posterior(counts, k).median


def test_module_docstring_example() -> None:
    failures, _ = doctest.testmod(bma_core, verbose=False)
    assert failures == 0


# ------------------------------------------------------------------------- six lists


@pytest.mark.slow
def test_six_lists_uk() -> None:
    assert len(decomposable_graphs(6)) == 18_154
    counts, k = load_counts("uk_modern_slavery_2013")
    posterior = bma_posterior(counts, k)  # its time is measured in benchmarks/bench_bma.py
    assert posterior.n_graphs == 18_154 and posterior.tail_mass <= 1e-6
    lower, upper = posterior.interval(0.95)
    assert 10_000 < posterior.median < 15_000 and lower < posterior.median < upper

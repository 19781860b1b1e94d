"""Tests of the list-data simulator (hiddenrate.data.simulate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.design import patterns
from hiddenrate.data.simulate import cell_probabilities, counts_to_frame, simulate_list_counts

PROBS = (0.3, 0.2, 0.25)


def test_independent_cell_probabilities_are_products() -> None:
    pi = cell_probabilities(PROBS)
    # cell 5 = lists 0 and 2: 0.3 * (1 - 0.2) * 0.25; cell 0: on no list
    assert pi[5] == pytest.approx(0.3 * 0.8 * 0.25)
    assert pi[0] == pytest.approx(0.7 * 0.8 * 0.75)
    assert pi.sum() == pytest.approx(1.0)
    marginals = patterns(3).T @ pi
    np.testing.assert_allclose(marginals, PROBS)


def test_table_has_true_total_and_hidden_count() -> None:
    table = simulate_list_counts(2000, PROBS, rng=np.random.default_rng(1))
    assert table.shape == (8,)
    assert table.dtype == np.int64
    assert table.sum() == 2000
    again = simulate_list_counts(2000, PROBS, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(table, again)


def test_mean_cell_counts_match_expectation() -> None:
    rng = np.random.default_rng(20240602)
    replicates = 2000
    tables = np.array([simulate_list_counts(2000, PROBS, rng=rng) for _ in range(replicates)])
    expected = 2000 * cell_probabilities(PROBS)
    standard_error = np.sqrt(expected * (1 - expected / 2000) / replicates)
    assert np.all(np.abs(tables.mean(axis=0) - expected) < 4 * standard_error)


def test_dependence_sets_the_odds_ratio_and_raises_the_overlap() -> None:
    gamma = 1.2
    pi = cell_probabilities((0.3, 0.2), log_odds_ratios={(0, 1): gamma})
    # cells 0 = none, 1 = list 0 only, 2 = list 1 only, 3 = both
    assert np.log(pi[3] * pi[0] / (pi[1] * pi[2])) == pytest.approx(gamma)
    independent = cell_probabilities((0.3, 0.2))
    assert pi[3] > independent[3]
    # documented: the marginal capture probabilities shift (up for gamma > 0)
    assert pi[1] + pi[3] > 0.3 and pi[2] + pi[3] > 0.2
    # three lists: only the pair named changes its conditional odds ratio
    pi3 = cell_probabilities(PROBS, log_odds_ratios={(2, 0): -0.7})
    log_or_02 = np.log(pi3[5] * pi3[0] / (pi3[1] * pi3[4]))
    log_or_01 = np.log(pi3[3] * pi3[0] / (pi3[1] * pi3[2]))
    assert log_or_02 == pytest.approx(-0.7) and log_or_01 == pytest.approx(0.0, abs=1e-12)


def test_simulated_overlap_larger_under_positive_dependence() -> None:
    rng = np.random.default_rng(7)
    independent = [simulate_list_counts(5000, (0.3, 0.2), rng=rng)[3] for _ in range(50)]
    dependent = [simulate_list_counts(5000, (0.3, 0.2), rng=rng, log_odds_ratios={(0, 1): 1.0})[3] for _ in range(50)]
    assert np.mean(dependent) > 1.5 * np.mean(independent)


def test_classes_mix_cell_probabilities() -> None:
    classes = [(1.0, (0.6, 0.5)), (3.0, (0.1, 0.1))]
    pi = cell_probabilities(None, classes=classes)
    expected = 0.25 * cell_probabilities((0.6, 0.5)) + 0.75 * cell_probabilities((0.1, 0.1))
    np.testing.assert_allclose(pi, expected)
    # heterogeneity induces positive apparent dependence between lists
    assert np.log(pi[3] * pi[0] / (pi[1] * pi[2])) > 0
    table = simulate_list_counts(1000, None, rng=np.random.default_rng(3), classes=classes)
    assert table.sum() == 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capture_probs": (0.3, 1.0)}, "strictly between 0 and 1"),
        ({"capture_probs": (0.3,)}, "at least 2"),
        ({"capture_probs": (0.3, 0.2), "log_odds_ratios": {(0, 0): 1.0}}, "two different lists"),
        ({"capture_probs": (0.3, 0.2), "log_odds_ratios": {(0, 2): 1.0}}, "two different lists"),
        ({"capture_probs": (0.3, 0.2), "classes": [(1.0, (0.2, 0.2))]}, "capture_probs=None"),
        ({"capture_probs": None, "classes": [(1.0, (0.2, 0.2)), (1.0, (0.2, 0.2, 0.2))]}, "one capture probability per list"),
        ({"capture_probs": None, "classes": [(0.0, (0.2, 0.2))]}, "weights must be positive"),
        ({"capture_probs": None}, "give capture_probs"),
    ],
)
def test_invalid_simulation_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        simulate_list_counts(100, rng=np.random.default_rng(0), **kwargs)


def test_negative_total_rejected() -> None:
    with pytest.raises(ModelError, match="n_total"):
        simulate_list_counts(-1, PROBS, rng=np.random.default_rng(0))


def test_counts_to_frame_layout() -> None:
    counts = np.array([50, 10, 0, 3])
    frame = counts_to_frame(counts, ["police", "ngo"])
    expected = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [10, 0, 3]})
    pd.testing.assert_frame_equal(frame, expected)


@pytest.mark.parametrize(
    ("counts", "names", "message"),
    [
        (np.array([0, 1, 2]), ["a", "b"], "length 2\\*\\*2 = 4"),
        (np.array([0, 1, 2, 3]), ["a", "a"], "unique"),
        (np.array([0, 1, 2, 3]), ["a", "count"], "unique and not 'count'"),
        (np.array([0, 1, -2, 3]), ["a", "b"], "whole numbers"),
    ],
)
def test_counts_to_frame_rejects_bad_input(counts: np.ndarray, names: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        counts_to_frame(counts, names)

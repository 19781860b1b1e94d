"""The shipped table of decomposable graphs is exactly the brute-force enumeration.

Why: exact model averaging sums over every decomposable graph; a table with a graph missing,
added or with one wrong coefficient would change every BMA answer silently. The brute force
(every edge set, kept when it has a perfect elimination order) is the definition, and its
counts are OEIS A058862 (8, 61, 822, 18,154 for 3-6 lists).
"""

from __future__ import annotations

import numpy as np
import pytest

from hiddenrate.models.lists import decomposable


@pytest.mark.parametrize("k, count", [(3, 8), (4, 61), (5, 822), (6, 18154)])
def test_table_matches_enumeration(k: int, count: int) -> None:
    decomposable._enumerate.cache_clear()
    graphs, coefficients = decomposable._enumerate(k)
    expected_graphs, expected_coefficients = decomposable.enumerate_graphs(k)
    assert len(graphs) == count
    assert graphs == expected_graphs
    np.testing.assert_array_equal(coefficients, expected_coefficients)
    assert not coefficients.flags.writeable


def test_table_is_used() -> None:
    """The shipped file is there (package data), so no process enumerates 6 lists again."""
    assert decomposable.TABLE.is_file()

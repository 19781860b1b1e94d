"""From scored pairs to people: clusters at a threshold, plausible linkages drawn from the match
probabilities, the list table of a linkage, and pairwise precision and recall against a truth.

A linkage is an array ``cluster[i]`` for record ``i`` (records in the order of
:func:`~hiddenrate.linkage.records.read_sources`). Clusters are the connected components of the
graph whose edges are the accepted pairs, so every linkage is transitive: if a matches b and b
matches c, all three are one person (docs/methods.md, "Linkage uncertainty").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` records joined by the edges ``left[e] - right[e]``: a label per record."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def cluster_at(n: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray, threshold: float) -> np.ndarray:
    """The one linkage at ``threshold``: pairs at or above it joined, then transitive closure."""
    keep = probability >= threshold
    return components(n, left[keep], right[keep])


def draw_linkages(n: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray, draws: int,
                  rng: np.random.Generator) -> list[np.ndarray]:
    """``draws`` plausible linkages: each pair is kept with its match probability, independently,
    and the kept pairs closed transitively (connected components). One draw's uniforms at a time
    (the same stream as one ``draws x pairs`` matrix, without holding it: 2 GB for 50 draws of 5
    million pairs)."""
    linkages = []
    for _ in range(draws):
        keep = rng.random(probability.size) < probability
        linkages.append(components(n, left[keep], right[keep]))
    return linkages


def list_patterns(clusters: np.ndarray, sources: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """The lists CSV of a linkage: one 0/1 column per source (the person has a record there) and
    ``count`` (people with that pattern), as ``hiddenrate lists`` reads it."""
    code = np.zeros(int(clusters.max()) + 1, dtype=np.int64)
    for j, name in enumerate(names):
        on = np.unique(clusters[sources == name])
        code[on] |= 1 << j
    counts = np.bincount(code, minlength=1 << len(names))
    rows = [[(pattern >> j) & 1 for j in range(len(names))] + [int(counts[pattern])]
            for pattern in range(1, 1 << len(names)) if counts[pattern] > 0]
    return pd.DataFrame(rows, columns=[*names, "count"])


def _pairs_within(labels: np.ndarray) -> int:
    sizes = np.bincount(labels)
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(clusters: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pairwise precision and recall of a linkage against the true person of each record: of the
    record pairs put in one cluster, the share that are one person; of the pairs that are one person,
    the share put in one cluster."""
    _, joint = np.unique(np.stack([clusters, truth]), axis=1, return_inverse=True)
    _, truth_codes = np.unique(truth, return_inverse=True)
    both, linked, true = _pairs_within(joint.ravel()), _pairs_within(clusters), _pairs_within(truth_codes.ravel())
    return {"precision": both / linked if linked else 1.0, "recall": both / true if true else 1.0,
            "linked_pairs": linked, "true_pairs": true}

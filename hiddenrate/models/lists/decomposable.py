r"""Decomposable (chordal) graphs on K lists, for exact Bayesian model averaging.

A graph on the lists ``0 .. k-1`` is a tuple of edges ``(i, j)`` with ``i < j``, sorted.
It is *decomposable* when it is chordal (every cycle of four or more vertices has a chord).
Decomposable graphical models are exactly the log-linear models whose maximum-likelihood
and hyper-Dirichlet marginal likelihoods factorise over cliques and separators
(Lauritzen 1996, *Graphical Models*, ch. 3-4; Dawid & Lauritzen 1993, *Ann. Statist.* 21:1272).

Subsets of lists are bitmasks, as cells are in :mod:`hiddenrate.core.design`: list ``j``
is in subset ``s`` iff ``(s >> j) & 1``.

Counts of labelled chordal graphs (OEIS A058862): 1, 2, 8, 61, 822, 18154 for 1..6
vertices; ``dga`` ships the lists for 3, 4 and 5.

:class:`GraphLogJoint` holds, for every graph at once, the closed-form hyper-Dirichlet
posterior :math:`\log p(N, g \mid \text{data})` of Madigan & York (1997) as one matrix
product; :mod:`hiddenrate.models.lists.bma_core` averages it over graphs and :math:`N`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gammaln

from hiddenrate.core.exceptions import ModelError

Edge = tuple[int, int]
Graph = tuple[Edge, ...]

#: Largest number of lists for which all decomposable graphs are enumerated
#: (18,154 graphs on 6 lists; 7 lists would give 617,675).
MAX_LISTS = 6


def _bits(mask: int) -> list[int]:
    """Members of a bitmask subset, ascending."""
    return [j for j in range(mask.bit_length()) if (mask >> j) & 1]


def _adjacency(edges: Graph, k: int) -> list[int]:
    """Neighbourhood bitmask of each vertex."""
    adjacency = [0] * k
    for i, j in edges:
        adjacency[i] |= 1 << j
        adjacency[j] |= 1 << i
    return adjacency


def _check_k(k: int) -> None:
    if not 1 <= k <= MAX_LISTS:
        raise ModelError(
            f"decomposable graphs are enumerated for 1 to {MAX_LISTS} lists, not {k}; "
            "merge lists or use a log-linear model"
        )


def _check_edges(edges: Graph, k: int) -> None:
    for edge in edges:
        if len(edge) != 2 or not (0 <= edge[0] < edge[1] < k):
            raise ModelError(f"edge {edge} is not a pair (i, j) with 0 <= i < j < {k}")


def elimination_order(edges: Graph, k: int) -> list[int] | None:
    """A perfect elimination ordering of the graph, or ``None`` if it is not chordal.

    Vertices are removed one at a time, each *simplicial* (its remaining neighbours form a
    clique) when removed. A graph is chordal iff this greedy removal never gets stuck
    (Fulkerson & Gross 1965; every chordal graph has a simplicial vertex and induced
    subgraphs of chordal graphs are chordal).
    """
    adjacency = _adjacency(edges, k)
    remaining = (1 << k) - 1
    order: list[int] = []
    while remaining:
        for v in _bits(remaining):
            neighbours = adjacency[v] & remaining
            if all((adjacency[u] | (1 << u)) & neighbours == neighbours for u in _bits(neighbours)):
                order.append(v)
                remaining &= ~(1 << v)
                break
        else:
            return None
    return order


def is_decomposable(edges: Graph, k: int) -> bool:
    """True when the graph on ``k`` vertices is chordal (decomposable)."""
    _check_edges(edges, k)
    return elimination_order(edges, k) is not None


def factor_coefficients(edges: Graph, k: int) -> np.ndarray:
    """Signed subset multiplicities of the graph's marginal-likelihood factorisation.

    For a perfect elimination ordering in which ``v`` is removed while ``pa(v)`` (its
    remaining neighbours) are still present, the hyper-Dirichlet marginal likelihood is

    .. math:: p(n \\mid g) = \\prod_v h(\\{v\\} \\cup pa(v)) / h(pa(v)),

    the directed (BDe) form of the clique/separator product
    :math:`\\prod_C h(C) / \\prod_S h(S)` (Heckerman, Geiger & Chickering 1995). Returns an
    integer vector of length ``2**k``: entry ``s`` is how many times ``h(s)`` multiplies
    minus how many times it divides. Entry 0 (the empty set, ``h = 1``) is kept at 0.

    Raises
    ------
    ModelError
        If the graph is not decomposable.
    """
    _check_edges(edges, k)
    order = elimination_order(edges, k)
    if order is None:
        raise ModelError(f"graph {edges} on {k} lists is not decomposable (it has a chordless cycle)")
    adjacency = _adjacency(edges, k)
    coefficients = np.zeros(1 << k, dtype=np.int64)
    remaining = (1 << k) - 1
    for v in order:
        parents = adjacency[v] & remaining
        coefficients[parents | (1 << v)] += 1
        coefficients[parents] -= 1
        remaining &= ~(1 << v)
    coefficients[0] = 0
    return coefficients


def cliques_and_separators(edges: Graph, k: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Maximal cliques and junction-tree separators of a decomposable graph, as bitmasks.

    The junction tree is a maximum-weight spanning tree of the cliques, weighted by the size
    of their intersections (Jensen & Jensen 1994); separators are the intersections along
    its edges, with multiplicity, and are empty between connected components.

    Raises
    ------
    ModelError
        If the graph is not decomposable.
    """
    _check_edges(edges, k)
    order = elimination_order(edges, k)
    if order is None:
        raise ModelError(f"graph {edges} on {k} lists is not decomposable (it has a chordless cycle)")
    adjacency = _adjacency(edges, k)
    families = []
    remaining = (1 << k) - 1
    for v in order:
        families.append((adjacency[v] & remaining) | (1 << v))
        remaining &= ~(1 << v)
    cliques = sorted({f for f in families if not any(f != g and f & g == f for g in families)})
    # Kruskal on intersection sizes, largest first.
    links = sorted(
        itertools.combinations(range(len(cliques)), 2),
        key=lambda pair: -bin(cliques[pair[0]] & cliques[pair[1]]).count("1"),
    )
    component = list(range(len(cliques)))

    def root(i: int) -> int:
        while component[i] != i:
            component[i] = component[component[i]]
            i = component[i]
        return i

    separators = []
    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            component[ra] = rb
            separators.append(cliques[a] & cliques[b])
    return tuple(cliques), tuple(sorted(separators))


#: The enumeration for 3 to 6 lists, computed once and shipped (6 lists take about half a second
#: to enumerate, longer than the rest of a default fit); tests/test_decomposable_table.py checks
#: it against :func:`enumerate_graphs`. Rebuild with ``python -m hiddenrate.models.lists.decomposable``.
TABLE = Path(__file__).with_name("decomposable_graphs.npz")


def enumerate_graphs(k: int) -> tuple[tuple[Graph, ...], np.ndarray]:
    """Every decomposable graph on ``k`` lists and its :func:`factor_coefficients`, by brute force:
    each edge set in order of size, then lexicographically, kept when it has a perfect elimination order."""
    pairs = list(itertools.combinations(range(k), 2))
    graphs: list[Graph] = []
    rows: list[np.ndarray] = []
    for size in range(len(pairs) + 1):
        for edges in itertools.combinations(pairs, size):
            if elimination_order(edges, k) is not None:
                graphs.append(edges)
                rows.append(factor_coefficients(edges, k))
    return tuple(graphs), np.array(rows, dtype=np.int64).reshape(len(graphs), 1 << k)


def _encode(graphs: tuple[Graph, ...], k: int) -> np.ndarray:
    """Each graph as a bitmask over the pairs of lists (pair ``p`` in ``combinations(range(k), 2)`` order)."""
    index = {pair: p for p, pair in enumerate(itertools.combinations(range(k), 2))}
    return np.array([sum(1 << index[edge] for edge in graph) for graph in graphs], dtype=np.uint16)


def _decode(masks: np.ndarray, k: int) -> tuple[Graph, ...]:
    """Inverse of :func:`_encode`, through the edge tuples of each byte (18,154 graphs in milliseconds)."""
    pairs = list(itertools.combinations(range(k), 2))
    low = [tuple(pairs[p] for p in _bits(byte) if p < len(pairs)) for byte in range(256)]
    high = [tuple(pairs[p + 8] for p in _bits(byte) if p + 8 < len(pairs)) for byte in range(256)]
    return tuple(low[mask & 255] + high[mask >> 8] for mask in masks.tolist())


def write_table(path: Path = TABLE) -> None:
    """Write the enumeration for 3 to 6 lists to ``path`` (graphs as pair bitmasks, coefficients as int8)."""
    arrays: dict[str, Any] = {}  # Any: numpy's stub would read ** as its allow_pickle flag
    for k in range(3, MAX_LISTS + 1):
        graphs, coefficients = enumerate_graphs(k)
        arrays[f"graphs{k}"] = _encode(graphs, k)
        arrays[f"coefficients{k}"] = coefficients.astype(np.int8)
    np.savez_compressed(path, **arrays)


@functools.lru_cache(maxsize=None)
def _enumerate(k: int) -> tuple[tuple[Graph, ...], np.ndarray]:
    if 3 <= k <= MAX_LISTS and TABLE.exists():
        with np.load(TABLE) as table:
            graphs, coefficients = _decode(table[f"graphs{k}"], k), table[f"coefficients{k}"].astype(np.int64)
    else:
        graphs, coefficients = enumerate_graphs(k)
    coefficients.setflags(write=False)
    return graphs, coefficients


def decomposable_graphs(k: int) -> list[tuple[tuple[int, int], ...]]:
    """All decomposable (chordal) graphs on ``k`` lists, as sorted edge tuples.

    Ordered by number of edges, then lexicographically: the first is the independence graph
    ``()``, the last the complete graph. 8, 61, 822 and 18,154 graphs for 3, 4, 5 and 6
    lists, as in ``dga`` (``data(graphs5)``) and OEIS A058862. Read from the shipped table
    (:data:`TABLE`) and cached.

    Raises
    ------
    ModelError
        If ``k`` is not between 1 and 6.
    """
    _check_k(k)
    return list(_enumerate(k)[0])


def graph_coefficients(k: int) -> np.ndarray:
    """Read-only ``(n_graphs, 2**k)`` matrix of :func:`factor_coefficients`, rows in the
    order of :func:`decomposable_graphs`. Cached."""
    _check_k(k)
    return _enumerate(k)[1]


# ------------------------------------------------- hyper-Dirichlet marginal likelihood


@dataclass(frozen=True)
class GraphLogJoint:
    r""":math:`\log p(N = n + m, g \mid \text{data})` of every decomposable graph, up to one constant.

    With :math:`\alpha_A = \delta 2^{K-|A|}`, :math:`\alpha_+ = \delta 2^K` and
    :math:`n_A(i)` the marginal counts of the lists in :math:`A` (zero cell without the
    :math:`m` unseen),

    .. math::

        \log p(N, g \mid \text{data}) = \text{const}_g + \sum_{A} c_{gA}
            \log\Gamma(\alpha_A + n_A(0) + m) - c_g \log\Gamma(\alpha_+ + N)
            + \log\frac{N!}{m!} + \log p(N),

    :math:`c_{gA}` the signed multiplicities of :func:`factor_coefficients`, :math:`c_g` their
    sum (the number of connected components) and :math:`\text{const}_g` the rest of
    :math:`\sum_A c_{gA} \log h(A)`. Calling the object evaluates it on a vector of ``m``
    (real values give the continuous extension) for all graphs or the ``rows`` given.
    """

    n: int
    alpha_total: float
    offsets: np.ndarray  # (2**k - 1,) alpha_A + n_A(0) for subsets 1..2**k-1
    coefficients: np.ndarray  # (G, 2**k - 1) signed multiplicities, float
    components: np.ndarray  # (G,) sum of each row
    constants: np.ndarray  # (G,) the N-free part
    exponents: np.ndarray  # (G,) beta_g: log p(N, g | data) ~ beta_g log N as N -> inf
    log_prior_n: Callable[[np.ndarray], np.ndarray]

    def __call__(self, missing: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Shape ``(graphs, len(missing))``: one product of the graphs' coefficients (then
        ``-components``, 1 and the constant) with ``gammaln`` of the subsets they use,
        ``gammaln(alpha_+ + N)``, the terms in N alone and 1."""
        coefficients = self.coefficients[rows]
        used = np.flatnonzero(np.any(coefficients != 0.0, axis=0))
        total = self.n + missing
        basis = np.empty((len(used) + 3, len(missing)))
        basis[: len(used)] = gammaln(self.offsets[used, None] + missing[None, :])
        basis[len(used)] = gammaln(self.alpha_total + total)
        basis[len(used) + 1] = gammaln(total + 1.0) - gammaln(missing + 1.0) + self.log_prior_n(total)
        basis[len(used) + 2] = 1.0
        design = np.empty((coefficients.shape[0], len(used) + 3))
        design[:, : len(used)] = coefficients[:, used]
        design[:, len(used)] = -self.components[rows]
        design[:, len(used) + 1] = 1.0
        design[:, len(used) + 2] = self.constants[rows]
        return design @ basis


def graph_log_joint(
    table: np.ndarray,
    k: int,
    delta: float,
    log_prior_n: Callable[[np.ndarray], np.ndarray],
    prior_power: float,
) -> GraphLogJoint:
    r"""Precompute :class:`GraphLogJoint` for a validated counts vector (entry 0 is 0).

    ``prior_power`` is the power of :math:`N` in :math:`p(N)` for large :math:`N` (-1 for
    :math:`1/N`, 0 for flat; an upper bound for priors that decay faster); it enters the
    tail exponents :math:`\beta_g = \text{power} + n + \sum_A c_{gA}(\alpha_A + n_A(0) -
    \alpha_+ - n)`. The graph prior is uniform.
    """
    _check_k(k)
    n_cells = 1 << k
    n = int(table.sum())
    cells = np.arange(n_cells)
    alpha_total = delta * n_cells
    offsets = np.empty(n_cells - 1)
    subset_constants = np.empty(n_cells - 1)
    for subset in range(1, n_cells):
        size = bin(subset).count("1")
        alpha = delta * 2.0 ** (k - size)
        marginal = np.bincount(cells & subset, weights=table, minlength=n_cells)
        inside = (cells & subset) == cells  # the marginal cells of A, i.e. subsets of A
        inside[0] = False
        offsets[subset - 1] = alpha + marginal[0]
        subset_constants[subset - 1] = (
            gammaln(alpha_total) - (1 << size) * gammaln(alpha) + gammaln(alpha + marginal[inside]).sum()
        )
    coefficients = graph_coefficients(k)[:, 1:].astype(float)
    components = coefficients.sum(axis=1)
    constants = coefficients @ subset_constants
    exponents = prior_power + n + coefficients @ (offsets - alpha_total - n)
    return GraphLogJoint(n, alpha_total, offsets, coefficients, components, constants, exponents, log_prior_n)


if __name__ == "__main__":  # rebuild the shipped table
    write_table()

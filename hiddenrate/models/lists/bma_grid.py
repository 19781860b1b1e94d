r"""The grid over the population size for model averaging: quadrature, grid end and the mass beyond it.

:func:`hiddenrate.models.lists.bma_core.bma_posterior` sums each decomposable graph's posterior
over the missing count :math:`m = N - n`. The summands have power-law tails, so the grid is not
guessed: a coarse pass on log-spaced nodes out to :math:`10^{10}` gives every graph's mass and the
mass beyond each node (:func:`coarse_pass`), the grid ends where that falls below the tolerance
(:func:`choose_grid_end`), and a fine pass evaluates the surviving graphs on the grid, exactly
for small counts and by a cubic spline in :math:`\log N` beyond (:func:`fine_pass`). Sums past
the exact region use the midpoint rule :math:`\sum_{m > M} f(m) \approx \int_{M+1/2}^\infty f`,
integrated by the trapezoid rule in :math:`u = \log x`; the derivation is in bma_core's docstring.

The steps, for :math:`G` graphs and :math:`n` people observed:

(1) Coarse pass: every graph on the missing counts 0..31 and on nodes spaced
:math:`\min(0.02, n^{-1/2})` in :math:`\log N` out to :math:`10^{10}`, giving each
graph's total mass and the posterior mass beyond every node. (2) Graphs whose mass is
below :math:`e^{-5}\, 10^{-12} / G` of the total are dropped (together below
:math:`10^{-12}`; the node spacing resolves any graph whose posterior of :math:`\log N`
is wider than about a tenth of it). (3) The grid end is the first node with less than ``tail_tol``
beyond it. (4) Fine pass: the surviving graphs on the grid (as above) and on nodes
from the grid's end outward, which give the mass beyond it. Sums over :math:`N` beyond
the exact region use the midpoint rule :math:`\sum_{m > M} f(m) \approx
\int_{M + 1/2}^\infty f`.

``tail_mass`` is accurate to about 1e-4 of itself when the grid ends inside the bulk of the
posterior (a small ``n_max``) and better in the far tail (checked against sums over every
integer to :math:`10^6` in the tests).
"""

from __future__ import annotations

import math

import numpy as np

from hiddenrate.models.lists.cubic_spline import not_a_knot_spline
from hiddenrate.models.lists.decomposable import GraphLogJoint

__all__ = ["MAX_AUTO_GRID", "choose_grid_end", "coarse_bytes", "coarse_pass", "fine_pass", "logsumexp"]

#: Longest automatic grid (values of N). Past it the tail mass is reported, not forced down.
MAX_AUTO_GRID = 1 << 21

_INTEGER_NODES = 32  # coarse pass: missing counts 0..31 exactly, then log-spaced nodes
_TAIL_STEP = 0.02  # trapezoid step in log N of the tail integrals past the grid
_FAR_STEP = 0.1  # step in log N of the far nodes (where the summand is nearly a power law)
_FAR_END = 1e10  # last quadrature node (float lgamma keeps ~1e-3 nats there)
_BLOCK = 1 << 15  # grid values per block (bounded memory)
_GRAPH_CHUNK = 2048  # graphs per block in the coarse pass


def logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(values))) along an axis (-inf where all are -inf), without warnings or
    scipy's array-API overhead."""
    peak = values.max(axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    total = np.exp(values - peak).sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.squeeze(np.log(total) + peak, axis=axis)


def _trapezoid_weights(u: np.ndarray) -> np.ndarray:
    weights = np.zeros_like(u)
    if len(u) > 1:
        gaps = np.diff(u)
        weights[:-1] += gaps / 2.0
        weights[1:] += gaps / 2.0
    return weights


def _log_nodes(start: float, n: int, step: float, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced nodes from ``start`` outward and their trapezoid weights in ``u = log x``.

    Step ``step`` up to ``reach (n + start)``, then ``_FAR_STEP`` up to ``_FAR_END`` (or
    100 times further, if that is further). Past ``30 (n + start)`` the summand is a power
    of ``x`` to within a few per cent, smooth enough for the wide step.
    """
    middle = max(start * math.e, reach * (n + start))
    end = max(_FAR_END, 100.0 * middle)
    fine = np.arange(0.0, math.log(middle / start), step)
    far = np.arange(fine[-1] + _FAR_STEP, math.log(end / start) + _FAR_STEP / 2, _FAR_STEP)
    u = np.concatenate([fine, far])
    return start * np.exp(u), _trapezoid_weights(u)


def coarse_bytes(n: int, n_graphs: int, step: float) -> float:
    """Memory the coarse pass needs (bytes): a block of graphs by every node, a few arrays of it.

    The node spacing is ``n^{-1/2}`` in log N, so the nodes grow like ``sqrt(n) log n``: about
    3,000 for 10^4 people observed, 770,000 for 10^9."""
    middle = max((_INTEGER_NODES - 0.5) * math.e, 1e3 * (n + _INTEGER_NODES - 0.5))
    nodes = _INTEGER_NODES + math.log(middle / (_INTEGER_NODES - 0.5)) / step
    return 3 * 8 * min(n_graphs, _GRAPH_CHUNK) * nodes


def coarse_pass(terms: GraphLogJoint, step: float, bound: int | None
                 ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Every graph's log mass, the log of the summed tail integrand at each node and the
    summed log remainder past the last node. ``bound``: last missing count (flat prior)."""
    integers = np.arange(_INTEGER_NODES, dtype=float)
    nodes, weights = _log_nodes(_INTEGER_NODES - 0.5, terms.n, step, 1e3)
    if bound is not None:
        integers = integers[integers <= bound]
        keep = nodes <= bound + 0.5
        nodes, weights = nodes[keep], _trapezoid_weights(np.log(nodes[keep]))
    grid = np.concatenate([integers, nodes])
    n_exact = len(integers)
    # sum over integers, trapezoid in log x over the nodes: one weight vector
    quadrature = np.concatenate([np.ones(n_exact), nodes * weights])
    n_all = terms.coefficients.shape[0]
    log_mass = np.empty(n_all)
    node_total = np.zeros(len(nodes))
    node_reference = -np.inf
    remainders = np.full(n_all, -np.inf)
    for first in range(0, n_all, _GRAPH_CHUNK):
        rows = slice(first, min(first + _GRAPH_CHUNK, n_all))
        values = terms(grid, rows)
        peaks = values.max(axis=1)
        scaled = np.exp(values - peaks[:, None])
        mass = np.log(scaled @ quadrature) + peaks
        if bound is not None:
            log_mass[rows] = mass
            continue
        # power-law remainder past the last node, in u = log x: f x / |beta + 1|
        remainders[rows] = values[:, -1] + math.log(nodes[-1]) - np.log(-(terms.exponents[rows] + 1.0))
        log_mass[rows] = np.logaddexp(mass, remainders[rows])
        chunk_reference = float(peaks.max())
        if chunk_reference > node_reference:
            node_total *= math.exp(node_reference - chunk_reference) if np.isfinite(node_reference) else 0.0
            node_reference = chunk_reference
        node_total += np.exp(peaks - node_reference) @ scaled[:, n_exact:]
    if bound is not None:
        return log_mass, np.empty(0), -np.inf, nodes
    with np.errstate(divide="ignore"):  # nodes far out can underflow to zero
        log_node_total = np.log(node_total * nodes) + node_reference
    return log_mass, log_node_total, float(logsumexp(remainders, axis=0)), nodes


def choose_grid_end(nodes: np.ndarray, log_node_total: np.ndarray,
                     log_remainder_total: float, log_target: float) -> int:
    """Smallest coarse node whose tail integral (all graphs) is below the target, as a
    missing count; capped so that the grid has at most ``MAX_AUTO_GRID`` values."""
    gaps = np.diff(np.log(nodes))
    pieces = np.logaddexp(log_node_total[:-1], log_node_total[1:]) + np.log(gaps / 2.0)
    reversed_pieces = np.concatenate([[log_remainder_total], pieces[::-1]])
    tails = np.logaddexp.accumulate(reversed_pieces)[::-1]  # tails[i]: integral from nodes[i]
    below = np.flatnonzero(tails <= log_target)
    if len(below) == 0:
        return MAX_AUTO_GRID - 1
    return int(min(MAX_AUTO_GRID - 1, max(_INTEGER_NODES, math.ceil(nodes[below[0]]))))


def fine_pass(terms: GraphLogJoint, survivors: np.ndarray, last_missing: int, step: float,
               dense_end: int | None, with_tail: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log of the unnormalised pmf on missing = 0..last_missing, each survivor's log mass
    (grid and beyond) and log mass beyond the grid.

    Missing counts below ``dense_end`` (all, if ``None``) are evaluated exactly; the rest
    by a cubic spline in ``log N`` through nodes ``step`` apart.
    """
    n_grid = last_missing + 1
    n_exact = n_grid if dense_end is None else min(n_grid, dense_end)
    if n_exact < n_grid:
        start, stop = n_exact - 0.5, last_missing + 0.5
        u = np.linspace(math.log(start), math.log(stop), math.ceil(math.log(stop / start) / step) + 1)
        body_nodes, body_weights = np.exp(u), _trapezoid_weights(u)
    else:
        u = body_nodes = body_weights = np.empty(0)
    if with_tail:
        tail_nodes, tail_weights = _log_nodes(last_missing + 0.5, terms.n, _TAIL_STEP, 30.0)
    else:
        tail_nodes = tail_weights = np.empty(0)
    n_body = len(body_nodes)
    # Columns: exact integers (in blocks), then spline nodes, then tail nodes.
    blocks = [np.arange(b, min(b + _BLOCK, n_exact), dtype=float) for b in range(0, n_exact, _BLOCK)]
    blocks.append(np.concatenate([body_nodes, tail_nodes]))
    grid_quadrature = [np.ones(len(b)) for b in blocks[:-1]]
    grid_quadrature.append(np.concatenate([body_nodes * body_weights, np.zeros(len(tail_nodes))]))
    tail_quadrature = np.concatenate([np.zeros(n_body), tail_nodes * tail_weights])
    mixture = [np.zeros(len(b)) for b in blocks]
    reference = -np.inf
    graph_grid = np.zeros(len(survivors))
    graph_tail = np.zeros(len(survivors))
    graph_peak = np.full(len(survivors), -np.inf)
    remainders = np.full(len(survivors), -np.inf)
    chunk = max(1, _GRAPH_CHUNK // 2)
    for first in range(0, len(survivors), chunk):
        part = slice(first, min(first + chunk, len(survivors)))
        rows = survivors[part]
        for index, columns in enumerate(blocks):
            if len(columns) == 0:
                continue
            values = terms(columns, rows)
            peaks = values.max(axis=1)
            new_peak = np.maximum(graph_peak[part], peaks)
            rescale = np.exp(graph_peak[part] - new_peak)
            scaled = np.exp(values - new_peak[:, None])
            graph_grid[part] = graph_grid[part] * rescale + scaled @ grid_quadrature[index]
            graph_tail[part] = graph_tail[part] * rescale
            if index == len(blocks) - 1 and with_tail:
                graph_tail[part] += scaled @ tail_quadrature
                remainders[part] = values[:, -1] + math.log(tail_nodes[-1]) - np.log(-(terms.exponents[rows] + 1.0))
            graph_peak[part] = new_peak
            top = float(new_peak.max())
            if top > reference:
                for column_sums in mixture:
                    column_sums *= math.exp(reference - top) if np.isfinite(reference) else 0.0
                reference = top
            mixture[index] += np.exp(new_peak - reference) @ scaled
    with np.errstate(divide="ignore"):  # masses that underflow are -inf in log
        graph_log_tail = np.logaddexp(np.log(graph_tail) + graph_peak, remainders)
        graph_log_mass = np.logaddexp(np.log(graph_grid) + graph_peak, graph_log_tail)
        log_mixture = [np.log(column_sums) + reference for column_sums in mixture]
    log_pmf = np.empty(n_grid)
    log_pmf[:n_exact] = np.concatenate(log_mixture[:-1]) if n_exact else np.empty(0)
    if n_body:
        log_pmf[n_exact:] = not_a_knot_spline(u, log_mixture[-1][:n_body],
                                              np.log(np.arange(n_exact, n_grid, dtype=float)))
    return log_pmf, graph_log_mass, graph_log_tail

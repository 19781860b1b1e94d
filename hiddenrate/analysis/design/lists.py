r"""``hiddenrate design lists``: is another list worth matching? (docs/methods.md#design)

The plan: an assumed number of people :math:`N`, each list's capture probability (and, if
stated, log odds ratios between lists, as ``hiddenrate simulate lists``), and candidate sets of
lists (e.g. police + NGO, then police + NGO + shelter). Each replicate draws one population's
capture histories for all lists (:func:`hiddenrate.data.simulate.simulate_list_counts`, the truth
fixed at :math:`N`); every candidate sees the same people, keeping only its lists, and is fitted
with the model ``hiddenrate lists`` would use for that many lists (exact model averaging for 3 to 6
lists, closed form on a grid; the Bayesian two-list model for two). Measured as for reporting
designs: interval width, width over the median, coverage of :math:`N`, the share meeting the
target.

Closed form beside it: Darroch's (1958) asymptotic variance of the independence model's estimate,
:math:`\text{var}\,\hat N \approx N/(1/\prod_j q_j - 1 - \sum_j p_j/q_j)`, :math:`q_j = 1 - p_j`
(for two lists the Lincoln-Petersen variance :math:`Nq_1q_2/(p_1p_2)`), as a log-normal relative width
:math:`2\sinh(z\sqrt{\text{var}}/N)`. Model averaging also carries model uncertainty, so its
intervals are wider when lists are few or small; with dependence the independence width is not
a check but a floor that is too optimistic.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from hiddenrate.analysis.design.study import Candidate, DesignStudy, Estimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.parallel import SERIAL, Parallel, item_rng, run_chunks
from hiddenrate.data.lists import ListTable
from hiddenrate.data.simulate import simulate_list_counts
from hiddenrate.models.lists.base import ListModel
from hiddenrate.models.lists.registry import auto_model, make_list_model

MEASURES = ("lower", "median", "upper", "covered", "estimated")


@dataclass(frozen=True)
class ListsPlan:
    """What is assumed (``total``, ``capture``, ``log_odds_ratios``) and the candidate list sets."""

    total: int
    capture: tuple[float, ...]
    candidates: tuple[tuple[int, ...], ...]
    names: tuple[str, ...] = ()
    log_odds_ratios: Mapping[tuple[int, int], float] = field(default_factory=dict)
    level: float = 0.95
    within: float | None = None
    replicates: int = 200
    seed: int = 1

    def __post_init__(self) -> None:
        k = len(self.capture)
        if self.total < 1:
            raise ModelError(f"--total {self.total}: the assumed number of people must be at least 1")
        if k < 2 or any(not 0 < p < 1 for p in self.capture):
            raise ModelError("--capture: give at least two capture probabilities between 0 and 1, e.g. 0.3,0.2,0.15")
        for candidate in self.candidates:
            if len(candidate) < 2 or len(set(candidate)) != len(candidate) or not all(0 <= j < k for j in candidate):
                raise ModelError(f"--lists: each candidate names 2 to {k} different lists numbered 1 to {k}")
            if len(candidate) > 6:
                raise ModelError("--lists: at most 6 lists in a candidate (the default model's limit)")
        if self.within is not None and not self.within > 0:
            raise ModelError(f"--within {self.within:g}: give the half-width as a share of the estimate, e.g. 0.25")
        if self.replicates < 2:
            raise ModelError("--replicates: at least 2")

    def label(self, candidate: tuple[int, ...]) -> str:
        names = self.names or tuple(f"list {j + 1}" for j in range(len(self.capture)))
        return " + ".join(names[j] for j in candidate)


def _keep(counts: np.ndarray, lists: tuple[int, ...]) -> np.ndarray:
    """The table of ``lists`` alone: people summed over the other lists' patterns (cell 0 kept at 0)."""
    cells = np.arange(counts.size)
    index = np.zeros(counts.size, dtype=np.int64)
    for bit, j in enumerate(lists):
        index |= ((cells >> j) & 1) << bit
    out = np.bincount(index, weights=counts, minlength=1 << len(lists)).astype(np.int64)
    out[0] = 0
    return out


def _replicate(plan: ListsPlan, index: int) -> np.ndarray:
    rng = item_rng(plan.seed, index, 0)
    counts = simulate_list_counts(plan.total, list(plan.capture), rng=rng, log_odds_ratios=dict(plan.log_odds_ratios) or None)
    out = np.full((len(plan.candidates), len(MEASURES)), np.nan)
    for j, lists in enumerate(plan.candidates):
        table = ListTable(names=tuple(f"L{i}" for i in lists), counts=_keep(np.asarray(counts), lists))
        model = _model(len(lists))
        estimate = model.fit_table(table, levels=(plan.level,), seed=int(item_rng(plan.seed, index, 1 + j).integers(2**31)),
                                   interval_kind="equal-tailed")
        if estimate.total is None:
            out[j, 3:] = 0.0
            continue
        lower, upper = estimate.total.interval(plan.level)
        median = estimate.total.median()
        if lower is None or upper is None or median is None:
            out[j, 3:] = 0.0
            continue
        out[j] = lower, median, upper, float(lower <= plan.total <= upper), 1.0
    return out


@functools.lru_cache(maxsize=8)
def _model(k: int) -> ListModel:
    """The default list model for ``k`` lists, built once per worker process."""
    return make_list_model(auto_model(k), k)


def lists_chunk(plan: ListsPlan, indices: Sequence[int]) -> list[np.ndarray]:
    """One Dask task: the replicates ``indices``."""
    return [_replicate(plan, i) for i in indices]


def independence_relative_width(total: int, capture: Sequence[float], level: float) -> float:
    """Darroch's asymptotic relative width of the independence model's interval (see the module docstring)."""
    p = np.asarray(capture, dtype=float)
    q = 1 - p
    information = 1 / np.prod(q) - 1 - np.sum(p / q)
    z = float(norm.ppf(0.5 + level / 2))
    return float(2 * np.sinh(z * np.sqrt(total / information) / total))


def design_lists(plan: ListsPlan, parallel: Parallel = SERIAL, client: object = None) -> DesignStudy:
    """Run the study of ``plan``."""
    started = time.perf_counter()
    rows = run_chunks(functools.partial(lists_chunk, plan), plan.replicates, parallel, "replicates", client)
    seconds = time.perf_counter() - started
    stacked = np.stack(rows)
    reps = {name: stacked[:, :, k] for k, name in enumerate(MEASURES)}
    candidates = []
    for j, lists in enumerate(plan.candidates):
        width = reps["upper"][:, j] - reps["lower"][:, j]
        relative = width / reps["median"][:, j]
        estimated = reps["estimated"][:, j] > 0
        simulated = {"width": Estimate.mean(width), "relative_width": Estimate.mean(relative),
                     "coverage": Estimate.share(reps["covered"][:, j]), "no_estimate": Estimate.share(~estimated)}
        if plan.within is not None:
            simulated["target_met"] = Estimate.share(np.where(estimated, relative <= 2 * plan.within, False))
        closed = {"independence_relative_width": independence_relative_width(
            plan.total, [plan.capture[i] for i in lists], plan.level)}
        candidates.append(Candidate(label=plan.label(lists), settings={"lists": [i + 1 for i in lists],
                                                                       "model": auto_model(len(lists))},
                                    simulated=simulated, closed_form=closed))
    target: dict[str, object] = {"level": plan.level}
    if plan.within is not None:
        target["within"] = plan.within
    assumptions = {"total": plan.total, "capture": plan.capture, "replicates": plan.replicates, "seed": plan.seed}
    if plan.log_odds_ratios:
        assumptions["log_odds_ratios"] = {f"{i + 1},{j + 1}": v for (i, j), v in plan.log_odds_ratios.items()}
    notes = ("The closed form assumes independent lists and one model; model averaging's intervals also carry "
             + "model uncertainty, so they are wider.",)
    return DesignStudy(kind="lists", model="default list", assumptions=assumptions, target=target,
                       candidates=candidates, replicates=reps, notes=notes,
                       run={"where": parallel.describe(), "seconds": seconds})


__all__ = ["ListsPlan", "design_lists", "independence_relative_width", "lists_chunk"]

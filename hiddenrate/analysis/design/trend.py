r"""``hiddenrate design trend``: in which years to survey, to see a change (docs/methods.md#design).

The plan: ``periods`` years, an expected recorded count :math:`\mu` in the first, a constant
reporting rate :math:`p`, and a change :math:`\delta` in incidence from the first year to the last
(geometric in between: :math:`\lambda_t = (\mu/p)(1 + \delta)^{t/(T - 1)}`). Candidates are survey
schedules (the years with a survey of ``surveyed`` people; the others have none and borrow through
the model). Each replicate draws :math:`N_t \sim \text{Poisson}(\lambda_t)`,
:math:`y_t \sim \text{Binomial}(N_t, p)` and, in survey years, :math:`r_t \sim \text{Binomial}(m, p)`,
and fits the model ``hiddenrate trend`` fits (:class:`hiddenrate.models.trend.core.TrendSampler`,
random walk with drift, default priors). The sampler is compiled once per worker process and
the data are swapped in for every replicate (``CompiledModel.with_data``).

Measured: the width of the interval of the incidence ratio last/first year over its median,
whether it covers :math:`1 + \delta`, and "detected" (it excludes 1 on the side of the change; with
:math:`\delta = 0`, on either side: the false-positive rate); the last year's total interval and
its coverage. The closed form beside it is the delta method of
:mod:`hiddenrate.analysis.design.reporting_exact` for the first and last years alone (surveys in
both), a reference for what the years between add.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiddenrate.analysis.design import reporting_exact as closed
from hiddenrate.analysis.design.study import Candidate, DesignStudy, Estimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.parallel import SERIAL, Parallel, item_rng, run_chunks

MEASURES = ("ratio_lower", "ratio_median", "ratio_upper", "ratio_covered", "direction", "last_lower", "last_median",
            "last_upper", "last_covered", "divergences")
PROCESS = "rw-drift"


@dataclass(frozen=True)
class TrendPlan:
    """What is assumed, the candidate survey schedules (0-based years) and the sampler's settings."""

    recorded: float
    rate: float
    periods: int
    surveyed: int
    schedules: tuple[tuple[int, ...], ...]
    change: float = 0.0
    level: float = 0.95
    replicates: int = 100
    seed: int = 1
    draws: int = 1000
    tune: int = 1000
    chains: int = 4

    def __post_init__(self) -> None:
        if not self.recorded > 0 or not 0 < self.rate < 1:
            raise ModelError("--recorded must be above 0 and --rate between 0 and 1")
        if self.periods < 2:
            raise ModelError(f"--years {self.periods}: a trend needs at least 2 years")
        if self.surveyed < 1:
            raise ModelError("--survey: the survey size must be at least 1")
        for schedule in self.schedules:
            if not schedule or not all(0 <= t < self.periods for t in schedule) or len(set(schedule)) != len(schedule):
                raise ModelError(f"--schedule: give different years numbered 1 to {self.periods}, e.g. 1,{self.periods}")
        if not self.change > -1:
            raise ModelError(f"--change {self.change:g}: a relative change above -1, e.g. -0.3 for a 30% fall")
        if self.replicates < 2:
            raise ModelError("--replicates: at least 2")

    def label(self, schedule: tuple[int, ...]) -> str:
        if len(schedule) == self.periods:
            return "every year"
        return "years " + ",".join(str(t + 1) for t in sorted(schedule))


def _replicate(plan: TrendPlan, index: int) -> np.ndarray:
    from hiddenrate.models.trend.core import TrendSampler

    rng = item_rng(plan.seed, index, 0)
    steps = np.arange(plan.periods) / (plan.periods - 1)
    incidence = plan.recorded / plan.rate * (1 + plan.change) ** steps
    truth = rng.poisson(incidence)
    recorded = rng.binomial(truth, plan.rate)
    sampler = TrendSampler(1, plan.periods, PROCESS)
    out = np.full((len(plan.schedules), len(MEASURES)), np.nan)
    q = ((1 - plan.level) / 2, 0.5, (1 + plan.level) / 2)
    for j, schedule in enumerate(plan.schedules):
        survey_rng = item_rng(plan.seed, index, 1 + j)
        surveyed = np.zeros(plan.periods, dtype=np.int64)
        surveyed[list(schedule)] = plan.surveyed
        reported = survey_rng.binomial(surveyed, plan.rate)
        idata: Any = sampler.sample(recorded[None], surveyed[None], reported[None], draws=plan.draws, tune=plan.tune,
                               chains=plan.chains, seed=int(survey_rng.integers(2**31)))
        post = idata.posterior
        lam = np.asarray(post["incidence"].values)[:, :, 0, :].reshape(-1, plan.periods)
        ratio = np.quantile(lam[:, -1] / lam[:, 0], q)
        total = np.quantile(np.asarray(post["total"].values)[:, :, 0, -1].ravel(), q)
        direction = -1.0 if ratio[2] < 1 else (1.0 if ratio[0] > 1 else 0.0)
        divergences = float(np.asarray(idata.sample_stats["diverging"].values).sum())
        out[j] = (*ratio, float(ratio[0] <= 1 + plan.change <= ratio[2]), direction, *total,
                  float(total[0] <= truth[-1] <= total[2]), divergences)
    return out


def trend_chunk(plan: TrendPlan, indices: Sequence[int]) -> list[np.ndarray]:
    """One Dask task: the replicates ``indices`` (the sampler's compiled model is cached in the worker)."""
    return [_replicate(plan, i) for i in indices]


def design_trend(plan: TrendPlan, parallel: Parallel = SERIAL, client: object = None) -> DesignStudy:
    """Run the study of ``plan``."""
    started = time.perf_counter()
    rows = run_chunks(functools.partial(trend_chunk, plan), plan.replicates, parallel, "replicates", client)
    seconds = time.perf_counter() - started
    stacked = np.stack(rows)
    reps = {name: stacked[:, :, k] for k, name in enumerate(MEASURES)}
    first_last = closed.delta_power(plan.recorded, plan.rate, plan.surveyed, plan.level,
                                    plan.change)
    candidates = []
    for j, schedule in enumerate(plan.schedules):
        direction = reps["direction"][:, j]
        detected = direction != 0 if plan.change == 0 else direction == (-1.0 if plan.change < 0 else 1.0)
        relative = (reps["ratio_upper"][:, j] - reps["ratio_lower"][:, j]) / reps["ratio_median"][:, j]
        simulated = {"relative_width": Estimate.mean(relative), "coverage": Estimate.share(reps["ratio_covered"][:, j]),
                     "detected": Estimate.share(detected),
                     "last_year_coverage": Estimate.share(reps["last_covered"][:, j]),
                     "with_divergences": Estimate.share(reps["divergences"][:, j] > 0)}
        candidates.append(Candidate(label=plan.label(schedule), settings={"survey_years": [t + 1 for t in schedule]},
                                    simulated=simulated, closed_form={"delta_detected": first_last}))
    target = {"level": plan.level, "change": plan.change, "false_positive_rate": 1 - plan.level}
    assumptions = {"recorded": plan.recorded, "rate": plan.rate, "years": plan.periods, "surveyed": plan.surveyed,
                   "replicates": plan.replicates, "seed": plan.seed,
                   "sampling": f"{plan.chains} chains x {plan.draws} draws after {plan.tune}"}
    notes = ("Width, coverage and power are of the incidence ratio last year / first year; the delta method is for "
             + "two surveyed years alone (first and last), without the years between.",)
    return DesignStudy(kind="trend", model=f"trend ({PROCESS})", assumptions=assumptions, target=target,
                       candidates=candidates, replicates=reps, notes=notes,
                       run={"where": parallel.describe(), "seconds": seconds})


__all__ = ["TrendPlan", "design_trend", "trend_chunk"]

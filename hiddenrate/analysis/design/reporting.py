r"""``hiddenrate design reporting``: how large a reporting survey must be (docs/methods.md#design).

The plan: one stratum (an area, a year) whose official records are expected to hold
:math:`\mu` incidents a period, an assumed reporting rate :math:`p`, and candidate survey sizes
:math:`m`. Each replicate draws the truth and the data from those assumptions,

.. math::

    N \sim \text{Poisson}(\mu/p),\quad y \mid N \sim \text{Binomial}(N, p),\quad
    r \sim \text{Binomial}(m, p),

and fits the model ``hiddenrate reporting`` fits to one stratum (the exact model,
:mod:`hiddenrate.models.reporting.exact`, its default priors). Every candidate sees the same
:math:`N` and :math:`y` in a replicate (common random numbers: differences between candidates
are sharper than their Monte Carlo errors suggest). Measured: the interval's width and width
relative to its median, whether it covers :math:`N`, and whether it meets the target
(``within``: half-width at most that share of the median).

A change target adds a second period with incidence :math:`\mu(1 + \delta)/p`, the same rate and
a new survey of the same size. The rule behind "detected": the equal-tailed interval (at the
study's level) of the ratio of the two incidences :math:`\lambda_2/\lambda_1` excludes 1, i.e.
:math:`P(\lambda_2 < \lambda_1 \mid \text{data}) > 1 - \alpha/2` (a fall) or
:math:`P(\lambda_2 > \lambda_1 \mid \text{data}) > 1 - \alpha/2` (a rise), :math:`\alpha = 1 - \text{level}`
(:func:`prob_incidence_fall`). It compares incidences, not the two realised totals: those differ
by Poisson noise even when nothing changed, and a rule on them fires too often.
With no change it fires (either way) at the false-positive rate :math:`\alpha`; the tests check that
over 500 replicates.

Closed forms (:mod:`hiddenrate.analysis.design.reporting_exact`) sit beside every simulated
number: the exact expected width of the exact model and the delta method's widths, power and
survey sizes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import betainc
from scipy.stats import beta as beta_dist

from hiddenrate.analysis.design import reporting_exact as closed
from hiddenrate.analysis.design.study import Candidate, DesignStudy, Estimate
from hiddenrate.core.distributions import GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.parallel import SERIAL, Parallel, item_rng, run_chunks
from hiddenrate.models.reporting.exact import SourceEvidence, combine
from hiddenrate.models.reporting.model import EXACT_PRIORS

#: equal-probability nodes of each period's reporting rate in :func:`prob_incidence_fall`
INCIDENCE_NODES = 128
#: what each replicate records per candidate
MEASURES = ("truth", "lower", "median", "upper", "covered", "estimated", "p_fall", "direction")


@dataclass(frozen=True)
class ReportingPlan:
    """What is assumed and what is asked for; see the module docstring."""

    recorded: float
    rate: float
    surveys: tuple[int, ...]
    level: float = 0.95
    within: float | None = None
    change: float | None = None
    power: float = 0.8
    replicates: int = 200
    seed: int = 1

    def __post_init__(self) -> None:
        if not self.recorded > 0:
            raise ModelError(f"--recorded {self.recorded:g}: the expected recorded count must be above 0")
        if not 0 < self.rate < 1:
            raise ModelError(f"--rate {self.rate:g}: the assumed reporting rate must be between 0 and 1")
        if not self.surveys or any(int(m) != m or m < 1 for m in self.surveys):
            raise ModelError("--survey: give candidate survey sizes as whole numbers >= 1, e.g. 100,200,400")
        if not 0 < self.level < 1:
            raise ModelError(f"--level {self.level:g} must be between 0 and 1")
        if self.within is not None and not self.within > 0:
            raise ModelError(f"--within {self.within:g}: give the half-width as a share of the estimate, e.g. 0.25")
        if self.change is not None and not self.change > -1:
            raise ModelError(f"--change {self.change:g}: a relative change above -1, e.g. -0.3 for a 30% fall")
        if not 0 < self.power < 1:
            raise ModelError(f"--power {self.power:g} must be between 0 and 1")
        if self.replicates < 2:
            raise ModelError("--replicates: at least 2 (200 or more for Monte Carlo errors of a few per cent)")


def _fit(recorded: int, reported: int, surveyed: int) -> GridDistribution | None:
    """The exact model's posterior of the total for one stratum, one source (default priors)."""
    prior = EXACT_PRIORS["reporting_rate"]
    source = SourceEvidence("source", int(recorded), prior["alpha"] + reported, prior["beta"] + surveyed - reported,
                            surveyed, reported)
    posterior = combine([source], None, EXACT_PRIORS["incidence"]["shape"],
                        EXACT_PRIORS["incidence_if_none_recorded"]["shape"])
    return None if posterior is None else posterior.total


def prob_incidence_fall(first: tuple[int, int, int], second: tuple[int, int, int], nodes: int = INCIDENCE_NODES) -> float:
    r"""Posterior :math:`P(\lambda_2 < \lambda_1)` from two periods' (recorded, reported, surveyed).

    Under the exact model's priors, :math:`\lambda \mid y, p \sim \text{Gamma}(y + s, \text{rate } p)` and
    :math:`p \sim \text{Beta}(\alpha + r, \beta + m - r)` (the count says nothing on the rate;
    docs/methods.md#thinning). With :math:`\lambda = G/p`, :math:`G \sim \text{Gamma}(y + s, 1)`,
    :math:`G_2/(G_1 + G_2) \sim \text{Beta}(y_2 + s_2, y_1 + s_1)`, so the probability is
    :math:`E[I_{p_2/(p_1 + p_2)}(y_2 + s_2, y_1 + s_1)]` over the two rates, computed on
    ``nodes`` equal-probability quantiles of each (midpoint rule; with 128 nodes within 0.001 of
    1,500 nodes, tests/test_design.py).
    """
    prior = EXACT_PRIORS["reporting_rate"]
    q = (np.arange(nodes) + 0.5) / nodes
    shapes, rates = [], []
    for recorded, reported, surveyed in (first, second):
        shape = EXACT_PRIORS["incidence"]["shape"] if recorded > 0 else EXACT_PRIORS["incidence_if_none_recorded"]["shape"]
        shapes.append(recorded + shape)
        rates.append(beta_dist.ppf(q, prior["alpha"] + reported, prior["beta"] + surveyed - reported))
    p1, p2 = rates[0][:, None], rates[1][None, :]
    return float(np.mean(betainc(shapes[1], shapes[0], p2 / (p1 + p2))))


def _replicate(plan: ReportingPlan, index: int) -> np.ndarray:
    """One replicate: a row of :data:`MEASURES` per candidate survey size."""
    rng = item_rng(plan.seed, index, 0)
    lam = plan.recorded / plan.rate
    truth = rng.poisson(lam)
    recorded = rng.binomial(truth, plan.rate)
    later = None
    if plan.change is not None:
        truth2 = rng.poisson(lam * (1 + plan.change))
        later = rng.binomial(truth2, plan.rate)
    alpha = 1 - plan.level
    out = np.full((len(plan.surveys), len(MEASURES)), np.nan)
    for j, m in enumerate(plan.surveys):
        survey = item_rng(plan.seed, index, 1 + j)
        reported = survey.binomial(m, plan.rate)
        fitted = _fit(recorded, reported, m)
        row = out[j]
        row[0] = truth
        if fitted is None:
            row[4:6] = 0.0
            continue
        lower, upper = fitted.quantile((1 - plan.level) / 2), fitted.quantile((1 + plan.level) / 2)
        row[1:6] = lower, fitted.median(), upper, float(lower <= truth <= upper), 1.0
        if later is not None:
            fall = prob_incidence_fall((recorded, reported, m), (later, survey.binomial(m, plan.rate), m))
            row[6] = fall
            row[7] = -1.0 if fall > 1 - alpha / 2 else (1.0 if 1 - fall > 1 - alpha / 2 else 0.0)
    return out


def reporting_chunk(plan: ReportingPlan, indices: Sequence[int]) -> list[np.ndarray]:
    """The work of one Dask task: the replicates ``indices`` (module level, so it pickles)."""
    return [_replicate(plan, i) for i in indices]


def simulate(plan: ReportingPlan, parallel: Parallel = SERIAL, client: object = None) -> dict[str, np.ndarray]:
    """Every replicate's measures, arrays of shape (replicates, candidates), keyed by :data:`MEASURES`."""
    rows = run_chunks(functools.partial(reporting_chunk, plan), plan.replicates, parallel, "replicates", client)
    stacked = np.stack(rows)
    return {name: stacked[:, :, k] for k, name in enumerate(MEASURES)}


def _detected(plan: ReportingPlan, direction: np.ndarray) -> np.ndarray:
    if plan.change == 0:
        return direction != 0
    return direction == (-1.0 if (plan.change or 0) < 0 else 1.0)


def _candidate(plan: ReportingPlan, j: int, reps: dict[str, np.ndarray], exact: bool) -> Candidate:
    m = plan.surveys[j]
    width = reps["upper"][:, j] - reps["lower"][:, j]
    relative = width / reps["median"][:, j]
    estimated = reps["estimated"][:, j] > 0
    simulated = {"width": Estimate.mean(width), "relative_width": Estimate.mean(relative),
                 "coverage": Estimate.share(reps["covered"][:, j]), "no_estimate": Estimate.share(~estimated)}
    closed_form: dict[str, float | None] = {
        "delta_relative_width": closed.delta_relative_width(plan.recorded, plan.rate, m, plan.level)}
    expectation = closed.exact_expectation(plan.recorded, plan.rate, m, plan.level, plan.within) if exact else None
    closed_form["exact_width"] = expectation.width if expectation else None
    closed_form["exact_relative_width"] = expectation.relative_width if expectation else None
    if plan.within is not None:
        simulated["target_met"] = Estimate.share(np.where(estimated, relative <= 2 * plan.within, False))
        closed_form["exact_target_met"] = expectation.target_met if expectation else None
    if plan.change is not None:
        simulated["detected"] = Estimate.share(_detected(plan, reps["direction"][:, j]))
        closed_form["delta_detected"] = closed.delta_power(plan.recorded, plan.rate, m, plan.level, plan.change)
    return Candidate(label=f"survey of {m}", settings={"surveyed": m}, simulated=simulated, closed_form=closed_form)


def design_reporting(plan: ReportingPlan, parallel: Parallel = SERIAL, exact: bool = True,
                     client: object = None) -> DesignStudy:
    """Run the study of ``plan``: simulate, fit, summarise; closed forms beside (``exact=False``
    skips the exact expectations, which take a few seconds per candidate)."""
    started = time.perf_counter()
    reps = simulate(plan, parallel, client)
    seconds = time.perf_counter() - started
    candidates = [_candidate(plan, j, reps, exact) for j in range(len(plan.surveys))]
    target: dict[str, object] = {"level": plan.level}
    notes = []
    if plan.within is not None:
        target["within"] = plan.within
        target["survey_needed_within"] = closed.survey_needed_within(plan.recorded, plan.rate, plan.level, plan.within)
    if plan.change is not None:
        target.update(change=plan.change, power=plan.power, false_positive_rate=1 - plan.level,
                      survey_needed_change=closed.survey_needed_change(plan.recorded, plan.rate, plan.level, plan.change,
                                                                      plan.power))
        notes.append("Detected: the interval of the ratio of the two periods' incidences excludes 1; with no change "
                     "this fires at the false-positive rate 1 - level.")
    assumptions = {k: v for k, v in asdict(plan).items() if k not in ("within", "change", "power", "level")}
    return DesignStudy(kind="reporting", model="exact", assumptions=assumptions, target=target, candidates=candidates,
                       replicates=reps, notes=tuple(notes),
                       run={"where": parallel.describe(), "seconds": seconds})


__all__ = ["MEASURES", "ReportingPlan", "design_reporting", "prob_incidence_fall", "reporting_chunk", "simulate"]

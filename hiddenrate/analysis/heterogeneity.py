r"""Heterogeneity check: do people differ in how likely they are to be recorded, beyond what the model allows?

The field's classic silent failure is a group of people whom every list is unlikely to reach: the
models that treat lists as (conditionally) independent, or dependent in pairs, then fit the table
well enough to return a tight interval far below the truth (Link 2003). Every ``lists`` result on
three or more lists passes through :func:`check_table`, which looks at the *capture frequencies*
:math:`f_k`, the number of people on exactly :math:`k` of the :math:`J` lists, in two ways
(docs/methods.md#heterogeneity-check):

(a) **misfit**: does the model the headline rests on reproduce :math:`f_1, \dots, f_J`? The
    Pearson statistic :math:`T = \sum_k (f_k - \hat E_k)^2 / \hat E_k` against its distribution in
    :data:`REPLICATES` tables drawn from the fitted cell probabilities of the observed cells
    (a parametric bootstrap with the parameters held at the fit, as a posterior-predictive check
    does; it errs towards large p-values, Robins, van der Vaart & Ventura 2000). The fitted model
    is the fitted log-linear model when the fit is one, else model averaging over decomposable
    graphs (3-6 lists; the graphs holding 99% of the posterior weight, at most
    :data:`MAX_GRAPHS`, each at its maximum-likelihood fit, mixed by their weights), else the
    best log-linear model by BIC (stepwise). Fires when :math:`p <` :data:`ALPHA`.
(b) **below the lower bound**: Chao's (1987) lower bound for :math:`J` lists,
    :math:`n + \frac{J-1}{J}\frac{f_1^2}{2 f_2}` (bias-corrected when :math:`f_2 = 0`), with its
    log-normal interval; fires when the headline interval's upper end lies below the lower end of
    the bound's interval at the same level.

When either fires, the finding ``heterogeneity`` (code :data:`CODE`) is added to the estimate's
warnings, ``details["heterogeneity"]`` holds the numbers (the renderers put the warning at the top
of every format and apply the headline policy: "at least" the lower end of Chao's interval), and
the latent-class model joins the sensitivity table.

References
----------
Chao, A. (1987). Estimating the population size for capture-recapture data with unequal
catchability. *Biometrics* 43, 783-791.
Link, W. A. (2003). Nonidentifiability of population size from capture-recapture data with
heterogeneous detection probabilities. *Biometrics* 59, 1123-1130.
Robins, J. M., van der Vaart, A. & Ventura, V. (2000). Asymptotic distribution of P values in
composite null models. *JASA* 95, 1143-1156.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from hiddenrate.analysis.fragility import Finding
from hiddenrate.core.exceptions import HiddenrateError
from hiddenrate.data.lists import ListTable
from hiddenrate.result.value import StratumEstimate

#: the finding's stable code (also its ``Finding.check``)
CODE = "heterogeneity"
#: misfit of the capture frequencies fires below this p-value (set before the simulation study;
#: a 60-set pilot of each null design at 0.05 fired in 2 and 1 of 60)
ALPHA = 0.01
#: tables drawn for the p-value (the smallest p-value is 1 / (REPLICATES + 1))
REPLICATES = 1000
#: the check needs at least three lists: with two, every model fits f1 and f2 exactly
MIN_LISTS = 3
#: models whose fit part (a) checks through :func:`reference_fit`; others (latent classes, the heterogeneity
#: models) allow for heterogeneity themselves, so only part (b) applies to them
CHECKED_MODELS = ("bma", "loglinear", "independence", "stepwise", "bayes-loglinear", None)
#: at most this many decomposable graphs enter the reference fit of model averaging
MAX_GRAPHS = 30
GRAPH_MASS = 0.99
_NEWTON_STEPS = 200
_FAILURES = (HiddenrateError, ValueError, ArithmeticError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class ChaoBound:
    """Chao's lower bound for the total, and the ends of its log-normal interval at each level."""

    total: float
    intervals: Mapping[float, tuple[float, float]]
    bias_corrected: bool

    def lower(self, level: float) -> float | None:
        ends = self.intervals.get(round(float(level), 12))
        return None if ends is None else ends[0]


@dataclass(frozen=True)
class HeterogeneityCheck:
    """The numbers of the check on one table (see the module docstring)."""

    frequencies: tuple[int, ...]
    expected: tuple[float, ...] | None
    p_value: float | None
    reference: str | None
    chao: ChaoBound | None
    level: float
    headline: tuple[float | None, float | None]
    misfit: bool
    below_bound: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fired(self) -> bool:
        return self.misfit or self.below_bound

    def details(self) -> dict[str, Any]:
        """What is stored in ``details["heterogeneity"]`` (numbers only; renderers make the words)."""
        chao = self.chao
        return {
            "code": CODE, "fired": self.fired, "misfit": self.misfit, "below_bound": self.below_bound,
            "frequencies": list(self.frequencies),
            "expected": None if self.expected is None else [float(x) for x in self.expected],
            "p_value": self.p_value, "alpha": ALPHA, "replicates": REPLICATES, "reference": self.reference,
            "level": self.level, "headline": list(self.headline),
            "chao": None if chao is None else {
                "total": chao.total, "bias_corrected": chao.bias_corrected,
                "intervals": {f"{level:g}": list(ends) for level, ends in chao.intervals.items()}},
            "policy": self.policy(), **self.extra,
        }

    def policy(self) -> dict[str, Any] | None:
        """The headline policy when the check fires: "at least" the lower end of Chao's interval."""
        if not self.fired or self.chao is None:
            return None
        return {"kind": "at-least",
                "lower": {f"{level:g}": ends[0] for level, ends in self.chao.intervals.items()}}


def capture_frequencies(counts: np.ndarray, k: int) -> np.ndarray:
    """``f[k - 1]`` = people on exactly ``k`` lists, ``k = 1..J`` (cell 0 is ignored)."""
    cells = np.arange(1 << k)
    sizes = np.array([int(c).bit_count() for c in cells])
    values = np.asarray(counts, dtype=float).copy()
    values[0] = 0.0
    return np.bincount(sizes, weights=values, minlength=k + 1)[1:]


def chao_lower_bound(frequencies: Sequence[float] | np.ndarray, k: int, levels: Sequence[float]) -> ChaoBound | None:
    r"""Chao's (1987) lower bound for :math:`J` lists and its log-normal interval at ``levels``.

    :math:`\hat f_0 = A f_1^2 / (2 f_2)`, :math:`A = (J - 1)/J`, variance
    :math:`f_2 [\tfrac{A}{2} r^2 + A^2 r^3 + \tfrac{A^2}{4} r^4]`, :math:`r = f_1 / f_2`; when
    :math:`f_2 = 0` the bias-corrected :math:`A f_1 (f_1 - 1) / 2` with its variance (docs/methods.md#heterogeneity-check).
    None when nobody is on exactly one list (the bound is then the observed count).
    """
    f = np.asarray(frequencies, dtype=float)
    n, f1, f2 = float(f.sum()), float(f[0]), float(f[1]) if f.size > 1 else 0.0
    share = (k - 1) / k
    if f2 > 0:
        hidden = share * f1 * f1 / (2.0 * f2)
        ratio = f1 / f2
        variance = f2 * (share / 2 * ratio**2 + share**2 * ratio**3 + share**2 / 4 * ratio**4)
    else:
        hidden = share * f1 * (f1 - 1.0) / 2.0
        variance = (share * f1 * (f1 - 1) / 2 + share**2 * f1 * (2 * f1 - 1) ** 2 / 4
                    - share**2 * f1**4 / (4 * (n + hidden)))
    if hidden <= 0 or variance <= 0:
        return None
    intervals = {}
    for level in levels:
        z = NormalDist().inv_cdf(0.5 + float(level) / 2.0)
        spread = float(np.exp(z * np.sqrt(np.log1p(variance / hidden**2))))
        intervals[round(float(level), 12)] = (n + hidden / spread, n + hidden * spread)
    return ChaoBound(n + hidden, intervals, f2 == 0)


def frequency_p_value(counts: np.ndarray, k: int, fitted: np.ndarray, rng: np.random.Generator,
                      replicates: int = REPLICATES) -> tuple[float, np.ndarray]:
    """The p-value of the Pearson statistic of the capture frequencies, and their expected values.

    Tables of the observed count are drawn from the fitted cell probabilities of the observed cells;
    the p-value is ``(1 + #{T* >= T}) / (replicates + 1)``.
    """
    observed = np.asarray(counts, dtype=float)
    n = round(float(observed[1:].sum()))
    probabilities = np.clip(np.asarray(fitted, dtype=float)[1:], 0.0, None)
    probabilities = probabilities / probabilities.sum()
    sizes = np.array([c.bit_count() for c in range(1, 1 << k)])
    lumping = np.zeros((probabilities.size, k))
    lumping[np.arange(probabilities.size), sizes - 1] = 1.0
    expected = n * probabilities @ lumping
    used = expected > 0
    frequencies = capture_frequencies(observed, k)
    if np.any(frequencies[~used] > 0):
        return 1.0 / (replicates + 1), expected

    def statistic(values: np.ndarray) -> np.ndarray:
        return np.sum((values[..., used] - expected[used]) ** 2 / expected[used], axis=-1)

    draws = rng.multinomial(n, probabilities, size=replicates) @ lumping
    exceed = int(np.sum(statistic(draws) >= statistic(frequencies) - 1e-9))
    return (1 + exceed) / (replicates + 1), expected


def _clique_terms(edges: Sequence[tuple[int, int]], k: int) -> tuple[tuple[int, ...], ...]:
    """The hierarchical log-linear terms of a decomposable graph: every subset (2+) of each clique."""
    from hiddenrate.models.lists.decomposable import cliques_and_separators

    cliques, _ = cliques_and_separators(tuple(edges), k)
    terms: set[tuple[int, ...]] = set()
    for clique in cliques:
        members = [j for j in range(k) if (clique >> j) & 1]
        for size in range(2, len(members) + 1):
            terms.update(itertools.combinations(members, size))
    return tuple(sorted(terms, key=lambda t: (len(t), t)))


def fitted_counts(counts: np.ndarray, k: int, terms: Sequence[Sequence[int]] = ()) -> np.ndarray:
    """Fitted counts of the observed cells under a log-linear model (entry 0 is 0).

    The Poisson likelihood of the observed cells maximised by Newton-Raphson with step-halving
    (:func:`~hiddenrate.models.lists.loglinear_core.newton_direction`), stopped when no fitted count
    moves by more than 1e-9 of the observed total. Where the maximum is not attained (empty cells)
    the fitted values approach the extended fit's (docs/methods.md#existence), and the stop on the
    fitted counts ends the march of the coefficients to infinity that a stop on them would follow.
    """
    from hiddenrate.core.design import design_matrix
    from hiddenrate.models.lists.loglinear_core import newton_direction

    design = design_matrix(k, terms)[1:]
    y = np.asarray(counts, dtype=float)[1:]
    start = y + 0.5
    weighted = design * start[:, None]
    beta = np.linalg.lstsq(weighted.T @ design, weighted.T @ np.log(start), rcond=None)[0]

    def loglik(b: np.ndarray) -> float:
        eta = np.minimum(design @ b, 700.0)
        return float(y @ eta - np.exp(eta).sum())

    mu = np.exp(np.minimum(design @ beta, 700.0))
    current = loglik(beta)
    tolerance = 1e-9 * max(float(y.sum()), 1.0)
    for _ in range(_NEWTON_STEPS):
        step = newton_direction(design.T @ (design * mu[:, None]), design.T @ (y - mu))
        scale = 1.0
        while scale > 1e-12 and loglik(beta + scale * step) < current - 1e-12 * (abs(current) + 1.0):
            scale /= 2.0
        beta = beta + scale * step
        current = loglik(beta)
        new_mu = np.exp(np.minimum(design @ beta, 700.0))
        moved = float(np.max(np.abs(new_mu - mu)))
        mu = new_mu
        if moved < tolerance:
            break
    fitted = np.zeros(1 << k)
    fitted[1:] = mu
    return fitted


REFERENCE_BMA = "model averaging over decomposable graphs"


def averaged_fit(counts: np.ndarray, k: int, graphs: Sequence[Sequence[tuple[int, int]]],
                 probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """Fitted counts of model averaging: each graph's log-linear fit, mixed by its posterior weight
    (the graphs holding :data:`GRAPH_MASS` of the weight, at most :data:`MAX_GRAPHS`)."""
    weights = np.asarray(probabilities, dtype=float)
    order = np.argsort(-weights, kind="stable")
    keep = order[:min(MAX_GRAPHS, int(np.searchsorted(np.cumsum(weights[order]), GRAPH_MASS)) + 1)]
    mixed = np.zeros(1 << k)
    for index in keep:
        mixed += weights[index] * fitted_counts(counts, k, _clique_terms(graphs[index], k))
    return mixed / weights[keep].sum()


def reference_fit(table: ListTable, main_name: str | None, details: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """Fitted counts of the observed cells under the model the headline rests on, and its name."""
    k = table.k
    if main_name in ("loglinear", "independence") and "term_indices" in details:
        terms = tuple(tuple(int(j) for j in t) for t in details["term_indices"])
        return fitted_counts(table.counts, k, terms), "the fitted log-linear model"
    listed = details.get("graph_weights")
    if main_name == "bma" and isinstance(listed, list) and listed:  # the fit's own graphs and weights
        graphs = [tuple((int(edge[0]), int(edge[1])) for edge in graph) for graph, _ in listed]
        return averaged_fit(table.counts, k, graphs, [float(p) for _, p in listed]), REFERENCE_BMA
    if 3 <= k <= 6 and main_name != "stepwise":
        from hiddenrate.models.lists.bma_core import bma_posterior

        posterior = bma_posterior(table.counts, k, delta=float(details.get("delta", 2.0 ** -k)))
        return averaged_fit(table.counts, k, posterior.graphs, posterior.graph_probs), REFERENCE_BMA
    from hiddenrate.models.lists.ranking import stepwise

    best = stepwise(table.counts, k, "bic")
    return fitted_counts(table.counts, k, best.terms), "the best log-linear model by BIC (stepwise)"


def check_table(table: ListTable, estimate: StratumEstimate, *, levels: Sequence[float], level: float,
                seed: int, main_name: str | None = None, misfit: bool = True) -> HeterogeneityCheck | None:
    """Run both parts of the check on one table and its estimate; None when it does not apply.

    ``level`` is the headline level (part (b) compares the intervals there); Chao's interval is
    kept at every one of ``levels``. ``misfit=False`` skips part (a) (a pooled table of strata,
    whose model is the strata's).
    """
    if table.k < MIN_LISTS or estimate.total is None or table.observed == 0:
        return None
    try:
        headline = estimate.total.interval(level, "equal-tailed")
    except HiddenrateError:
        headline = (None, None)
    fitted, reference = None, None
    # a log-linear selection that chose one of Rcapture's heterogeneity models allows for it already
    if misfit and main_name in CHECKED_MODELS and "heterogeneity_model" not in estimate.details:
        try:
            fitted, reference = reference_fit(table, main_name, estimate.details)
        except _FAILURES:
            fitted, reference = None, None
    return evaluate(table.counts, table.k, headline, fitted, reference, levels=levels, level=level, seed=seed)


def evaluate(counts: np.ndarray, k: int, headline: tuple[float | None, float | None], fitted: np.ndarray | None,
             reference: str | None, *, levels: Sequence[float], level: float, seed: int) -> HeterogeneityCheck:
    """Both parts of the check from the table, the headline interval at ``level`` and the reference
    model's fitted counts (None: part (a) not run)."""
    frequencies = capture_frequencies(counts, k)
    chao = chao_lower_bound(frequencies, k, tuple(dict.fromkeys((*levels, level))))
    bound = None if chao is None else chao.lower(level)
    below = bool(headline[1] is not None and bound is not None and headline[1] < bound)
    p_value, expected = None, None
    if fitted is not None:
        try:
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), 21]))
            p_value, expected = frequency_p_value(counts, k, fitted, rng)
        except _FAILURES:
            p_value, expected, reference = None, None, None
    return HeterogeneityCheck(
        frequencies=tuple(round(float(x)) for x in frequencies),
        expected=None if expected is None else tuple(float(x) for x in expected),
        p_value=p_value, reference=reference if p_value is not None else None, chao=chao, level=float(level),
        headline=(None if headline[0] is None else float(headline[0]),
                  None if headline[1] is None else float(headline[1])),
        misfit=p_value is not None and p_value < ALPHA, below_bound=below)


def finding(result: HeterogeneityCheck) -> Finding | None:
    """The warning of a check that fired (the existing :class:`~hiddenrate.analysis.fragility.Finding`)."""
    if not result.fired:
        return None
    reasons = []
    if result.misfit:
        reasons.append(f"it does not reproduce how many people are on 1, 2, ... {len(result.frequencies)} "
                       f"lists (p = {result.p_value:.3g})")
    bound = None if result.chao is None else result.chao.lower(result.level)
    if result.below_bound and bound is not None:
        reasons.append(f"its whole {100 * result.level:g}% interval lies below Chao's lower bound")
    lower = "" if bound is None else f"; Chao's lower bound puts the total at no less than about {bound:,.0f}"
    also = "" if result.below_bound else ", or the lists depend on each other,"
    return Finding(CODE, (
        f"people differ in how likely they are to be recorded{also} in ways this model does not allow for: "
        + " and ".join(reasons) + lower + ". The true total may be far higher. More lists, "
        "--model latent-class, or a survey of how often people are recorded (hiddenrate combine) would help"))


def annotate(estimate: StratumEstimate, result: HeterogeneityCheck | None) -> StratumEstimate:
    """The estimate with ``details["heterogeneity"]`` and, when the check fired, its warning and finding."""
    if result is None:
        return estimate
    from dataclasses import replace

    details = dict(estimate.details)
    details["heterogeneity"] = result.details()
    warnings = tuple(estimate.warnings)
    found = finding(result)
    if found is not None:
        details["fragility"] = [*details.get("fragility", []), {"check": found.check, "message": found.message,
                                                                 "severity": found.caveat.severity}]
        warnings = (found.caveat, *warnings)
    return replace(estimate, details=details, warnings=warnings)

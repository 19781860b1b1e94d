r"""Fragility checks: plain-language warnings when an estimate should not be trusted as it stands.

Every ``hiddenrate lists`` result passes through :func:`check`, whatever the model. Each check
looks at the fitted estimate (its distribution of the total, its diagnostics and, for MCMC fits,
its chains) and at the table, and returns a :class:`Finding` with a one-sentence message that a
non-statistician can act on. The checks and their thresholds:

``zero-overlap``
    Pairs of lists with nobody in common. Their dependence cannot be estimated; every model
    fills the gap with an assumption (Chan, Silverman & Vincent 2021).
``chains-disagree``
    MCMC chains whose medians of :math:`N` differ by more than 10% (a sign of several modes or
    of chains that have not mixed).
``rhat``, ``ess``, ``divergences``
    R-hat above 1.01, fewer than 400 effective draws, any divergent transition (thresholds of
    :mod:`hiddenrate.core.diagnostics`; Vehtari et al. 2021).
``bound``
    Posterior mass against an edge: more than 0.1% of an exact posterior beyond the last total
    computed; more than 25% of the posterior at the observed count (nobody hidden); an interval
    with no upper end or whose lower end is the observed count; for the latent-class model,
    more than 2% of the population in the last of the :math:`K` classes (:math:`K` too small;
    with the default K the model first refits with up to 40 classes, so this fires only for a
    K the user fixed, or when 40 still binds).
``multimodal``
    A posterior of :math:`N` with two or more separated modes: on :math:`\log N`, a Gaussian
    kernel density (Silverman's bandwidth) has a second peak at least 5% as high as the
    highest, with a valley between them below 80% of the lower peak, at least 5% of the
    mass on each side of that valley, and the two at least 10% apart (modes closer than that are
    one answer for any use of the number). An exact posterior on whole numbers is spread over
    each number's unit interval, so that the lattice of whole numbers makes no modes of its own.
``prior-dominated``
    A posterior of :math:`N` that is mostly prior. Where the model provides prior draws of the
    log odds of being on no list (the latent-class model does), the posterior variance of that
    log odds must be below half its prior variance (posterior contraction above 0.5; Betancourt
    2018); otherwise, and in any case, the upper 97.5% end of the hidden count must be less than
    5 times its median: under :math:`p(N) \propto 1/N` a posterior the data do not bound keeps
    the prior's heavy tail. And for the latent-class model on 2 or 3 lists without survey data:
    there a model with two classes has :math:`2J + 2` unknowns (weight, capture probabilities,
    :math:`N`) against :math:`2^J - 1` observed counts (8 against 7 for 3 lists), so the data
    leave a ridge of totals that fit equally well. On the exact expected table of two classes
    (70% captured with probability 0.2-0.3, 30% with 0.6-0.7; N = 2,000) the profile
    log-likelihood of :math:`N` is within 0.6 of its maximum from 1,800 to 6,000
    (``tests/test_fragility.py``). How far the classes move the hidden count is then decided by
    the priors, and the check fires when they raise or lower the odds of being on no list by more
    than 5% (posterior median) against lists acting independently with the same capture rates
    (Spina bifida, New York: lowered by 10%). On the
    200 simulated three-list data sets of ``tests/test_latent_class_coverage.py`` the
    latent-class interval covered the truth in 199 (too wide for a calibrated 95% interval);
    the check fired on every one, and on none of 100 independent-list data sets.

References
----------
Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture
data. *JASA* 116, 1297-1306.
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021). Rank-normalization,
folding, and localization: an improved R-hat. *Bayesian Analysis* 16, 667-718.
Betancourt, M. (2018). Calibrating model-based inferences and decisions. arXiv:1803.08393.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hiddenrate.data.lists import ListTable
from hiddenrate.core.caveats import Caveat
from hiddenrate.core.diagnostics import ESS_MIN, RHAT_MAX
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, PointEstimate
from hiddenrate.result.value import StratumEstimate

CHAIN_SPREAD = 1.10
TAIL_MASS = 1e-3
AT_OBSERVED_SHARE = 0.25
PEAK_HEIGHT = 0.05
VALLEY_DEPTH = 0.80
MODE_MASS = 0.05
#: log of 1.10: modes of N less than 10% apart are one answer for any use of the number, not two. Without it the
#: exact posterior of the snowshoe hares (80 animals, 95% [70, 91]) was said to have "6 separate modes (near 71
#: and 72 and 74)": the pmf of whole numbers rebinned onto a finer log grid is a comb, one peak per integer
MODE_SEPARATION = float(np.log(1.10))
CONTRACTION_MIN = 0.5
TAIL_RATIO = 5.0
LEVEL = 0.95
#: log of 1.05: classes that raise (or lower) the odds of being on no list by more than 5% against
#: independent lists. First set at 10%, which missed 1 of the 200 three-list coverage data sets (lift 8%; the one
#: whose interval missed N); on independent lists the lift stays below 0.1% (30-set pilot). Checked afterwards on
#: 200 fresh data sets of the same design (SeedSequence(20261206)): flagged 200 of 200, smallest lift 7.7%
CLASS_LIFT = float(np.log(1.05))
#: the most lists at which two latent classes have more unknowns than the table has cells
UNIDENTIFIED_LISTS = 3

#: the checks of this module, then ``heterogeneity`` (:mod:`hiddenrate.analysis.heterogeneity`, run by the
#: sensitivity step because it needs the fitted model's name)
CHECKS = ("zero-overlap", "chains-disagree", "rhat", "ess", "divergences", "bound", "multimodal", "prior-dominated",
          "heterogeneity")


@dataclass(frozen=True)
class Finding:
    """One failed check: its name (one of :data:`CHECKS`; also the warning's stable code in
    :data:`hiddenrate.core.caveats.CODES`, which gives its severity unless ``severity`` says
    otherwise) and the warning for the report."""

    check: str
    message: str
    severity: str | None = None

    @property
    def caveat(self) -> Caveat:
        """The warning with its code (the check's name) and severity."""
        return Caveat(self.message, self.check, self.severity)


def check(estimate: StratumEstimate, table: ListTable | None = None) -> list[Finding]:
    """Run every check on one fitted estimate; ``table`` enables the checks on the data.

    Returns the findings in the order of :data:`CHECKS` (empty when nothing looks fragile).
    """
    findings: list[Finding] = []
    if table is not None:
        findings += _zero_overlap(table)
    if estimate.total is None:
        return findings
    findings += _mcmc(estimate)
    findings += _bounds(estimate)
    findings += _multimodal(estimate)
    findings += _prior_dominated(estimate)
    return findings


def annotate(estimate: StratumEstimate, table: ListTable | None = None) -> StratumEstimate:
    """The estimate with the findings added to its warnings and to ``details["fragility"]``.

    A finding is not repeated when the model already warned about the same thing (e.g. the
    log-linear models' own message about lists that never overlap).
    """
    findings = check(estimate, table)
    existing = " ".join(estimate.warnings).lower()
    new = [f.caveat for f in findings if not (f.check == "zero-overlap" and "never overlap" in existing)]
    new = [m for m in new if m not in estimate.warnings]
    details = dict(estimate.details)
    details["fragility"] = [{"check": f.check, "message": f.message, "severity": f.caveat.severity} for f in findings]
    return replace(estimate, warnings=tuple(estimate.warnings) + tuple(new), details=details)


# ----------------------------------------------------------------------------- the checks


def _zero_overlap(table: ListTable) -> list[Finding]:
    pairs = table.zero_overlap_pairs()
    if not pairs:
        return []
    listed = ", ".join(f"{a}-{b}" for a, b in pairs[:6]) + (", ..." if len(pairs) > 6 else "")
    return [Finding("zero-overlap", (
        f"{len(pairs)} pair(s) of lists never overlap ({listed}): the data cannot show how those lists depend "
        "on each other, so every model fills the gap with an assumption and the estimate is fragile"))]


def _chain_totals(estimate: StratumEstimate) -> np.ndarray | None:
    idata = estimate.idata
    posterior = getattr(idata, "posterior", None) if idata is not None else None
    if posterior is None or "total" not in posterior or "chain" not in posterior["total"].dims:
        return None
    values = np.asarray(posterior["total"].transpose("chain", "draw", ...).values, dtype=float)
    return values.reshape(values.shape[0], -1)


def _mcmc(estimate: StratumEstimate) -> list[Finding]:
    findings = []
    totals = _chain_totals(estimate)
    if totals is not None and totals.shape[0] >= 2:
        medians = np.median(totals, axis=1)
        if medians.min() > 0 and medians.max() / medians.min() > CHAIN_SPREAD:
            findings.append(Finding("chains-disagree", (
                f"the {totals.shape[0]} MCMC chains disagree: their medians of the total range from "
                f"{medians.min():,.0f} to {medians.max():,.0f}; the posterior may have several modes, so the "
                "answer depends on where the sampler started")))
    diagnostics = estimate.diagnostics
    if diagnostics.rhat_max is not None and diagnostics.rhat_max > RHAT_MAX:
        findings.append(Finding("rhat", (
            f"the chains have not converged to one answer (R-hat {diagnostics.rhat_max:.3f} > {RHAT_MAX}); "
            "do not use this number as it stands")))
    if diagnostics.ess_bulk_min is not None and diagnostics.ess_bulk_min < ESS_MIN:
        findings.append(Finding("ess", (
            f"only {diagnostics.ess_bulk_min:.0f} effective draws (fewer than {ESS_MIN:g}): the interval ends are "
            "not stable; run longer (--draws)")))
    if diagnostics.divergences:
        findings.append(Finding("divergences", (
            f"{diagnostics.divergences} divergent transitions: the sampler could not explore part of the "
            "posterior, which may be biased")))
    return findings


def _bounds(estimate: StratumEstimate) -> list[Finding]:
    total = estimate.total
    observed = float(estimate.observed)
    findings = []
    if isinstance(total, GridDistribution) and total.tail_mass > TAIL_MASS:
        findings.append(Finding("bound", (
            f"{total.tail_mass:.2g} of the posterior lies beyond the largest total computed "
            f"({total.values[-1]:,.0f}): the posterior runs into the edge of the grid")))
    if isinstance(total, (DrawsDistribution, GridDistribution)):
        at_observed = (float(np.mean(total.draws <= observed + 0.5)) if isinstance(total, DrawsDistribution)
                       else float(total.pmf[total.values <= observed + 0.5].sum()))
        if at_observed > AT_OBSERVED_SHARE:
            findings.append(Finding("bound", (
                f"{100 * at_observed:.0f}% of the posterior is at the observed count (nobody hidden): the "
                "posterior piles up against its lower bound")))
    if isinstance(total, PointEstimate):
        for level, (lower, upper) in total.intervals.items():
            if upper is None:
                findings.append(Finding("bound", f"the {100 * level:g}% interval has no upper end: the data do not "
                                                 "bound the total from above under this model"))
                break
            if lower is not None and lower <= observed + 0.5:
                findings.append(Finding("bound", f"the {100 * level:g}% interval starts at the observed count: the "
                                                 "estimate sits against its lower bound"))
                break
    if estimate.idata is not None:  # sampled fits only: closed-form fits do not load the latent-class code
        findings += _class_cap(estimate.idata)
    return findings


def _class_cap(idata: Any) -> list[Finding]:
    """A finding when the last latent class holds more than its share: the number of classes binds."""
    from hiddenrate.models.lists.latent_class_core import LAST_CLASS_WEIGHT, last_class_share

    last = last_class_share(idata)
    if last is None or last <= LAST_CLASS_WEIGHT:
        return []
    classes = np.asarray(idata.posterior["class_weight"]).shape[-1]
    return [Finding("bound", (
        f"the last of the {classes} latent classes holds {100 * last:.1f}% of the population: the "
        "number of classes is a binding cap; refit with more classes (--classes)"))]


def _log_density(estimate: StratumEstimate) -> tuple[np.ndarray, np.ndarray] | None:
    """Density of log N on a regular grid: a kernel estimate from draws, or the exact pmf rebinned."""
    total = estimate.total
    if isinstance(total, DrawsDistribution):
        values = np.log(np.maximum(total.draws, 1.0))
        if values.size < 100 or np.ptp(values) <= 0:
            return None
        spread = min(float(np.std(values)), float(np.subtract(*np.quantile(values, [0.75, 0.25]))) / 1.34)
        if spread <= 0:
            return None
        bandwidth = 0.9 * spread * values.size ** -0.2  # Silverman's rule
        grid = np.linspace(values.min() - 3 * bandwidth, values.max() + 3 * bandwidth, 512)
        counts, edges = np.histogram(values, bins=2048, range=(grid[0], grid[-1]))
        centres = 0.5 * (edges[1:] + edges[:-1])
        kernel = np.exp(-0.5 * ((grid[:, None] - centres[None, :]) / bandwidth) ** 2)
        return grid, kernel @ counts
    if isinstance(total, GridDistribution) and total.values.size > 10:
        # each total n's probability spread over [n - 1/2, n + 1/2], so that a grid of whole numbers finer
        # than the log grid's bins leaves no empty bins between them (a comb of false modes)
        logs = np.log(np.maximum(total.values, 1.0))
        grid = np.linspace(logs.min(), logs.max(), 512)
        step = grid[1] - grid[0]
        edges = np.exp(np.append(grid - step / 2, grid[-1] + step / 2))
        knots = np.append(total.values[0] - 0.5, total.values + 0.5)
        mass = np.diff(np.interp(edges, knots, np.append(0.0, np.cumsum(total.pmf))))
        width = 3.0
        offsets = np.arange(-9, 10)
        smoother = np.exp(-0.5 * (offsets / width) ** 2)
        return grid, np.convolve(mass, smoother / smoother.sum(), mode="same")
    return None


def modes(grid: np.ndarray, density: np.ndarray) -> list[float]:
    """Separated modes of a density on a grid (criteria in the module docstring), highest first."""
    peaks = [i for i in range(1, density.size - 1) if density[i] > density[i - 1] and density[i] >= density[i + 1]]
    if not peaks:
        return [float(grid[int(np.argmax(density))])]
    peaks.sort(key=lambda i: -density[i])
    kept = [peaks[0]]
    total = float(density.sum())
    for candidate in peaks[1:]:
        if density[candidate] < PEAK_HEIGHT * density[peaks[0]]:
            break
        separated = True
        for other in kept:
            if abs(grid[candidate] - grid[other]) < MODE_SEPARATION:
                separated = False
                break
            low, high = sorted((candidate, other))
            valley = int(low + np.argmin(density[low:high + 1]))
            if density[valley] > VALLEY_DEPTH * min(density[candidate], density[other]):
                separated = False
                break
            side = density[:valley].sum() if candidate < other else density[valley:].sum()
            if side < MODE_MASS * total or total - side < MODE_MASS * total:
                separated = False
                break
        if separated:
            kept.append(candidate)
    return [float(grid[i]) for i in kept]


def _multimodal(estimate: StratumEstimate) -> list[Finding]:
    curve = _log_density(estimate)
    if curve is None:
        return []
    found = modes(*curve)
    if len(found) < 2:
        return []
    shown = " and ".join(f"{np.exp(m):,.0f}" for m in sorted(found)[:3])
    return [Finding("multimodal", (
        f"the posterior of the total has {len(found)} separate modes (near {shown}): the data support "
        "different answers, and a single median and interval hide that"))]


def _prior_dominated(estimate: StratumEstimate) -> list[Finding]:
    findings: list[Finding] = []
    lifted = class_lift(estimate.idata)
    lift = float(np.median(lifted[0])) if lifted is not None and lifted[0].size else 0.0
    if lifted is not None and lifted[1] <= UNIDENTIFIED_LISTS and abs(lift) > CLASS_LIFT:
        lists = lifted[1]
        change = (f"raise the odds of being on no list by {100 * np.expm1(lift):.0f}%" if lift > 0 else
                  f"lower the odds of being on no list by {100 * -np.expm1(lift):.0f}%")
        findings.append(Finding("prior-dominated", (
            f"with {lists} lists the data cannot fix the total under the latent-class model (two classes "
            f"already have {2 * lists + 2} unknowns against {2 ** lists - 1} counts): the classes {change} "
            "compared with independent lists, and by how much is set by the priors, not the data; treat the "
            "interval as resting on that assumption (more lists, or survey data on the capture rates, would "
            "identify it)")))
    contraction = posterior_contraction(estimate.idata)
    if contraction is not None and contraction < CONTRACTION_MIN:
        findings.append(Finding("prior-dominated", (
            f"the data say little about how many are hidden: the posterior of the share never recorded is "
            f"mostly the prior (the data narrow the prior by only {100 * max(contraction, 0):.0f}%)")))
        return findings
    total = estimate.total
    if isinstance(total, (DrawsDistribution, GridDistribution)):
        observed = float(estimate.observed)
        median = float(total.median()) - observed
        _, upper = total.interval(LEVEL, "equal-tailed")
        if upper is not None and median > 0 and (upper - observed) > TAIL_RATIO * median:
            findings.append(Finding("prior-dominated", (
                f"the data barely bound the total from above: the {100 * LEVEL:g}% upper end of the hidden count is "
                f"{(upper - observed) / median:.1f} times its median, the heavy tail of the prior p(N) ∝ 1/N")))
    return findings


def class_lift(idata: Any) -> tuple[np.ndarray, int] | None:
    r"""How much the latent classes move the log odds of being on no list: draws, and the number of lists.

    Per draw, :math:`\operatorname{logit} \pi_0 - \operatorname{logit} \prod_k (1 - \bar\lambda_k)`
    with :math:`\pi_0 = \sum_j w_j \prod_k (1 - \lambda_{jk})` and :math:`\bar\lambda_k = \sum_j w_j
    \lambda_{jk}` (list :math:`k`'s capture rate): 0 for one class or for classes with the same capture
    probabilities; positive when some classes are more visible on every list (the usual
    heterogeneity), negative when classes pull lists apart (one seen on list 1, another on list 2).
    None without latent classes, or when survey data inform the capture rates (a survey of one
    list's rate pins the one-dimensional ridge that 3 lists leave).
    """
    posterior = getattr(idata, "posterior", None) if idata is not None else None
    if (posterior is None or "class_weight" not in posterior or "capture" not in posterior
            or "class" not in posterior["class_weight"].dims or "list" not in posterior["capture"].dims):
        return None
    if json.loads(posterior.attrs.get("surveys", "[]")):
        return None
    # by dimension name, whatever order the arrays were stored in: draws x classes (x lists)
    weight_array = posterior["class_weight"].transpose(..., "class")
    capture_array = posterior["capture"].transpose(..., "class", "list")
    lists = int(capture_array.sizes["list"])
    weights = np.asarray(weight_array.values, dtype=float).reshape(-1, weight_array.sizes["class"])
    capture = np.asarray(capture_array.values, dtype=float).reshape(weights.shape + (lists,))
    with np.errstate(divide="ignore", invalid="ignore"):  # a capture probability of exactly 0 or 1
        unseen = np.sum(weights * np.exp(np.sum(np.log1p(-capture), axis=2)), axis=1)
        independent = np.exp(np.sum(np.log1p(-np.einsum("dj,djk->dk", weights, capture)), axis=1))
        lift = (np.log(unseen) - np.log1p(-unseen)) - (np.log(independent) - np.log1p(-independent))
    return lift[np.isfinite(lift)], lists


def posterior_contraction(idata: Any) -> float | None:
    """``1 - var(posterior) / var(prior)`` of ``log_odds_unseen``, when the fit carries prior draws."""
    if idata is None or not hasattr(idata, "prior") or not hasattr(idata, "posterior"):
        return None
    name = "log_odds_unseen"
    if name not in idata.prior or name not in idata.posterior:
        return None
    prior = np.asarray(idata.prior[name].values, dtype=float).ravel()
    posterior = np.asarray(idata.posterior[name].values, dtype=float).ravel()
    prior, posterior = prior[np.isfinite(prior)], posterior[np.isfinite(posterior)]
    if prior.size < 10 or posterior.size < 10 or np.var(prior) <= 0:
        return None
    return float(1.0 - np.var(posterior) / np.var(prior))


def messages(findings: Sequence[Finding]) -> list[str]:
    """The warnings of findings (each a :class:`~hiddenrate.core.caveats.Caveat` with the check as its code)."""
    return [f.caveat for f in findings]

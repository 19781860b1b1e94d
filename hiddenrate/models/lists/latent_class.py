r"""Bayesian latent-class model for overlapping lists (Manrique-Vallier 2016; R's LCMCR).

Some people are far more visible than others. The model lets the population consist of latent
classes, each with its own capture probability on every list (lists independent *within* a
class), with a Dirichlet-process prior on the class weights (truncated at :math:`K` classes,
default 10 as LCMCR):

.. math::

    \pi_c = \sum_{j=1}^{K} w_j \prod_k \lambda_{jk}^{c_k}(1-\lambda_{jk})^{1-c_k}, \qquad
    w \sim \text{TSB}(\alpha),\ \alpha \sim \text{Gamma}(0.25, 0.25),\
    \lambda_{jk} \sim \text{Beta}(1, 1),\ p(N) \propto 1/N.

By default it is sampled with Gibbs-HMC (:mod:`hiddenrate.models.sampling.latent_class_gibbs`): Gibbs
sweeps over the classes of the people in each cell, the number on no list drawn from its exact
negative-binomial conditional (never by Metropolis), each sweep followed by an HMC move with the
classes and N summed out; ``sampler="nuts"`` uses NUTS on that marginal alone. The math and the
samplers' behaviour (NUTS rarely crosses between modes) are in
:mod:`hiddenrate.models.lists.latent_class_core`.
This module makes the fit a :class:`~hiddenrate.result.value.Result` with R-hat, ESS and divergences
(on label-free quantities: :math:`N` and the log odds of being on no list) and a table of the
largest classes (sorted by weight in every draw, so labels cannot switch in the summary).

Example
-------
>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("western-us"), "latent-class")  # doctest: +SKIP
>>> result.interval(0.95)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import replace
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.models.sampling.latent_class_gibbs import TARGET_ACCEPT as GIBBS_TARGET_ACCEPT
from hiddenrate.models.lists.latent_class_core import (DEFAULT_CLASSES, DEFAULT_SAMPLER, LEAPFROG, TARGET_ACCEPT,
                                                 TEMPERING_LADDER, THIN, check_sampler, latent_priors)
from hiddenrate.result.value import StratumEstimate
from hiddenrate.models.sampling.diagnostics import mcmc as mcmc_diagnostics

logger = logging.getLogger("hiddenrate")

SHOWN_CLASSES = 4
MONITORED = ["total", "log_odds_unseen"]
#: with the default number of classes, K is doubled from 10 up to this while the last class binds
MAX_AUTO_CLASSES = 40
#: ``tempering`` option: "auto" samples again with tempering when the chains disagree
TEMPERING = ("auto", "always", "never")
T = TypeVar("T")


class LatentClassModel(ListModel):
    """Dirichlet-process latent-class model (LCMCR's model).

    Parameters
    ----------
    classes
        Truncation :math:`K` of the Dirichlet process. Default (None): start at 10 (as LCMCR)
        and, while the last class holds more than 2% of the population on average (the
        truncation binds: :func:`hiddenrate.models.lists.latent_class_core.last_class_share`), refit with twice as
        many, up to :data:`MAX_AUTO_CLASSES`; the report says so. Truncation is an
        approximation of the Dirichlet process, so raising it only brings the fit closer to
        the model. A number given here is used as is, and a warning says if it binds.
    priors
        Overrides: ``{"alpha": {"shape": .., "rate": ..}, "capture": {"a": .., "b": ..}}``.
    draws, tune, chains
        Per chain: kept draws, warm-up (defaults 1000, 1000, 4 chains). With the default sampler
        ``tune`` counts warm-up sweeps and ``draws`` kept sweeps (every ``thin``-th, default 5).
    sampler
        ``"gibbs-hmc"`` (default; :mod:`hiddenrate.models.sampling.latent_class_gibbs`) or ``"nuts"``
        (nutpie on the model with the classes summed out; its chains cross between modes rarely).
    tempering
        Gibbs-HMC only. ``"auto"`` (default): when the chains disagree (R-hat of N above 1.01),
        sample again with parallel tempering (:data:`~hiddenrate.models.lists.latent_class_core.TEMPERING_LADDER`:
        four hotter replicas per chain, about five times as long) and report that run, saying
        so; ``"always"``: tempering from the start; ``"never"``: one run as is.
    """

    name = "latent-class"
    title = "Latent-class model (Dirichlet-process mixture; LCMCR's model)"
    description = ("People belong to latent classes that differ in how likely each list is to record them; lists "
                   "are independent within a class. Sampled by Gibbs sweeps over the classes of the people in each "
                   "cell, each followed by an HMC move with the classes and N summed out.")
    estimate_type = "posterior median"
    interval_type = "credible interval"
    min_lists = 2
    option_names: ClassVar[tuple[str, ...]] = ("classes", "priors", "draws", "tune", "chains", "sampler", "thin",
                                                "tempering")
    assumptions: ClassVar[tuple[str, ...]] = (
        "Within a latent class, being on one list does not change the chance of being on another; all dependence "
        "between lists comes from people differing in visibility (the classes).",
        "The number of classes is at most K (by default K starts at 10 and is doubled, up to 40, while the "
        "last class holds more than 2% of the population; a warning says if K binds).",
        "Closed population, and records matched correctly across lists.",
        "With three lists (or two) the model has more parameters than the table has cells: where the classes move "
        "the answer, by how much is set by the priors, and a fragility warning says so.",
    )

    def __init__(self, classes: int | None = None, priors: dict[str, Any] | None = None, draws: int = DEFAULT_DRAWS,
                 tune: int = DEFAULT_TUNE, chains: int = DEFAULT_CHAINS, sampler: str = DEFAULT_SAMPLER,
                 thin: int = THIN,
                 tempering: str = "auto") -> None:
        self.classes = int(classes) if classes is not None else DEFAULT_CLASSES
        self.auto_classes = classes is None
        if self.classes < 1:
            raise ModelError(f"--classes must be at least 1, got {classes}")
        if draws < 100 or tune < 100 or chains < 1:
            raise ModelError("draws and tune must be at least 100, chains at least 1")
        self.prior_overrides = dict(priors or {})
        self.merged_priors = latent_priors(self.prior_overrides)
        self.draws, self.tune, self.chains = int(draws), int(tune), int(chains)
        if int(thin) != thin or thin < 1:
            raise ModelError(f"thin must be a whole number >= 1, got {thin!r}")
        self.sampler, self.thin = check_sampler(sampler), int(thin)
        if tempering not in TEMPERING:
            raise ModelError(f"tempering must be one of {', '.join(TEMPERING)}, got {tempering!r}")
        if tempering == "always" and self.sampler != "gibbs-hmc":
            raise ModelError("tempering needs the gibbs-hmc sampler")
        self.tempering = tempering

    def priors(self) -> dict[str, Any]:
        return {
            "alpha": {**self.merged_priors["alpha"], "meaning": "Gamma(shape, rate) on the DP concentration "
                                                                "(integrated out; LCMCR default 0.25, 0.25)"},
            "capture": {**self.merged_priors["capture"], "meaning": "Beta(a, b) on every class's capture "
                                                                    "probability of every list"},
            "N": {"prior": "p(N) ∝ 1/N"},
        }

    def options(self) -> dict[str, Any]:
        classes: Any = f"{self.classes} (raised up to {MAX_AUTO_CLASSES} if it binds)" if self.auto_classes else self.classes
        if self.sampler == "nuts":
            return {"classes": classes, "draws": self.draws, "tune": self.tune, "chains": self.chains,
                    "sampler": "nuts (nutpie)", "target_accept": TARGET_ACCEPT}
        return {"classes": classes, "draws": self.draws, "tune": self.tune, "chains": self.chains,
                "sampler": "gibbs-hmc", "thin": self.thin, "leapfrog": LEAPFROG, "target_accept": GIBBS_TARGET_ACCEPT,
                "tempering": self.tempering if self.tempering == "never" else
                f"{self.tempering} (replicas at {', '.join(f'{b:g}' for b in TEMPERING_LADDER)} of the counts)"}

    def describe(self, data: ListData) -> str:
        if self.auto_classes:
            return f"{self.description} K = {self.classes} classes, doubled (up to {MAX_AUTO_CLASSES}) while the last binds."
        return f"{self.description} K = {self.classes} classes."

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        estimate, classes, tried = fit_with_enough_classes(lambda k: self._fit_classes(table, k, seed),
                                                           lambda e: e.idata, self.classes, self.auto_classes)
        if not tried:
            return estimate
        note = raised_note(classes, tried)
        tables = [{**t, "note": f"{t['note']} {note}"} for t in estimate.details.get("tables", [])]
        return replace(estimate, details={**estimate.details, "tables": tables, "classes_tried": [k for k, _ in tried],
                                          "classes_note": note})

    def _fit_classes(self, table: ListTable, classes: int, seed: int) -> StratumEstimate:
        from hiddenrate.models.lists.latent_class_core import LatentClassSampler

        sampler = LatentClassSampler(table.k, classes, self.prior_overrides)
        compiling = ("the first compile takes 10-30 s" if self.sampler == "nuts" else
                     "the first run of a structure compiles it, about 10 s; later runs load it from numba's cache")
        logger.info("sampling the latent-class model (K = %d, %d chains x %d draws; %s)", classes, self.chains,
                    self.draws, compiling)
        if self.sampler == "nuts":
            method = f"NUTS (nutpie), {self.chains} chains x {self.draws} draws after {self.tune} tuning"
        else:
            method = gibbs_method(self.chains, self.draws, self.thin, self.tune)
        idata: Any
        tempering: dict[str, Any] | None = None

        def draw(ladder: tuple[float, ...] | None) -> Any:
            return sampler.sample(table.counts, draws=self.draws, tune=self.tune, chains=self.chains, seed=seed,
                                  sampler=self.sampler, thin=self.thin, tempering=ladder)

        try:
            if self.sampler == "gibbs-hmc":
                idata, tempering = sample_tempered_if_needed(draw, self.chains, self.tempering)
            else:
                idata = draw(None)
        except EstimationError as err:
            return StratumEstimate(stratum=table.stratum, observed=table.observed, total=None,
                                   diagnostics=diag.Diagnostics(method=method, converged=False, messages=(str(err),)),
                                   reason=str(err))
        method += tempering_text(idata)
        diagnostics = mcmc_diagnostics(idata, MONITORED, method)
        total = np.asarray(idata.posterior["total"].values, dtype=np.float64)
        return StratumEstimate(
            stratum=table.stratum,
            observed=table.observed,
            total=DrawsDistribution(total),
            diagnostics=diagnostics,
            details={"classes": classes, "tables": [class_table(idata, table.names)],
                     "alpha_median": float(np.median(idata.posterior["alpha"].values)),
                     "occupied_classes_mean": float(np.mean(idata.posterior["occupied_classes"].values))
                     if "occupied_classes" in idata.posterior else None,
                     "tempering": tempering},
            idata=idata,
        )


def sample_tempered_if_needed(draw: Callable[[tuple[float, ...] | None], Any], chains: int,
                              mode: str = "auto") -> tuple[Any, dict[str, Any] | None]:
    """``draw(None)``, and ``draw(TEMPERING_LADDER)`` instead when its chains disagree (``mode="auto"``).

    ``draw(ladder)`` samples (Gibbs-HMC) with that tempering ladder and returns the InferenceData.
    With ``mode="always"`` the first run is tempered; with ``"never"`` there is one plain run.
    Returns the InferenceData kept (its posterior attribute ``tempering_reason`` says why it was
    tempered) and ``{"reason", "first_rhat", "ladder"}`` or None when not tempered.
    """
    if mode == "always":
        idata = draw(TEMPERING_LADDER)
        info: dict[str, Any] = {"reason": "as asked", "first_rhat": None, "ladder": list(TEMPERING_LADDER)}
    else:
        idata = draw(None)
        first = mcmc_diagnostics(idata, ["total"], "").rhat_max if mode == "auto" and chains > 1 else None
        if first is None or first <= diag.RHAT_MAX:
            return idata, None
        logger.info("the %d chains disagree (R-hat of N %.3f): sampling again with tempering (%d replicas per "
                    "chain, about %d times as long)", chains, first, len(TEMPERING_LADDER), len(TEMPERING_LADDER))
        idata = draw(TEMPERING_LADDER)
        info = {"reason": f"the first run's chains disagreed, R-hat of N {first:.3f}", "first_rhat": first,
                "ladder": list(TEMPERING_LADDER)}
    idata.posterior.attrs["tempering_reason"] = info["reason"]
    return idata, info


def tempering_text(idata: Any) -> str:
    """The words the method line adds for a tempered fit ("" when it was not tempered)."""
    reason = idata.posterior.attrs.get("tempering_reason")
    if reason is None:
        return ""
    return (f", with parallel tempering ({reason}): {len(TEMPERING_LADDER) - 1} hotter replicas per chain "
            f"seeing {TEMPERING_LADDER[-1]:.0%}-{TEMPERING_LADDER[1]:.0%} of the counts")


def gibbs_method(chains: int, draws: int, thin: int, tune: int) -> str:
    """The method line of a Gibbs-HMC fit, e.g. "Gibbs-HMC, 4 chains x 1000 draws (every 5th of 5000
    sweeps) after 1000 warm-up sweeps"."""
    suffix = "th" if 10 <= thin % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(thin % 10, "th")
    kept = "every sweep" if thin == 1 else f"every {thin}{suffix}"
    return f"Gibbs-HMC, {chains} chains x {draws} draws ({kept} of {draws * thin} sweeps) after {tune} warm-up sweeps"


def fit_with_enough_classes(fit: Callable[[int], T], idata_of: Callable[[T], Any], classes: int,
                            auto: bool) -> tuple[T, int, list[tuple[int, float]]]:
    """``fit(classes)``, refitted with twice the classes (up to :data:`MAX_AUTO_CLASSES`) while
    ``auto`` and the last class holds more than 2% of the population (the truncation binds).

    Returns the last fit, its number of classes and the (classes, last class's share) of every
    fit that was replaced.
    """
    from hiddenrate.models.lists.latent_class_core import LAST_CLASS_WEIGHT, last_class_share

    tried: list[tuple[int, float]] = []
    while True:
        result = fit(classes)
        last = last_class_share(idata_of(result))
        if not auto or last is None or last <= LAST_CLASS_WEIGHT or classes >= MAX_AUTO_CLASSES:
            return result, classes, tried
        tried.append((classes, last))
        logger.info("the last of %d latent classes holds %.1f%% of the population: refitting with %d classes",
                    classes, 100 * last, min(2 * classes, MAX_AUTO_CLASSES))
        classes = min(2 * classes, MAX_AUTO_CLASSES)


def raised_note(classes: int, tried: list[tuple[int, float]]) -> str:
    """One sentence saying K was raised, and why."""
    raised = "; ".join(f"with K = {k} the last class held {100 * share:.1f}% of the population" for k, share in tried)
    return f"K raised from {tried[0][0]} to {classes} classes ({raised}: the truncation was binding)."


def class_table(idata: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The largest classes: weight, share of the class that no list records, capture probabilities.

    Classes are sorted by weight within every draw before averaging (label switching cannot
    mix two classes' numbers in the summary).
    """
    weights = np.asarray(idata.posterior["class_weight"].values, dtype=float)
    capture = np.asarray(idata.posterior["capture"].values, dtype=float)
    weights = weights.reshape(-1, weights.shape[-1])
    capture = capture.reshape(-1, *capture.shape[-2:])
    order = np.argsort(-weights, axis=1)
    sorted_weights = np.take_along_axis(weights, order, axis=1)
    sorted_capture = np.take_along_axis(capture, order[:, :, None], axis=1)
    unseen = np.prod(1.0 - sorted_capture, axis=2)
    rows = []
    for rank in range(min(SHOWN_CLASSES, weights.shape[1])):
        rows.append([f"class {rank + 1}", float(np.mean(sorted_weights[:, rank])), float(np.mean(unseen[:, rank])),
                     *(float(np.mean(sorted_capture[:, rank, j])) for j in range(len(names)))])
    return {
        "title": "Largest latent classes (posterior means, classes sorted by weight in every draw)",
        "columns": ["class", "share of population", "share on no list", *(f"P({name})" for name in names)],
        "rows": rows,
        "note": "A class that is large but rarely recorded is what drives the hidden count up.",
    }

r"""Model sensitivity: the same lists under the models that people actually use, side by side.

On sparse tables, models that fit about equally well can give totals far apart (UK 2013, 5
lists: 11,300 to 25,300 within 2 BIC units), and an interval from one selected model covers
the truth far less often than it claims. Every ``lists`` report therefore carries a table with

* **independence**: the log-linear model with independent lists (Rcapture's ``Mt``), maximum
  likelihood with the profile-likelihood interval (Cormack 1992);
* **best BIC**: the best log-linear model with two-list interactions by BIC (every model for up
  to 6 lists, stepwise beyond), profile interval *conditional on the selection*, and the range of
  totals of the models within 2 BIC units of it;
* **heterogeneity**: the best by BIC of Rcapture's Mh and Mth models (Chao's lower bound,
  Poisson2, Darroch, Gamma3.5; :mod:`hiddenrate.models.lists.heterogeneity_core`), in which people
  differ in how visible they are, with its profile interval, and the range of the estimates of all
  eight (3 or more lists);
* **stepwise + bootstrap**: forward stepwise selection with the BCa bootstrap that re-runs the
  selection in every replicate (Chan, Silverman & Vincent 2021; :mod:`hiddenrate.models.lists.bootstrap`),
  the classical interval that accounts for model choice;
* **model averaging**: exact Bayesian model averaging over decomposable graphs (Madigan & York
  1997; 3-6 lists);
* **latent classes**: the Dirichlet-process latent-class model (Manrique-Vallier 2016) when it
  is the fitted model, when asked for, or when the heterogeneity check
  (:mod:`hiddenrate.analysis.heterogeneity`) fires (it samples with MCMC and takes seconds, so it
  is not run otherwise);
* the fitted model itself when it is none of these.

A warning is added when well-supported models disagree by more than a factor of 2. Well
supported are: the best-BIC model and every model within 2 BIC units of it, the stepwise
model, model averaging, the latent-class model and the fitted model; independence and the best
heterogeneity model only when they are themselves within 2 BIC units of the best.

On request: *leave one list out* (each list dropped in turn; people found only on it become
unobserved) and *merge small lists* (lists with fewer than a given number of people merged into
one list, as in the 5-list versions of the UK and New Orleans data).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hiddenrate.analysis import fragility, heterogeneity
from hiddenrate.core.caveats import Caveat
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.exceptions import HiddenrateError
from hiddenrate.core.design import model_label, model_structure
from hiddenrate.result.table import Column, build, interval_cell, report_levels
from hiddenrate.result.value import Result, StratumEstimate
from hiddenrate.core.settings import headline_level

logger = logging.getLogger("hiddenrate")

#: options that shape the report rather than the model (set by ``make_list_model``)
DISAGREEMENT = 2.0
CLOSE_BIC = 2.0
MAX_RANKED_LISTS = 6
BMA_LISTS = (3, 6)
_FAILURES = (HiddenrateError, ValueError, ArithmeticError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class Row:
    """One model's answer in the sensitivity table."""

    model: str
    estimate: float | None
    lower: float | None
    upper: float | None
    how: str
    supported: bool = True
    key: str = ""
    #: (lower, upper) at every report level; ``lower``/``upper`` are those at the headline level
    intervals: Mapping[float, tuple[float | None, float | None]] = field(default_factory=dict)
    #: the model as data for its words (:mod:`hiddenrate.render.model_words`); None for a range of models
    structure: Mapping[str, Any] | None = None

    def as_list(self) -> list[Any]:
        return [self.model, self.estimate, self.lower, self.upper, self.how]

    def cells(self) -> list[Any]:
        """The row of the stored table: the estimate as an interval cell at every report level."""
        ends = self.intervals or {}
        return [self.model, interval_cell(self.estimate, lambda x: ends.get(x, (None, None)), ends), self.how]


def _interval(estimate: StratumEstimate, level: float, kind: str = "equal-tailed") -> tuple[float | None, float | None]:
    if estimate.total is None:
        return None, None
    try:
        return estimate.total.interval(level, kind)
    except HiddenrateError:
        return None, None


def _row_from_estimate(label: str, estimate: StratumEstimate, level: float, how: str, key: str,
                       ladder: Sequence[float] = (), structure: Mapping[str, Any] | None = None) -> Row:
    if estimate.total is None:
        return Row(label, None, None, None, f"no estimate: {estimate.reason}", supported=False, key=key,
                   structure=structure)
    lower, upper = _interval(estimate, level)
    median = estimate.total.median()
    intervals = {}
    for other in ladder:  # a maximum-likelihood fit knows only its own levels: the rest stay not computed
        try:
            intervals[other] = estimate.total.interval(other, "equal-tailed")
        except HiddenrateError:
            continue
    return Row(label, None if median is None else float(median), lower, upper, how, key=key, intervals=intervals,
               structure=structure)


def _profiles(table: ListTable, terms: Any, level: float, ladder: Sequence[float]) -> tuple[Any, dict[float, Any]]:
    """The profile likelihood at ``level`` and the (lower, upper) ends at every ``ladder`` level."""
    from hiddenrate.models.lists.loglinear_profile import profile_ends, profile_likelihood

    main = profile_likelihood(table.counts, table.k, terms, level, names=table.names)
    others = [x for x in ladder if x != level]
    ends = {level: (main.lower, main.upper), **profile_ends(table.counts, table.k, terms, others, names=table.names)}
    return main, ends


def _independence(table: ListTable, level: float, best_bic: float | None, independence_bic: float | None,
                  ladder: Sequence[float] = ()) -> Row:
    profile, ends = _profiles(table, (), level, ladder)
    delta = None if best_bic is None or independence_bic is None else independence_bic - best_bic
    how = "maximum likelihood, profile interval"
    if delta is not None:
        how += f"; ΔBIC {delta:.1f}"
    supported = delta is not None and delta <= CLOSE_BIC
    return Row("independence (log-linear)", profile.total, profile.lower, profile.upper, how, supported, "independence",
               ends, model_structure((), table.names))


def _best_bic(table: ListTable, level: float,
              ladder: Sequence[float] = ()) -> tuple[list[Row], float | None, float | None]:
    """Best-BIC row, the close-models range row, and (best BIC, independence BIC)."""
    from hiddenrate.models.lists.ranking import rank_models, stepwise

    names = table.names
    if table.k <= MAX_RANKED_LISTS:
        ranked = rank_models(table.counts, table.k, 2, "bic", names=names)
        valid = [fit for fit in ranked if fit.valid]
        if not valid:
            return [Row("best BIC (log-linear)", None, None, None, "no log-linear model has a finite estimate",
                        False, "best-bic")], None, None
        best = valid[0]
        independence = next((fit for fit in valid if not fit.terms), None)
        close = [fit for fit in valid if fit.bic - best.bic <= CLOSE_BIC and fit.total is not None]
        searched = f"best of {len(ranked):,} models"
    else:
        best = stepwise(table.counts, table.k, "bic", names=names)
        independence, close = None, [best]
        searched = "stepwise BIC search"
        if not best.valid:
            return [Row("best BIC (log-linear)", None, None, None, best.message, False, "best-bic")], None, None
    profile, ends = _profiles(table, best.terms, level, ladder)
    label = f"best BIC: {model_label(best.terms, names)}"
    rows = [Row(label, profile.total, profile.lower, profile.upper,
                f"{searched}; profile interval ignores the model choice", True, "best-bic", ends,
                model_structure(best.terms, names))]
    totals = [float(fit.total) for fit in close if fit.total is not None]
    if len(totals) > 1:  # a range of estimates, the same at every level
        span = (min(totals), max(totals))
        rows.append(Row(f"{len(totals)} log-linear models within {CLOSE_BIC:g} BIC of the best", None,
                        *span, "range of their estimates (lowest, highest)", True, "close-range",
                        {x: span for x in ladder}))
    return rows, best.bic, (independence.bic if independence is not None else None)


def _heterogeneity(table: ListTable, level: float, best_bic: float | None, ladder: Sequence[float] = ()) -> list[Row]:
    """Rcapture's heterogeneity models (Mh, Mth): the best by BIC with its profile interval, and the
    range of the eight models' estimates (from Chao's lower bound to Gamma3.5)."""
    from hiddenrate.models.lists.heterogeneity import rank_heterogeneity_models
    from hiddenrate.models.lists.heterogeneity_core import heterogeneity_profile

    fits = [fit for fit in rank_heterogeneity_models(table, "bic") if fit.valid]
    if not fits:
        return [Row("heterogeneity models (Rcapture Mh, Mth)", None, None, None, "no fit converged", False,
                    "heterogeneity")]
    best = fits[0]
    levels = tuple(dict.fromkeys((level, *ladder)))
    profile = heterogeneity_profile(table.counts, table.k, best.name, levels)
    top = best.bic if best_bic is None else min(best.bic, best_bic)
    delta = best.bic - top
    lower, upper = profile.intervals.get(level, (None, None))
    zeros = f" ({', '.join(best.dropped)} set to 0)" if best.dropped else ""
    rows = [Row(f"heterogeneity, best BIC: {best.label}{zeros}", profile.total, lower, upper,
                f"Rcapture's Mh/Mth models; ΔBIC {delta:.1f}; profile interval ignores the model choice",
                delta <= CLOSE_BIC and profile.total is not None, "heterogeneity", profile.intervals,
                {"heterogeneity": best.name})]
    totals = [heterogeneity_profile(table.counts, table.k, fit.name, ()).total for fit in fits]
    found = [float(total) for total in totals if total is not None]
    if len(found) > 1:
        span = (min(found), max(found))
        rows.append(Row(f"{len(found)} heterogeneity models (Rcapture Mh, Mth)", None, *span,
                        "range of their estimates (lowest, highest); not all fit equally well", False,
                        "heterogeneity-range", {x: span for x in ladder}))
    return rows


def _stepwise_bootstrap(table: ListTable, level: float, seed: int, ladder: Sequence[float] = ()) -> Row:
    from hiddenrate.models.lists.bootstrap import selection_bootstrap

    boot = selection_bootstrap(table.counts, table.k, levels=tuple(dict.fromkeys((level, *ladder))), seed=seed)
    lower, upper = boot.intervals[level]
    return Row(f"stepwise + bootstrap: {model_label(boot.terms, table.names)}", boot.estimate, lower, upper,
               f"BCa, selection re-run in {boot.replicates.size:,} replicates", True, "stepwise",
               {x: boot.intervals[x] for x in ladder}, model_structure(boot.terms, table.names))


def _model_averaging(table: ListTable, level: float, ladder: Sequence[float] = ()) -> Row:
    from hiddenrate.models.lists.bma_core import bma_posterior

    posterior = bma_posterior(table.counts, table.k, delta=2.0 ** -table.k)
    lower, upper = posterior.interval(level)
    intervals: dict[float, tuple[float | None, float | None]] = {}
    for other in ladder:
        other_lower, other_upper = posterior.interval(other)
        intervals[other] = (float(other_lower), float(other_upper))
    return Row("model averaging (decomposable graphs)", float(posterior.median), float(lower), float(upper),
               f"posterior median, δ = 2^-{table.k}", True, "bma", intervals, {"averaging": "decomposable"})


def _latent_class(table: ListTable, level: float, seed: int, classes: int | None, ladder: Sequence[float] = ()) -> Row:
    from hiddenrate.models.lists.latent_class import LatentClassModel

    model = LatentClassModel(classes=classes)
    estimate = model.fit_table(table, levels=(level,), seed=seed, interval_kind="equal-tailed")
    how = "posterior median (MCMC)"
    if not estimate.diagnostics.converged:
        how += "; DID NOT CONVERGE"
    used = estimate.details.get("classes", model.classes)
    return _row_from_estimate(f"latent classes (K = {used})", estimate, level, how, "latent-class", ladder,
                              {"latent_classes": used})


MAIN_KEYS = {"independence": "independence", "bma": "bma", "stepwise": "stepwise", "latent-class": "latent-class"}


def model_rows(table: ListTable, *, level: float, seed: int, main_name: str | None = None,
               main: StratumEstimate | None = None, latent_class: bool = False,
               classes: int | None = None, ladder: Sequence[float] = ()) -> tuple[list[Row], list[str]]:
    """Every model's row for one table, and the notes on what was not run.

    The fitted model's own estimate (``main_name``, ``main``) is reused instead of refitting.
    Each row's interval is at ``level`` and, for the stored table, at every ``ladder`` level.
    """
    ladder = tuple(ladder) or (level,)
    rows: list[Row] = []
    notes: list[str] = []
    reuse = MAIN_KEYS.get(main_name or "")
    seeds = np.random.SeedSequence(seed).spawn(2)
    boot_seed = int(seeds[0].generate_state(1)[0])
    lc_seed = int(seeds[1].generate_state(1)[0])

    def attempt(label: str, key: str, compute: Any) -> list[Row]:
        try:
            result = compute()
        except _FAILURES as err:
            return [Row(label, None, None, None, f"failed: {err}", False, key)]
        return result if isinstance(result, list) else [result]

    bics: tuple[float | None, float | None] = (None, None)
    try:
        best_rows, best_bic, independence_bic = _best_bic(table, level, ladder)
        bics = (best_bic, independence_bic)
    except _FAILURES as err:
        best_rows = [Row("best BIC (log-linear)", None, None, None, f"failed: {err}", False, "best-bic")]
    if reuse == "independence" and main is not None:
        row = _row_from_estimate("independence (log-linear; this fit)", main, level,
                                 "maximum likelihood, profile interval", "independence", ladder,
                                 model_structure((), table.names))
        missing = [x for x in ladder if x not in row.intervals]
        if missing and row.estimate is not None:  # the fit's own levels, then the profile at the others
            row = replace(row, intervals={**row.intervals, **_profiles(table, (), missing[0], missing)[1]})
        rows.append(row)
    else:
        rows += attempt("independence (log-linear)", "independence",
                        lambda: _independence(table, level, *bics, ladder=ladder))
    selecting = main_name == "loglinear" and main is not None and "selection" in main.details
    if table.k >= 3:
        best_rows += attempt("heterogeneity models (Rcapture Mh, Mth)", "heterogeneity",
                             lambda: _heterogeneity(table, level, bics[0], ladder))
    if selecting and main is not None:
        chosen = "heterogeneity" if "heterogeneity_model" in main.details else "best-bic"
        best_rows = [replace(r, model=r.model + " (this fit)") if r.key == chosen else r for r in best_rows]
    rows += best_rows
    if reuse == "stepwise" and main is not None:
        rows.append(_row_from_estimate("stepwise + bootstrap (this fit)", main, level,
                                       "BCa, selection re-run in every replicate", "stepwise", ladder,
                                       main.details.get("structure")))
    else:
        rows += attempt("stepwise + bootstrap", "stepwise",
                        lambda: _stepwise_bootstrap(table, level, boot_seed, ladder))
    if BMA_LISTS[0] <= table.k <= BMA_LISTS[1]:
        if reuse == "bma" and main is not None:
            rows.append(_row_from_estimate("model averaging (decomposable graphs; this fit)", main, level,
                                           "posterior median", "bma", ladder, {"averaging": "decomposable"}))
        else:
            rows += attempt("model averaging (decomposable graphs)", "bma",
                            lambda: _model_averaging(table, level, ladder))
    else:
        notes.append(f"model averaging handles {BMA_LISTS[0]}-{BMA_LISTS[1]} lists; not run for {table.k}")
    if reuse == "latent-class" and main is not None:
        rows.append(_row_from_estimate("latent classes (this fit)", main, level, "posterior median (MCMC)",
                                       "latent-class", ladder, {"latent_classes": main.details.get("classes")}))
    elif latent_class:
        rows += attempt("latent classes", "latent-class",
                        lambda: _latent_class(table, level, lc_seed, classes, ladder))
    else:
        notes.append("latent classes not run (MCMC, several seconds; add --sensitivity-classes or fit "
                     "--model latent-class)")
    if reuse is None and not selecting and main is not None:
        rows.append(_row_from_estimate(f"{main_name} (this fit)", main, level, "as reported above", "main", ladder,
                                       main.details.get("structure")))
    return rows, notes


def disagreement(rows: Sequence[Row]) -> str | None:
    """The warning when well-supported models disagree by more than :data:`DISAGREEMENT`x."""
    points: list[tuple[float, str]] = []
    for row in rows:
        if not row.supported:
            continue
        if row.key == "close-range":
            if row.lower is not None and row.upper is not None:
                points += [(row.lower, "a log-linear model within 2 BIC of the best"),
                           (row.upper, "another log-linear model within 2 BIC of the best")]
        elif row.estimate is not None and row.estimate > 0:
            points.append((row.estimate, row.model))
    if len(points) < 2:
        return None
    low, high = min(points), max(points)
    if high[0] / low[0] <= DISAGREEMENT:
        return None
    return Caveat(f"models that fit these data about equally well disagree by a factor of {high[0] / low[0]:.1f}: "
                  f"from {low[0]:,.0f} ({low[1]}) to {high[0]:,.0f} ({high[1]}); the choice of model, not the data, "
                  "drives the answer (see the sensitivity table)", "models-disagree")


def rows_table(rows: Sequence[Row], title: str, notes: Sequence[str]) -> dict[str, Any]:
    """The stored table (:mod:`hiddenrate.result.table`): each row's interval at every report level."""
    note = ("Intervals: profile likelihood (conditional on the model), BCa bootstrap, or equal-tailed posterior. "
            + " ".join(f"{n[0].upper()}{n[1:]}." for n in notes))
    return build(title, [Column("model"), Column("estimate", "count", "split"), Column("how")],
                 [row.cells() for row in rows], note.strip(), facts={"models": [row.structure for row in rows]})


# ----------------------------------------------------------------------------- variants


def drop_list(table: ListTable, index: int) -> ListTable:
    """The table without list ``index``: people found only on it become unobserved."""
    k = table.k
    cells = np.arange(1 << k)
    low = cells & ((1 << index) - 1)
    high = (cells >> (index + 1)) << index
    new = np.bincount(low | high, weights=table.counts, minlength=1 << (k - 1)).astype(np.int64)
    new[0] = 0
    names = tuple(n for j, n in enumerate(table.names) if j != index)
    return ListTable(names=names, counts=new, stratum=dict(table.stratum))


def merge_lists(table: ListTable, members: Sequence[int]) -> ListTable:
    """The table with the lists ``members`` merged into one (on it = on any of them), placed last."""
    k = table.k
    keep = [j for j in range(k) if j not in set(members)]
    cells = np.arange(1 << k)
    index = np.zeros(1 << k, dtype=np.int64)
    for position, j in enumerate(keep):
        index |= ((cells >> j) & 1) << position
    merged_bit = np.zeros(1 << k, dtype=np.int64)
    for j in members:
        merged_bit |= (cells >> j) & 1
    index |= merged_bit << len(keep)
    new = np.bincount(index, weights=table.counts, minlength=1 << (len(keep) + 1)).astype(np.int64)
    new[0] = 0
    names = tuple(table.names[j] for j in keep) + ("+".join(table.names[j] for j in members),)
    return ListTable(names=names, counts=new, stratum=dict(table.stratum))


def small_lists(table: ListTable, threshold: int) -> list[int]:
    """Lists with fewer than ``threshold`` people; with only one, the next smallest joins it."""
    sizes = list(table.list_sizes().values())
    small = [j for j, size in enumerate(sizes) if size < threshold]
    if len(small) == 1 and table.k > 2:
        others = sorted((size, j) for j, size in enumerate(sizes) if j not in small)
        small.append(others[0][1])
    return sorted(small)


def leave_one_out_table(table: ListTable, level: float) -> dict[str, Any]:
    """Independence, best BIC, the best heterogeneity model and model averaging with each list left out in turn."""
    rows = []
    for j, name in enumerate(table.names):
        reduced = drop_list(table, j)
        row: list[Any] = [name, reduced.observed]
        for compute in (lambda t: _independence(t, level, None, None),
                        lambda t: _best_bic(t, level)[0][0],
                        lambda t: _heterogeneity(t, level, None)[0] if t.k >= 3 else Row("", None, None, None, ""),
                        lambda t: _model_averaging(t, level)):
            try:
                if reduced.k < 2 or reduced.observed == 0:
                    raise ValueError("too few lists or nobody observed")
                row.append(compute(reduced).estimate)
            except _FAILURES:
                row.append(None)
        rows.append(row)
    return build("Leave one list out (people found only on that list become unobserved)",
                 [Column("list left out"), Column("observed", "count"), Column("independence", "count"),
                  Column("best BIC", "count"), Column("heterogeneity (best BIC)", "count"),
                  Column("model averaging", "count")], rows,
                 "A list whose removal moves the estimate a lot carries much of the answer; the heterogeneity "
                 "models (Rcapture's Mh, Mth) need 3 lists, model averaging "
                 f"{BMA_LISTS[0]}-{BMA_LISTS[1]}.")


# ----------------------------------------------------------------------------- the hook


def post_fit(model: Any, data: ListData, overall: StratumEstimate, strata: tuple[StratumEstimate, ...], *,
             levels: tuple[float, ...], seed: int) -> tuple[StratumEstimate, tuple[StratumEstimate, ...]]:
    """Fragility checks on every estimate, then the sensitivity tables on the overall estimate.

    Called by :func:`analyse_list_result`. Report options come from
    ``model.report_options`` (see :data:`REPORT_OPTIONS`): ``sensitivity`` (default True),
    ``leave_one_out`` (default False), ``merge_small`` (an int threshold, default None) and
    ``sensitivity_classes`` (True or a number of classes: add the latent-class column; None, the
    default: add it when the heterogeneity check fires; False: never).
    """
    options: Mapping[str, Any] = dict(getattr(model, "report_options", None) or {})
    level = headline_level(levels)
    ladder = report_levels(levels)
    name = getattr(model, "name", None)

    def checked(estimate: StratumEstimate, table: ListTable, misfit: bool = True) -> StratumEstimate:
        found = heterogeneity.check_table(table, estimate, levels=ladder, level=level, seed=seed,
                                          main_name=name, misfit=misfit)
        return heterogeneity.annotate(estimate, found)

    if data.stratified:
        strata = tuple(checked(fragility.annotate(s, t), t) for s, t in zip(strata, data.tables, strict=False))
        table = data.pooled()
        overall = checked(fragility.annotate(overall, None), table, misfit=False)
        where = " (all strata pooled)"
    else:
        table = data.tables[0]
        overall = checked(fragility.annotate(overall, table), table)
        where = ""
    fired = any(e.details.get("heterogeneity", {}).get("fired") for e in (overall, *strata))
    if not options.get("sensitivity", True) or table.k < 2:
        return overall, strata
    classes_option = options.get("sensitivity_classes")
    latent = bool(classes_option) or (fired and classes_option is not False and table.k >= heterogeneity.MIN_LISTS)
    if latent and not classes_option:
        logger.info("heterogeneity check fired: adding the latent-class model to the sensitivity table")
    classes = classes_option if isinstance(classes_option, int) and not isinstance(classes_option, bool) else None
    logger.info("model-sensitivity table (independence, best BIC, heterogeneity, stepwise bootstrap, model averaging%s)",
                ", latent classes" if latent else "")
    main_estimate = None if data.stratified else overall
    rows, notes = model_rows(table, level=level, seed=seed, main_name=getattr(model, "name", None),
                             main=main_estimate, latent_class=latent, classes=classes, ladder=ladder)
    tables = [rows_table(rows, f"Model sensitivity{where}: the same data under other models", notes)]
    warnings = []
    message = disagreement(rows)
    if message:
        warnings.append(message)
    if options.get("leave_one_out"):
        tables.append(leave_one_out_table(table, level))
    threshold = options.get("merge_small")
    if threshold:
        members = small_lists(table, int(threshold))
        if len(members) >= 2 and table.k - len(members) + 1 >= 2:
            merged = merge_lists(table, members)
            merged_rows, merged_notes = model_rows(merged, level=level, seed=seed, latent_class=False, ladder=ladder)
            tables.append(rows_table(merged_rows,
                                     f"Model sensitivity with small lists merged into {merged.names[-1]}",
                                     merged_notes))
        else:
            notes.append(f"no lists with fewer than {threshold} people to merge")
    details = dict(overall.details)
    latent_row = next((r for r in rows if r.key == "latent-class" and r.estimate is not None), None)
    if "heterogeneity" in details and latent_row is not None:
        details["heterogeneity"] = {**details["heterogeneity"], "latent_class": {
            "estimate": latent_row.estimate, "lower": latent_row.lower, "upper": latent_row.upper, "level": level}}
    details["tables"] = [*details.get("tables", []), *tables]
    details["model_sensitivity"] = [{**dict(zip(["model", "estimate", "lower", "upper", "how"], r.as_list(), strict=True)),
                                     "structure": r.structure} for r in rows]
    overall = replace(overall, details=details, warnings=tuple(overall.warnings) + tuple(warnings))
    return overall, strata


def analyse_list_result(result: Result, model: Any, data: ListData) -> Result:
    """A list model's result with fragility warnings on every estimate and the sensitivity tables
    (:func:`post_fit`): the step of the list pipeline that follows the model's fit. A two-list result
    also says that the lists' dependence is assumed and cannot be checked (``independence-assumed``)."""
    overall, strata = post_fit(model, data, result.overall, result.strata, levels=result.levels,
                               seed=int(result.seed if result.seed is not None else 0))
    warnings = tuple(result.warnings)
    if data.k == 2:  # every two-list result: the dependence between the lists is assumed, never checked
        from hiddenrate.models.lists.two_list import independence_caveat

        warnings += (independence_caveat(getattr(model, "log_odds_ratio", None)),)
    return replace(result, overall=overall, strata=strata, warnings=warnings)

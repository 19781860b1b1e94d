r"""Change over time: is the hidden volume falling, or only the reporting? :func:`fit_trend`.

Police counts can fall because fewer crimes happen or because fewer victims report. Given a
recorded count and a reporting survey per period (``hiddenrate reporting`` input with a period
column), the trend model estimates per period the total, the reporting rate and the hidden
count, with the log incidence and the logit reporting rate following a smooth process across
periods (:mod:`~hiddenrate.models.trend.core` has the math), and between periods the ratio of
totals, the probability of a decrease and the decomposition of the change in recorded counts
into a change in incidence times a change in reporting
(:mod:`~hiddenrate.models.trend.changes`). List data with a period column are fitted period by
period with the list models (:mod:`~hiddenrate.models.trend.lists`).

Processes (``model``): ``rw-drift`` (default) random walk with drift — a steady trend is not
shrunk towards flat at the first and last periods, which a driftless walk does; ``rw`` random
walk; ``ar1`` first-order autoregression around a mean.

Examples
--------
>>> import hiddenrate
>>> result = hiddenrate.fit_trend(hiddenrate.example_path("vancouver-trend"))  # doctest: +SKIP
>>> result.extra["changes"][0]["attribution"]  # doctest: +SKIP
'reporting'
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core.caveats import NOTE, WARNING, Caveat
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.core.options import flags
from hiddenrate.core.settings import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_INTERVAL,
    DEFAULT_LEVELS,
    DEFAULT_SEED,
    DEFAULT_TUNE,
    FitSettings,
    check_sampling,
)
from hiddenrate.models.reporting.base import BAYES_ASSUMPTIONS, input_summary, logger
from hiddenrate.models.trend.changes import SeriesDraws, changes_table, compute_changes, default_pairs, parse_pairs
from hiddenrate.models.trend.core import PROCESSES, TARGET_ACCEPT, TrendSampler
from hiddenrate.models.trend.combine import fit_combined_trend, is_spec
from hiddenrate.data.trend import TrendData, is_reporting_input, read_trend
from hiddenrate.models.trend.priors import described, trend_priors
from hiddenrate.result.table import Column, build, interval_cell, report_levels
from hiddenrate.result.value import ModelCard, Result, StratumEstimate
from hiddenrate.models.sampling.diagnostics import mcmc as mcmc_diagnostics
from hiddenrate.core.settings import headline_level

TITLES = {
    "rw-drift": "random walk with drift",
    "rw": "random walk",
    "ar1": "AR(1) around a mean",
}


class TrendModel:
    """The trend model for reporting data: a specification; :meth:`fit` returns a Result.

    Parameters
    ----------
    process
        ``rw-drift`` (default), ``rw`` or ``ar1``.
    priors
        Overrides of the defaults (:func:`~hiddenrate.models.trend.core.default_priors`), e.g.
        ``{"log_incidence_step": 0.2}``; unknown names raise a ModelError listing the valid ones.
    draws, tune, chains, target_accept
        NUTS settings (per chain).
    """

    estimate_type = "posterior median"
    interval_type = "credible interval"

    def __init__(self, process: str = "rw-drift", priors: Mapping[str, Any] | None = None, draws: int = DEFAULT_DRAWS,
                 tune: int = DEFAULT_TUNE, chains: int = DEFAULT_CHAINS, target_accept: float = TARGET_ACCEPT) -> None:
        if process not in PROCESSES:
            raise ModelError(f"unknown trend model '{process}'; use one of {', '.join(PROCESSES)}")
        check_sampling({"draws": draws, "tune": tune, "chains": chains, "target_accept": target_accept})
        self.process = process
        self.priors = trend_priors(process, priors)
        self.stated = frozenset(priors or ())  # the priors the user set (not the defaults)
        self.draws, self.tune, self.chains, self.target_accept = int(draws), int(tune), int(chains), float(target_accept)

    @property
    def title(self) -> str:
        """``Trend model (random walk with drift)``."""
        return f"Trend model ({TITLES[self.process]})"

    def assumptions(self) -> tuple[str, ...]:
        """The model's assumptions in words."""
        smooth = {
            "rw-drift": "From one period to the next, the log incidence and the logit reporting rate move by a steady "
                        "drift plus a random step (random walk with drift)",
            "rw": "From one period to the next, the log incidence and the logit reporting rate move by a random step "
                  "(random walk; a steady trend is shrunk towards flat at the first and last periods)",
            "ar1": "The log incidence and the logit reporting rate fluctuate around their own means from period to "
                   "period (AR(1))",
        }[self.process]
        return (*BAYES_ASSUMPTIONS,
                f"{smooth}; a period borrows strength from its neighbours, so a period without a survey gets its reporting "
                "rate from the periods around it.",
                "Each period's survey describes that period's incidents (the same population and definition of the crime).")

    def options(self) -> dict[str, Any]:
        """Model options, JSON-ready."""
        return {"process": self.process, "draws": self.draws, "tune": self.tune, "chains": self.chains,
                "target_accept": self.target_accept}

    def fit(self, data: TrendData, *, compare: Sequence[str] = (), default_changes: bool = True,
            levels: Sequence[float] = DEFAULT_LEVELS, seed: int | None = DEFAULT_SEED,
            interval: str = DEFAULT_INTERVAL, settings: FitSettings | None = None) -> Result:
        """Fit the periods jointly and compute the changes between them.

        Parameters
        ----------
        data
            Read with :func:`~hiddenrate.data.trend.read_trend`.
        compare
            Pairs of periods ``"FROM:TO"`` to compare, besides (or, with ``default_changes=False``,
            instead of) first to last and each consecutive pair.
        levels, seed, interval
            Interval levels; seed (``None``: a random one, recorded); ``equal-tailed`` or ``hdi``.
        settings
            The same, already validated (what :func:`fit_trend` passes); overrides the three.
        """
        settings = settings or FitSettings.of(levels, interval, seed)
        pairs = (default_pairs(len(data.axis.labels)) if default_changes else []) + parse_pairs(compare, data.axis)
        if not pairs:
            raise ModelError("no changes to compute: give --compare FROM:TO or keep the default changes")
        n_series, n_periods = data.shape
        self._check_surveys(data)
        started = time.perf_counter()
        logger.info("trend model (%s): %d series x %d periods, %d chains x %d draws (compiling takes ~15 s the first time)",
                    self.process, n_series, n_periods, self.chains, self.draws)
        from hiddenrate.data.periods import times_array

        idata = TrendSampler(n_series, n_periods, self.process, self.priors).sample(
            data.recorded, data.surveyed, data.reported, times_array(data.axis), draws=self.draws, tune=self.tune,
            chains=self.chains, seed=settings.seed, target_accept=self.target_accept, remedy=True)
        logger.info("sampled in %.1f s", time.perf_counter() - started)
        return self._result(data, idata, pairs, settings)

    def _check_surveys(self, data: TrendData) -> None:
        """A series without any survey needs a stated prior on its reporting rate; else an error says how."""
        unsurveyed = [data.series_label(g) for g in range(data.shape[0]) if data.surveyed[g].sum() == 0]
        if unsurveyed and "logit_rate_level" not in self.stated:
            where = "the file has" if unsurveyed == ["all"] else f"{', '.join(unsurveyed)}: has"
            raise EstimationError(
                f"{data.reporting.source}: {where} no survey in any period, so nothing in the data measures the "
                "reporting rate and every total would come from the prior alone; add a survey for at least one "
                "period, or state what you believe the rate to be with --prior logit_rate_level=MU,SIGMA (log-odds "
                "scale; e.g. -0.85,0.5 for about 0.3 give or take)")

    # ------------------------------------------------------------------ the Result
    def _result(self, data: TrendData, idata: Any, pairs: list[tuple[int, int, str]], settings: FitSettings) -> Result:
        post = idata.posterior
        n_series, n_periods = data.shape
        monitored = [v for v in ("log_incidence_level", "logit_rate_level", "log_incidence_drift", "logit_rate_drift",
                                 "log_incidence_ar", "logit_rate_ar", "log_incidence_step", "logit_rate_step",
                                 "incidence", "reporting_rate", "total") if v in post]
        method = f"NUTS (nutpie), {self.chains} chains x {self.draws} draws; step sizes integrated out"
        diagnostics = mcmc_diagnostics(idata, monitored, method)

        def flat(name: str) -> np.ndarray:
            values = np.asarray(post[name].values)
            return values.reshape(-1, *values.shape[2:])

        total, rate, incidence = flat("total"), flat("reporting_rate"), flat("incidence")
        strata, series_draws, warnings = self._periods(data, diagnostics, total, rate, incidence, settings.levels)
        if not diagnostics.converged:
            warnings.insert(0, "THE SAMPLER DID NOT CONVERGE: " + "; ".join(diagnostics.messages)
                            + " -- do not use these numbers as they stand")
        for before, after, distance in data.axis.gaps:
            warnings.append(f"no data between {before} and {after} ({distance} {data.axis.kind}s apart): the step between "
                            "them is scaled by the time between them")
        changes = compute_changes(series_draws, data.axis, pairs, settings.levels, settings.interval)
        all_total = total.reshape(total.shape[0], -1).sum(axis=1)
        all_rate = (incidence * rate).reshape(total.shape[0], -1).sum(axis=1) / incidence.reshape(total.shape[0], -1).sum(axis=1)
        overall = StratumEstimate(stratum={}, observed=int(data.recorded.sum()), total=DrawsDistribution(all_total),
                                  diagnostics=diagnostics, quantities={"reporting_rate": DrawsDistribution(all_rate)},
                                  details={"how": f"sum over all {n_periods} periods"
                                                  + (f" and {n_series} series" if n_series > 1 else "")
                                                  + " of the joint posterior draws"}, idata=idata)
        steps = {name: float(np.median(post[name].values)) for name in ("log_incidence_step", "logit_rate_step")}
        extra = {
            "periods": data.axis.to_dict(),
            "changes": changes,
            "figure": "trend",
            "step_sizes_median": steps,
            "tables": [periods_table(data, strata, settings.levels, settings.interval),
                       changes_table(changes, series_draws, pairs, settings.levels, settings.interval)],
        }
        summary = input_summary(data.reporting)
        summary["by"] = [*data.by, data.axis.column]
        summary["periods"] = data.axis.to_dict()
        card = ModelCard(
            "trend", self.process, self.title,
            ("Recorded counts over survey reporting rates, period by period, with the log incidence and the "
             f"logit reporting rate following a {TITLES[self.process]} across periods (NUTS, nutpie); the "
             "unrecorded counts are drawn from their exact conditional. Changes between periods come from "
             "the joint draws."),
            self.assumptions(), self.estimate_type, self.interval_type)
        return Result.build(settings, card, overall, strata, input=summary, priors=described(self.priors),
                            options=self.options(), warnings=(*data.reporting.notes, *warnings), extra=extra,
                            unit=data.reporting.unit)

    def _periods(self, data: TrendData, diagnostics: Any, total: np.ndarray, rate: np.ndarray, incidence: np.ndarray,
                 levels: tuple[float, ...]) -> tuple[list[StratumEstimate], list[SeriesDraws], list[str]]:
        """One estimate per (series, period), each series' draws for the changes, and the no-survey warnings."""
        n_series, n_periods = data.shape
        level = headline_level(levels)
        widths = rate_widths(rate, level)
        strata: list[StratumEstimate] = []
        series_draws: list[SeriesDraws] = []
        warnings: list[str] = []
        for g in range(n_series):
            for t in range(n_periods):
                notes, details = [], {}
                if data.surveyed[g, t] == 0 and data.surveyed[g].sum() > 0:
                    ratio = widths[g, t] / np.mean(widths[g, [u for u in (t - 1, t + 1) if 0 <= u < n_periods]])
                    details["rate_interval_vs_neighbours"] = float(ratio)
                    notes.append(no_survey_note(ratio, level))
                strata.append(StratumEstimate(
                    stratum=data.stratum(g, t), observed=int(data.recorded[g, t]), total=DrawsDistribution(total[:, g, t]),
                    diagnostics=diagnostics, warnings=tuple(notes), details=details,
                    quantities={"reporting_rate": DrawsDistribution(rate[:, g, t]),
                                "incidence": DrawsDistribution(incidence[:, g, t])}))
            if data.surveyed[g].sum() == 0:
                spec = self.priors["logit_rate_level"]
                where = "" if n_series == 1 else f" of {data.series_label(g)}"
                warnings.insert(0, f"NO SURVEY in any period{where}: every reporting rate and total there rests on the "
                                   "prior you gave, logit_rate_level = "
                                   f"Normal({spec['mu']:g}, {spec['sigma']:g}), not on data")
            series_draws.append(SeriesDraws(label=data.series_label(g), stratum=dict(data.series[g]),
                                            recorded=data.recorded[g], total=total[:, g], rate=rate[:, g],
                                            incidence=incidence[:, g]))
        if n_series > 1:
            expected = incidence.sum(axis=1)
            series_draws.append(SeriesDraws(label="all", recorded=data.recorded.sum(axis=0), total=total.sum(axis=1),
                                            rate=(incidence * rate).sum(axis=1) / expected, incidence=expected))
        return strata, series_draws, warnings


def rate_widths(rate: np.ndarray, level: float) -> np.ndarray:
    """Widths of the equal-tailed ``level`` intervals of the reporting rates (draws x series x periods)
    on the log-odds scale, where the rates of periods with different levels compare fairly
    (a survey of ``m`` at rate ``p`` gives a width of about ``2 x 1.96 / sqrt(m p (1 - p))`` there,
    whatever ``p``)."""
    log_odds = np.log(rate) - np.log1p(-rate)
    low, high = np.quantile(log_odds, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return np.asarray(high - low)


#: a period without a survey is warned about when its rate's interval is at least this many times as wide as its
#: neighbours' (log-odds scale); below, it is a note. The ratio of two 95% widths from 4,000 draws varies by about
#: 4% from Monte Carlo error alone (each end's standard error is sqrt(0.025 x 0.975 / S) / phi(1.96) = 0.085 sd
#: for S = 1,000 effective draws, against a width of 3.92 sd), so "1.02 times as wide" is noise, and a rate a
#: quarter less precise than its neighbours' changes nothing a reader does (tests/test_caveats.py)
NO_SURVEY_WIDER = 1.25


def no_survey_note(ratio: float, level: float) -> Caveat:
    """What a period without a survey is told: how wide its rate's interval is next to its neighbours'.

    Measured, not assumed: the width depends on how much the neighbours' surveys say against
    how freely the rate may move between periods (trend_core's docstring); with small surveys
    the smooth trend, not any one survey, sets the rates, and the period is hardly wider. A
    warning from :data:`NO_SURVEY_WIDER` times as wide, a note below.
    """
    tag = f"{100 * level:g}%"
    if ratio >= NO_SURVEY_WIDER:
        return Caveat(f"no survey in this period: its reporting rate is borrowed from the neighbouring periods, and its "
                      f"{tag} interval for the rate is {ratio:.2f} times as wide as theirs (compared on the log-odds "
                      "scale)", "no-survey-period", WARNING)
    return Caveat(f"no survey in this period: its reporting rate is borrowed from the neighbouring periods; its {tag} "
                  f"interval for the rate is about as wide as theirs ({ratio:.2f} times, on the log-odds scale): the trend "
                  "carries what their surveys say to this period", "no-survey-period", NOTE)


def periods_table(data: TrendData, strata: Sequence[StratumEstimate], levels: Sequence[float], kind: str) -> dict[str, Any]:
    """The ``By period`` table: recorded, survey, reporting rate, total and share recorded, with
    intervals at every report level."""
    ladder = report_levels(levels)
    rows = []
    for index, estimate in enumerate(strata):
        g, t = divmod(index, data.shape[1])
        rate = estimate.quantities["reporting_rate"]
        total = estimate.total
        if total is None:  # pragma: no cover - every period is estimated
            continue
        share = estimate.quantity("observed_share")
        rows.append([estimate.label, int(data.recorded[g, t]),
                     f"{data.reported[g, t]}/{data.surveyed[g, t]}" if data.surveyed[g, t] else "none",
                     interval_cell(rate.median(), functools.partial(rate.interval, kind=kind), ladder),
                     interval_cell(total.median(), functools.partial(total.interval, kind=kind), ladder),
                     share.median() if share is not None else None])
    columns = [Column("stratum"), Column("recorded", "count"), Column("survey"),
               Column("reporting rate", "share", "split", ("rate {level} low", "high")),
               Column("total", "count", "split", ("total {level} low", "high")), Column("share recorded", "share")]
    return build("By period: reporting rate and total", columns, rows,
                 "Posterior medians and intervals; the periods are fitted jointly, so a period without a survey "
                 "borrows its reporting rate from its neighbours.")


def trend_result(data: TrendData | pd.DataFrame | str | Path, model: str, settings: FitSettings, *,
                 period: str | None = None, by: Sequence[str] = (), unit: str | None = None,
                 lists: Sequence[str] | None = None, priors: Mapping[str, Any] | None = None,
                 compare: Sequence[str] = (), default_changes: bool = True, name: str | None = None,
                 **options: Any) -> Result:
    """:func:`hiddenrate.fit_trend` of reporting data or a combine spec, with validated ``settings``."""
    if not isinstance(data, (TrendData, pd.DataFrame)) and is_spec(data):
        given = {"unit": unit, "lists": lists, "priors": priors, "by": tuple(by), **options}
        extra = [n for n, v in given.items() if v not in (None, (), {})] + ([] if model == "auto" else ["model"])
        if extra:
            raise ModelError(f"{flags(extra)}: set these in the combine spec; a spec takes --period, --compare, "
                             "--level, --seed, --interval and the sampling options here")
        return fit_combined_trend(data, settings, period=period, compare=compare, default_changes=default_changes)
    if isinstance(data, TrendData):
        parsed = data
    elif not is_reporting_input(data, name=name):
        raise ModelError("these are list data (0/1 list columns): fit their trend with hiddenrate.fit_trend, which "
                         "fits list data period by period")
    else:
        parsed = read_trend(data, period=period, by=by, unit=unit, name=name)
    if lists is not None or options:
        list_options = [*(["lists"] if lists is not None else []), *options]
        raise ModelError(f"list options ({flags(list_options)}) apply to list data; this is reporting data")
    process = "rw-drift" if model == "auto" else model
    if process not in PROCESSES:
        raise ModelError(f"unknown model '{model}' for reporting data; use one of auto, {', '.join(PROCESSES)}")
    estimator = TrendModel(process, priors, **settings.sampling)
    return estimator.fit(parsed, compare=compare, default_changes=default_changes, settings=settings)


__all__ = ["TITLES", "TrendModel", "trend_result", "no_survey_note", "periods_table", "rate_widths"]

"""``hiddenrate design``: plan the evidence before collecting it (simulate, fit, compare designs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hiddenrate.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NO_ESTIMATE,
    fail,
    handle_errors,
    logger,
    setup_logging,
    write_text,
)
from hiddenrate.cli.options import parallel_options
from hiddenrate.core.parallel import Parallel
from hiddenrate.core.settings import DEFAULT_SEED

FORMATS = ("text", "json", "csv")


def _numbers(text: str, option: str, whole: bool = False) -> tuple[Any, ...]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a comma-separated list of numbers", param_hint=option) from None
    if not values:
        raise click.BadParameter("give at least one number", param_hint=option)
    if whole:
        if any(v != int(v) or v < 1 for v in values):
            raise click.BadParameter(f"'{text}': give whole numbers >= 1", param_hint=option)
        return tuple(int(v) for v in values)
    return tuple(values)


def study_options(command: Any) -> Any:
    """``--replicates --level --seed --format --output --plot --save --quiet`` and the parallel options."""
    for decorator in reversed([
        click.option("--replicates", type=click.IntRange(min=2), default=200, show_default=True,
                     help="Simulated data sets per candidate design (Monte Carlo errors shrink as 1/sqrt of this)."),
        click.option("--level", type=float, default=0.95, show_default=True, help="Interval level of every fit."),
        click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
                     help="Random seed: the same seed gives the same study, on any number of workers."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="text: a table with the closed forms beside; json: one object; csv: one row per candidate."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
                     help="Write the output to this file instead of stdout."),
        click.option("--plot", type=click.Path(dir_okay=False, writable=True), default=None,
                     help="Also draw the measures against the candidates (PNG, SVG or PDF)."),
        click.option("--save", type=click.Path(dir_okay=False, writable=True), default=None,
                     help="Also save the whole study (every replicate's numbers) as JSON."),
        click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr."),
        parallel_options(None),
    ]):
        command = decorator(command)
    return command


def emit_study(study: Any, fmt: str, output: str | None, plot: str | None, save: str | None, quiet: bool) -> None:
    from hiddenrate.render.design import RENDERERS, _clean, plot_design

    write_text(RENDERERS[fmt](study), output, quiet)
    if save:
        try:
            Path(save).write_text(json.dumps(_clean(study.as_dict(with_replicates=True))) + "\n", encoding="utf-8")
        except OSError as err:
            fail(f"{save}: cannot save the study ({err.strerror})", EXIT_NO_ESTIMATE)
        logger.info("saved the study to %s", save)
    if plot:
        plot_design(study, plot)
        logger.info("drew the figure to %s", plot)


def check_plot(plot: str | None) -> None:
    """Refuse a --plot file type before the study runs (not after minutes of fitting)."""
    if plot and Path(plot).suffix.lower() not in (".png", ".svg", ".pdf"):
        fail(f"{plot}: --plot writes .png, .svg or .pdf files", EXIT_BAD_INPUT)


@click.group("design")
def design_group() -> None:
    """Plan a study: simulate candidate designs, fit each, report interval width, coverage and power."""


@design_group.command("reporting")
@click.option("--recorded", type=click.FloatRange(min=0, min_open=True), required=True, metavar="COUNT",
              help="Expected recorded count a period (what official records usually hold).")
@click.option("--rate", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), required=True,
              metavar="P", help="Assumed reporting rate (share of incidents that reach the records), e.g. 0.3.")
@click.option("--survey", "surveys", required=True, metavar="M1,M2,...",
              help="Candidate survey sizes (incidents or victims asked about), e.g. 100,200,400,800.")
@click.option("--within", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SHARE",
              help="Target: the total within ±SHARE of the estimate, e.g. 0.25 for ±25%.")
@click.option("--change", type=float, default=None, metavar="SHARE",
              help="Target: detect this change in incidence between two periods, each with its own survey, "
                   "e.g. -0.3 for a 30% fall (0 measures the false-positive rate).")
@click.option("--power", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=0.8,
              show_default=True, help="With --change: the probability of detecting it that is asked for.")
@click.option("--no-exact", is_flag=True,
              help="Skip the exact expected widths (a few seconds per candidate); the delta method is still shown.")
@study_options
@handle_errors
def design_reporting_command(recorded: float, rate: float, surveys: str, within: float | None, change: float | None,
                             power: float, no_exact: bool, replicates: int, level: float, seed: int, fmt: str,
                             output: str | None, plot: str | None, save: str | None, quiet: bool,
                             parallel: Parallel) -> None:
    """How large a reporting survey must be: simulate, fit the exact model, compare survey sizes.

    Each replicate draws a true count, its recorded part and a survey of each candidate size
    from the stated assumptions, and fits the model `hiddenrate reporting` fits to one stratum.
    The table gives, per survey size, the expected interval width, coverage, the chance of
    meeting the target and the power to detect a change, each with its Monte Carlo error, and
    the closed forms (exact expectations, delta method) that check them.

    \b
    Examples:
      hiddenrate design reporting --recorded 100 --rate 0.3 --survey 100,200,400,800 --within 0.25
      hiddenrate design reporting --recorded 300 --rate 0.3 --survey 200,400,800 --change -0.3 --plot power.png
      hiddenrate design reporting --recorded 100 --rate 0.3 --survey 400 --scheduler tcp://10.0.0.5:8786

    Runs on a local Dask cluster (one process per core) unless --workers 0 or --scheduler.
    """
    from hiddenrate.analysis.design.reporting import ReportingPlan, design_reporting

    setup_logging(quiet)
    check_plot(plot)
    plan = ReportingPlan(recorded=recorded, rate=rate, surveys=_numbers(surveys, "--survey", whole=True), level=level,
                         within=within, change=change, power=power, replicates=replicates, seed=seed)
    logger.info("design reporting: %d replicates of %d candidate designs %s", replicates, len(plan.surveys),
                parallel.describe())
    study = design_reporting(plan, parallel, exact=not no_exact)
    emit_study(study, fmt, output, plot, save, quiet)


def _odds_ratios(specs: tuple[str, ...], k: int) -> dict[tuple[int, int], float]:
    import math

    out = {}
    for spec in specs:
        pair, _, value = spec.partition("=")
        parts = pair.split(",")
        try:
            i, j, ratio = int(parts[0]) - 1, int(parts[1]) - 1, float(value)
        except (ValueError, IndexError):
            raise click.BadParameter(f"'{spec}' should be I,J=OR, e.g. 1,2=3", param_hint="--odds-ratio") from None
        if len(parts) != 2 or not (0 <= i < k and 0 <= j < k and i != j) or ratio <= 0:
            raise click.BadParameter(f"'{spec}': lists are numbered 1 to {k} and an odds ratio is positive",
                                     param_hint="--odds-ratio")
        out[(min(i, j), max(i, j))] = math.log(ratio)
    return out


@design_group.command("lists")
@click.option("--total", type=click.IntRange(min=1), required=True, metavar="N",
              help="Assumed number of people (victims) in the population.")
@click.option("--capture", required=True, metavar="P1,P2,...",
              help="Assumed chance that a person is on each list, e.g. 0.3,0.2,0.15 (police, NGO, shelter).")
@click.option("--names", metavar="A,B,...", help="List names, in the order of --capture.")
@click.option("--lists", "candidates", multiple=True, metavar="I,J,...",
              help="A candidate set of lists by number, e.g. --lists 1,2 --lists 1,2,3. Default: the first 2, "
                   "the first 3, ... lists.")
@click.option("--odds-ratio", "odds_ratios", multiple=True, metavar="I,J=OR",
              help="Dependence between lists I and J as an odds ratio, e.g. 1,2=3. Repeatable.")
@click.option("--within", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SHARE",
              help="Target: the total within ±SHARE of the estimate, e.g. 0.25 for ±25%.")
@study_options
@handle_errors
def design_lists_command(total: int, capture: str, names: str | None, candidates: tuple[str, ...],
                         odds_ratios: tuple[str, ...], within: float | None, replicates: int, level: float, seed: int,
                         fmt: str, output: str | None, plot: str | None, save: str | None, quiet: bool,
                         parallel: Parallel) -> None:
    """Is another list worth matching? Simulate lists, fit the default model, compare list sets.

    Each replicate draws one population of --total people and who is on which list, and fits
    each candidate set of lists with the model `hiddenrate lists` uses for that many lists
    (exact model averaging for 3-6 lists). Per candidate: the expected interval width,
    coverage and the chance of meeting the target, with Monte Carlo errors, beside the
    independence model's asymptotic width (Darroch 1958).

    \b
    Examples:
      hiddenrate design lists --total 2000 --capture 0.3,0.2,0.15 --names police,ngo,shelter --within 0.25
      hiddenrate design lists --total 2000 --capture 0.3,0.2,0.15 --odds-ratio 1,2=3 --lists 1,2 --lists 1,2,3
    """
    from hiddenrate.analysis.design.lists import ListsPlan, design_lists

    setup_logging(quiet)
    check_plot(plot)
    probs = _numbers(capture, "--capture")
    k = len(probs)
    list_names = tuple(n.strip() for n in names.split(",")) if names else ()
    if list_names and len(list_names) != k:
        raise click.BadParameter(f"{len(list_names)} names for {k} lists", param_hint="--names")
    chosen = tuple(tuple(i - 1 for i in _numbers(c, "--lists", whole=True)) for c in candidates) \
        or tuple(tuple(range(n)) for n in range(2, min(k, 6) + 1))
    plan = ListsPlan(total=total, capture=probs, candidates=chosen, names=list_names,
                     log_odds_ratios=_odds_ratios(odds_ratios, k), level=level, within=within,
                     replicates=replicates, seed=seed)
    logger.info("design lists: %d replicates of %d candidate list sets %s", replicates, len(chosen), parallel.describe())
    emit_study(design_lists(plan, parallel), fmt, output, plot, save, quiet)


@design_group.command("trend")
@click.option("--recorded", type=click.FloatRange(min=0, min_open=True), required=True, metavar="COUNT",
              help="Expected recorded count in the first year.")
@click.option("--rate", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), required=True,
              metavar="P", help="Assumed reporting rate (constant over the years).")
@click.option("--years", type=click.IntRange(min=2), required=True, metavar="T", help="Number of years.")
@click.option("--survey", "surveyed", type=click.IntRange(min=1), required=True, metavar="M",
              help="Size of the survey in a survey year.")
@click.option("--schedule", "schedules", multiple=True, metavar="Y1,Y2,...|all",
              help="A candidate set of survey years (1 = the first), e.g. --schedule 1,6 --schedule 1,3,6 "
                   "--schedule all. Default: first and last; every year.")
@click.option("--change", type=float, default=-0.3, show_default=True, metavar="SHARE",
              help="Change in incidence from the first year to the last to detect (0 measures false positives).")
@click.option("--draws", type=click.IntRange(min=100), default=1000, show_default=True, help="Posterior draws per chain.")
@click.option("--tune", type=click.IntRange(min=100), default=1000, show_default=True, help="Warm-up per chain.")
@click.option("--chains", type=click.IntRange(min=1), default=4, show_default=True, help="Chains per fit.")
@study_options
@handle_errors
def design_trend_command(recorded: float, rate: float, years: int, surveyed: int, schedules: tuple[str, ...],
                         change: float, draws: int, tune: int, chains: int, replicates: int, level: float, seed: int,
                         fmt: str, output: str | None, plot: str | None, save: str | None, quiet: bool,
                         parallel: Parallel) -> None:
    """In which years to survey: simulate the years, fit the trend model, compare survey schedules.

    Each replicate draws the true and recorded counts of every year (incidence changing by
    --change from the first year to the last) and a survey in each year of a schedule, and fits
    the model `hiddenrate trend` fits (compiled once per worker, the data swapped in). Per
    schedule: the width of the interval of the change, its coverage, the power to detect the
    change, the last year's coverage, with Monte Carlo errors.

    \b
    Examples:
      hiddenrate design trend --recorded 100 --rate 0.3 --years 6 --survey 200 --schedule 1,6 --schedule all
      hiddenrate design trend --recorded 100 --rate 0.3 --years 6 --survey 200 --change 0 --replicates 100
    """
    from hiddenrate.analysis.design.trend import TrendPlan, design_trend

    setup_logging(quiet)
    check_plot(plot)
    chosen = []
    for text in schedules or ("1," + str(years), "all"):
        if text.strip() == "all":
            chosen.append(tuple(range(years)))
        else:
            chosen.append(tuple(int(t) - 1 for t in _numbers(text, "--schedule", whole=True)))
    plan = TrendPlan(recorded=recorded, rate=rate, periods=years, surveyed=surveyed, schedules=tuple(chosen),
                     change=change, level=level, replicates=replicates, seed=seed, draws=draws, tune=tune,
                     chains=chains)
    logger.info("design trend: %d replicates of %d schedules %s", replicates, len(chosen), parallel.describe())
    emit_study(design_trend(plan, parallel), fmt, output, plot, save, quiet)

"""``hiddenrate reporting``: the dark figure from recorded counts and survey reporting rates."""

from __future__ import annotations


import click

from hiddenrate.cli.common import check_outputs, emit, handle_errors, input_source, labelled, setup_logging
from hiddenrate.cli.parsing import two_numbers
from hiddenrate.cli.input_options import input_options
from hiddenrate.cli.options import OutputOptions, SamplingOptions, output_options, parallel_options, sampling_options
from hiddenrate.core.parallel import Parallel
from hiddenrate.data.reporting import UNITS, read_reporting
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.priors import parse_prior_option
from hiddenrate.models.reporting.model import MODELS, fit_reporting


def parse_population(text: str | None) -> tuple[float, float] | None:
    """``"1500,3000"`` -> ``(1500.0, 3000.0)``; the lower end must not exceed the upper."""
    if text is None:
        return None
    try:
        low, high = two_numbers(text)
    except ValueError:
        raise DataError(f"--population '{text}' is not two numbers separated by a comma, e.g. 1500,3000") from None
    if not (low > 0 and high > 0):
        raise DataError(f"--population {text}: the interval ends are numbers of people > 0")
    if low > high:
        raise DataError(f"--population {text}: the lower end {low:g} is above the upper end {high:g}")
    return low, high


def parse_prevalence(text: str | None) -> tuple[int, int] | None:
    """``"40/150"`` (40 of 150 surveyed were victimised) -> ``(40, 150)``."""
    if text is None:
        return None
    parts = [p.strip() for p in text.replace(" of ", "/").split("/")]
    try:
        if len(parts) != 2:
            raise ValueError
        victimized, respondents = (float(p) for p in parts)
    except ValueError:
        raise DataError(f"--prevalence '{text}' should be K/M (K of M surveyed were victimised), e.g. 40/150") from None
    if victimized != int(victimized) or respondents != int(respondents) or victimized < 0 or respondents <= 0:
        raise DataError(f"--prevalence {text}: give counts, K of M surveyed (whole numbers, M > 0), not a rate or percentage")
    if victimized > respondents:
        raise DataError(f"--prevalence {text}: {int(victimized)} victimised out of {int(respondents)} respondents is impossible")
    return int(victimized), int(respondents)


@click.command("reporting")
@click.argument("file", required=False, type=click.Path())
@click.option("--example", metavar="NAME", help="Run on a bundled example instead of FILE (see `hiddenrate examples`).")
@click.option("--by", multiple=True, metavar="COLUMN", help="Stratum column (area, crime type, period): one estimate per stratum plus the total. Repeatable.")
@click.option("--unit", type=click.Choice(UNITS), default=None, help="What is counted; required unless the file has a 'unit' column. Printed in every output.")
@click.option("--model", type=click.Choice(["auto", *MODELS]), default="auto", show_default=True,
              help="exact: each stratum on its own, exact (several sources, population route); pooled: rates and incidence "
                   "pooled across strata (NUTS); multiplier: the classical closed form. auto: exact for one stratum, "
                   "several sources or a population route, else pooled.")
@click.option("--prior", "priors", multiple=True, metavar="NAME=NUMBERS",
              help="Override a prior, e.g. reporting_rate=0.5,0.5 (Beta; exact) or logit_rate_sd=0.5, "
                   "log_incidence_mean=0,3 (pooled). The output lists the priors used. Repeatable.")
@click.option("--population", metavar="LOW,HIGH", help="Population route: 95% interval for the population size (e.g. sex workers from a mapping study). Needs --prevalence; counts victims.")
@click.option("--prevalence", metavar="K/M", help="Population route: K of M surveyed were victimised in the period.")
@output_options
@sampling_options
@parallel_options(0)
@input_options
@handle_errors
def reporting_command(file: str | None, example: str | None, by: tuple[str, ...], unit: str | None, model: str,
                      priors: tuple[str, ...], population: str | None, prevalence: str | None,
                      out: OutputOptions, sampling: SamplingOptions, parallel: Parallel) -> None:
    """Estimate the hidden volume from recorded counts and survey reporting rates.

    FILE is a CSV with one row per stratum: `recorded` (count in official records, may be 0),
    `surveyed` and `reported` (a survey: of `surveyed` incidents or victims asked about,
    `reported` reached the police; leave both empty where a stratum has no survey, and the
    pooled model borrows the rate). Give counts, never rates or percentages.

    \b
    Several sources for the same population: add a `source` column, one row per source:
      source,recorded,surveyed,reported
      police,100,711,195
      ngo,140,400,150
    Each source alone and all combined are reported, with a warning if they disagree
    beyond their uncertainty.

    \b
    Population route (counts victims): population size x share victimised, either as
    options for one stratum or as columns population_low, population_high, victimized,
    respondents:
      hiddenrate reporting jakarta.csv --unit victims --population 1500,3000 --prevalence 40/150

    \b
    Examples:
      hiddenrate reporting --example vancouver
      hiddenrate reporting --example vancouver --model multiplier      # the classical baseline
      hiddenrate reporting --example jakarta --format json | jq .total
      hiddenrate reporting crimes.csv --unit incidents --by area --by crime
      hiddenrate reporting crimes.csv --unit incidents --prior reporting_rate=0.5,0.5
      hiddenrate reporting districts.csv --unit incidents --by district --model exact --workers 2

    Exit codes: 0 estimate printed (read the diagnostics); 1 no estimate could be produced
    (the output says why); 2 bad input or options.
    """
    setup_logging(out.quiet)
    source, name, entry = input_source(file, example, "reporting")
    check_outputs(out, source)
    data = read_reporting(source, by=by, unit=unit, name=name,
                          population=parse_population(population), prevalence=parse_prevalence(prevalence))
    result = fit_reporting(
        data,
        model,
        levels=out.levels,
        seed=sampling.seed,
        interval=out.interval,
        priors=parse_prior_option(priors),
        sampling=sampling.mcmc(),
        parallel=parallel,
    )
    emit(labelled(result, entry), out)

"""``hiddenrate combine``: matched lists, unlinked counts, surveys and a population route in one model."""

from __future__ import annotations

from dataclasses import replace

import click

from hiddenrate.cli.common import check_outputs, emit, handle_errors, input_source, labelled, setup_logging
from hiddenrate.cli.input_options import input_options
from hiddenrate.cli.options import OutputOptions, SamplingOptions, output_options, sampling_options
from hiddenrate.data.spec import read_spec
from hiddenrate.models.combine.model import fit_combined


@click.command("combine")
@click.argument("spec", required=False, type=click.Path())
@click.option("--example", metavar="NAME", help="Run on a bundled example spec instead of SPEC (see `hiddenrate examples`).")
@click.option("--checks/--no-checks", default=True, show_default=True,
              help="What each source says alone, the conflict check and the posterior predictive check (extra fits).")
@output_options
@sampling_options
@input_options(spec=True)
@handle_errors
def combine_command(spec: str | None, example: str | None, checks: bool, out: OutputOptions,
                    sampling: SamplingOptions) -> None:
    """Combine matched lists, unlinked counts and surveys (and a population route) into one estimate.

    SPEC is a small TOML file naming the evidence; paths in it are relative to it:

    \b
      title = "Police and NGO lists with a victim survey"
      unit = "victims"
      [lists]                  # matched lists, as `hiddenrate lists` reads them
      file = "lists.csv"
      [sources.police]         # of 300 victims surveyed, 112 were known to the police
      surveyed = 300
      reported = 112
      [sources.hotline]        # an unlinked count (not matched), with its own survey
      count = 140
      surveyed = 400
      reported = 150
      [population]             # optional: population size (95% interval) x share victimised
      low = 1500
      high = 3000
      victimized = 40
      respondents = 150
      [model]
      dependence = "pairwise"  # or "independent", "latent-class", or ["police:ngo"]

    With two lists, a survey of one list's reach measures the dependence between the
    lists, which the lists alone cannot. The output shows what each source says alone,
    the joint posterior of every capture probability and the dependence, and a conflict
    check: each survey (and the population route) against the rest of the evidence,
    with a warning when they disagree beyond their uncertainty. Matched lists and
    unlinked counts cannot yet be mixed in one spec. Strata: `by = ["region"]` and the
    per-stratum numbers in files ([evidence] file, [population] file).

    \b
    Examples:
      hiddenrate combine --example police-ngo-survey
      hiddenrate combine spec.toml --format json | jq '.total, .log_odds_ratio'
      hiddenrate combine spec.toml --save result.nc --format html -o report.html

    Exit codes: 0 estimate printed (read the diagnostics); 1 no estimate could be produced
    (the output says why); 2 bad spec, data or options.
    """
    setup_logging(out.quiet)
    path, name, entry = input_source(spec, example, "combine", what="SPEC file")
    check_outputs(out, path)
    parsed = read_spec(str(path)) if entry is None else replace(read_spec(path), source=name)
    result = fit_combined(parsed, levels=out.levels, seed=sampling.seed, interval=out.interval,
                          sampling=sampling.mcmc(), checks=checks)
    emit(labelled(result, entry), out)

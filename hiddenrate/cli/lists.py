"""``hiddenrate lists``: estimate the hidden count from overlapping lists."""

from __future__ import annotations

from typing import Any

import click

from hiddenrate.api.lists import fit_lists
from hiddenrate.cli.common import check_outputs, emit, handle_errors, input_source, labelled, setup_logging
from hiddenrate.core.parallel import Parallel
from hiddenrate.cli.input_options import input_options
from hiddenrate.cli.options import OutputOptions, SamplingOptions, output_options, parallel_options, sampling_options
from hiddenrate.cli.parsing import parse_names, parse_pair
from hiddenrate.core.priors import parse_prior_option
from hiddenrate.models.lists.registry import CAPTURE_COUNT_MODELS, LIST_MODELS

MODEL_CHOICES = ["auto", *LIST_MODELS, *CAPTURE_COUNT_MODELS]


@click.command("lists")
@click.argument("file", required=False, type=click.Path())
@click.option("--example", metavar="NAME", help="Run on a bundled example instead of FILE (see `hiddenrate examples`).")
@click.option("--lists", "lists_", metavar="A,B,C", help="List columns to use (default: every 0/1 column).")
@click.option("--by", multiple=True, metavar="COLUMN", help="Stratum column: one estimate per stratum plus the total. Repeatable.")
@click.option("--model", type=click.Choice(MODEL_CHOICES), default="auto", show_default=True,
              help="auto: 2 lists -> bayes-2list, 3-6 lists -> bma (model averaging), 7+ lists -> stepwise (its bootstrap re-runs "
                   "the model choice); nbcap data -> chao-loglinear.")
@click.option("--terms", metavar="TERMS", help="Interactions for loglinear/bayes-loglinear: list names (NGO:PF,LA:GO) or Rcapture notation ([12,13,4]).")
@click.option("--max-order", type=click.IntRange(min=2), default=None, help="loglinear without --terms: highest interaction order searched (default 2).")
@click.option("--criterion", type=click.Choice(["bic", "aic"]), default=None, help="loglinear without --terms: criterion ranking the hierarchical and the heterogeneity (mh-*, mth-*) models (default bic).")
@click.option("--delta", type=float, default=None, help="bma: hyper-Dirichlet prior weight per cell (default 2^-K, as dga).")
@click.option("--prior-n", metavar="PRIOR", default=None, help="bma: prior on N: inverse (1/N, default), uniform (needs --n-max), lognormal:MEDIAN,SDLOG, or "
                   "negbin:SHAPE,SCALE (negative binomial, mean SHAPE x SCALE), e.g. --prior-n lognormal:10000,1.")
@click.option("--n-max", type=click.IntRange(min=1), default=None, help="bma: largest total on the grid (default: chosen so the tail is negligible).")
@click.option("--dependence", metavar="MU,SIGMA", default=None, help="bayes-2list: Normal prior on the log odds ratio between the lists (default 0,0 = independence).")
@click.option("--prior", "priors", multiple=True, metavar="NAME=MU,SIGMA", help="bayes-loglinear: override a Normal prior, e.g. main=0,5 or interaction=0,1; latent-class: alpha=SHAPE,RATE (Gamma prior of the concentration) or capture=A,B (Beta prior of capture probabilities). Repeatable.")
@click.option("--classes", type=click.IntRange(min=1), default=None, help="latent-class: number of latent classes K (truncation of the Dirichlet process). Default: 10, as LCMCR, doubled up to 40 while the last class holds more than 2% of the population.")
@click.option("--bootstrap", type=click.IntRange(min=100), default=None, metavar="R", help="stepwise: bootstrap replicates (default 1000); the model selection is re-run in each.")
@click.option("--pthresh", type=click.FloatRange(0, 1), default=None, help="stepwise: p-value below which a two-list interaction is added (default 0.02, as SparseMSE).")
@click.option("--sensitivity/--no-sensitivity", default=None, help="Model-sensitivity table (independence, best BIC, heterogeneity models, stepwise bootstrap, model averaging) in the report (default: on).")
@click.option("--sensitivity-classes/--no-sensitivity-classes", default=None, help="Add the latent-class model to the sensitivity table (MCMC: takes several seconds; default: only when the heterogeneity check fires).")
@click.option("--leave-one-out", is_flag=True, default=None, help="Add a table with each list left out in turn.")
@click.option("--merge-small", type=click.IntRange(min=1), default=None, metavar="N", help="Add a sensitivity table with the lists holding fewer than N people merged into one.")
@output_options
@sampling_options
@parallel_options(0)
@input_options
@handle_errors
def lists_command(file: str | None, example: str | None, lists_: str | None, by: tuple[str, ...], model: str,
                  terms: str | None, max_order: int | None, criterion: str | None, delta: float | None,
                  prior_n: str | None, n_max: int | None, dependence: str | None, priors: tuple[str, ...],
                  classes: int | None, bootstrap: int | None, pthresh: float | None, sensitivity: bool | None,
                  sensitivity_classes: bool | None, leave_one_out: bool | None, merge_small: int | None,
                  out: OutputOptions, sampling: SamplingOptions, parallel: Parallel) -> None:
    """Estimate how many people were on no list, from overlapping lists.

    FILE is a CSV in the format Rcapture, SparseMSE and LCMCR read: one 0/1 column per list
    (1 = on that list) and an optional `count` column (people with that pattern; without it
    every row is one person). A file with columns `nbcap,count` (people caught 1, 2, ... times
    by one source) is read as number-of-captures data.

    \b
    Examples:
      hiddenrate lists --example uk-2013
      hiddenrate lists --example uk-2013 --format json | jq .total
      hiddenrate lists victims.csv --by region --level 0.8 --level 0.95
      hiddenrate lists victims.csv --model loglinear            # rank models by BIC
      hiddenrate lists victims.csv --model loglinear --terms NGO:PF
      hiddenrate lists victims.csv --model latent-class --classes 10   # people differ in visibility
      hiddenrate lists victims.csv --model mth-chao              # Chao's lower bound (Rcapture)
      hiddenrate lists victims.csv --model stepwise                 # interval re-runs the selection
      hiddenrate lists victims.csv --leave-one-out --merge-small 30
      hiddenrate lists two_lists.csv --dependence 0.7,0.35      # lists positively dependent
      hiddenrate lists victims.csv --save result.nc --format markdown -o report.md

    Exit codes: 0 estimate printed (read the diagnostics: a fit that did not converge says
    so); 1 no estimate could be produced (the output says why); 2 bad input or options.
    """
    setup_logging(out.quiet)
    source, name, entry = input_source(file, example, "lists")
    check_outputs(out, source)
    options: dict[str, Any] = {
        "terms": terms,
        "max_order": max_order,
        "criterion": criterion,
        "delta": delta,
        "prior_n": prior_n,
        "n_max": n_max,
        "log_odds_ratio": parse_pair(dependence, "--dependence", "0.7,0.35"),
        "priors": parse_prior_option(priors),
        "classes": classes,
        "bootstrap": bootstrap,
        "pthresh": pthresh,
        "sensitivity": sensitivity,
        "sensitivity_classes": sensitivity_classes,
        "leave_one_out": leave_one_out or None,
        "merge_small": merge_small,
    }
    from hiddenrate.data.lists import read_list_input

    data = read_list_input(source, lists=parse_names(lists_), by=by, name=name)
    result = fit_lists(
        data,
        model,
        levels=out.levels,
        seed=sampling.seed,
        interval=out.interval,
        sampling=sampling.mcmc(),
        parallel=parallel,
        **options,
    )
    emit(labelled(result, entry), out)

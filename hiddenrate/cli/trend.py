"""``hiddenrate trend``: is the hidden volume falling, or only the reporting?"""

from __future__ import annotations


import click

from hiddenrate.cli.common import check_outputs, emit, handle_errors, input_source, labelled, setup_logging
from hiddenrate.cli.input_options import input_options
from hiddenrate.cli.options import OutputOptions, SamplingOptions, output_options, sampling_options
from hiddenrate.cli.parsing import parse_names
from hiddenrate.core.priors import parse_prior_option
from hiddenrate.data.reporting import UNITS
from hiddenrate.core.exceptions import DataError
from hiddenrate.api.trend import fit_trend
from hiddenrate.models.trend.core import PROCESSES


@click.command("trend")
@click.argument("file", required=False, type=click.Path())
@click.option("--example", metavar="NAME", help="Run on a bundled example instead of FILE (see `hiddenrate examples`).")
@click.option("--period", metavar="COLUMN", default=None,
              help="The period column (default: 'period', else 'year', 'quarter' or 'month'): years (2019), quarters "
                   "(2019Q1), months (2019-03) or whole numbers; gaps are allowed.")
@click.option("--by", multiple=True, metavar="COLUMN",
              help="A further stratum column (area, crime type): one series each, over the same periods. Repeatable.")
@click.option("--unit", type=click.Choice(UNITS), default=None,
              help="What is counted (reporting data); required unless the file has a 'unit' column.")
@click.option("--model", default="auto", show_default=True, metavar="MODEL",
              help=f"Reporting data: {', '.join(PROCESSES)} (auto = rw-drift): how the log incidence and the logit "
                   "reporting rate move between periods. List data: a list model fitted period by period "
                   "(bma, bayes-loglinear, bayes-2list, latent-class; auto = bma, or bayes-2list for 2 lists), or "
                   "pooled (all periods jointly, the dependence between lists shared by all periods; mixes slowly: "
                   "use --draws 3000 and read the diagnostics).")
@click.option("--prior", "priors", multiple=True, metavar="NAME=NUMBERS",
              help="Override a trend prior, e.g. log_incidence_step=0.2 (the typical change per period; ,DOF to set its "
                   "degrees of freedom), logit_rate_drift=0,0.2, log_incidence_level=0,3. List data, --model pooled: "
                   "main_step=SCALE[,DOF] (how much a list's capture log odds move per period, default 0.2,4), "
                   "main_level=MU,SIGMA (0,5), interaction=MU,SIGMA (0,2). Repeatable.")
@click.option("--compare", multiple=True, metavar="FROM:TO",
              help="Also compare these two periods, e.g. --compare 2013:2015. Repeatable.")
@click.option("--only-compare", is_flag=True,
              help="Report only the --compare pairs (not first to last and each consecutive pair).")
@click.option("--lists", "lists_", metavar="A,B,C", help="List data: list columns to use (default: every 0/1 column).")
@click.option("--terms", metavar="A:B,A:C", default=None,
              help="List data, --model pooled or bayes-loglinear: interaction terms (pooled: shared by all periods; "
                   "default: every pair of lists that overlap, without the all-lists term).")
@output_options
@sampling_options
@input_options(spec=True)
@handle_errors
def trend_command(file: str | None, example: str | None, period: str | None, by: tuple[str, ...], unit: str | None,
                  model: str, priors: tuple[str, ...], compare: tuple[str, ...], only_compare: bool, lists_: str | None,
                  terms: str | None, out: OutputOptions, sampling: SamplingOptions) -> None:
    """Change over time: estimate per period the total, the reporting rate and the hidden count, and
    whether the total changed between periods, separating a change in incidence from a change in
    reporting.

    FILE is a `hiddenrate reporting` file with a period column: one row per period with
    `recorded` (the source's count), and `surveyed`, `reported` (that period's reporting
    survey; leave both empty in a period without a survey: it borrows from its neighbours).
    The periods are fitted jointly: the log incidence and the logit reporting rate follow a
    random walk with drift (or --model rw, ar1). A list file (0/1 list columns and `count`)
    with a period column is fitted period by period with a list model (default bma; 2 lists
    bayes-2list). With --model pooled all periods are fitted jointly: the dependence between
    lists (--terms, default every overlapping pair) is shared by all periods and each list's
    capture probability follows a random walk, so a period with few records borrows from its
    neighbours (it mixes slowly: use --draws 3000 and read the diagnostics). A `hiddenrate combine` spec
    (FILE.toml) whose `by` includes the period (by = ["year"]; the lists and [evidence] files
    carry the column) is fitted period by period with the joint model.

    \b
    Example file:
      year,recorded,surveyed,reported
      2015,412,310,124
      2016,367,295,101
      2017,330,,
    Output: the answer first, the change from the first period to the last (ratio of totals
    with its interval, the probability that the total fell, and recorded change = incidence
    change x reporting change; `change` in JSON); then per period (`strata` in JSON) total,
    hidden, share recorded and reporting rate; per pair of periods (`details.changes`) the same
    ratios. `total` is the sum over the periods (shown last in the headline table).
    --claim on a trend names what it is about: 'change<1' (the total fell from the first
    period to the last), 'change<0.8' (it fell by more than 20%), '2013:2017>1' (it rose
    between two periods), '2017>=500' (the total in 2017 was at least 500), 'sum>=3000' (the
    sum over the periods, which a plain number checks).
    --plot FILE.png (or .svg, .pdf) draws the recorded and estimated totals per period with
    their interval bands, and the reporting rate in a panel below; HTML reports embed it.

    \b
    Examples:
      hiddenrate trend --example vancouver-trend
      hiddenrate trend --example vancouver-trend --plot trend.png --format html -o trend.html
      hiddenrate trend --example vancouver-trend --claim 'change<1' --claim '2017>=500'
      hiddenrate trend counts.csv --unit incidents --compare 2014:2017
      hiddenrate trend counts.csv --unit incidents --by area --format json | jq '.details.changes[0]'
      hiddenrate trend counts.csv --unit incidents --model ar1 --prior log_incidence_step=0.2
      hiddenrate trend lists.csv --period year --model pooled --terms police:ngo --draws 3000
      hiddenrate trend spec.toml --period year          # lists + surveys per year (combine)

    Exit codes: 0 estimate printed (read the diagnostics); 1 no estimate could be produced;
    2 bad input or options (e.g. a period given twice, periods that cannot be ordered, a
    single period).
    """
    setup_logging(out.quiet)
    source, name, entry = input_source(file, example, "trend")
    check_outputs(out, source)
    if only_compare and not compare:
        raise DataError("--only-compare needs at least one --compare FROM:TO")
    result = fit_trend(
        source,
        model,
        period=period,
        by=by,
        unit=unit,
        lists=parse_names(lists_),
        priors=parse_prior_option(priors),
        compare=compare,
        default_changes=not only_compare,
        levels=out.levels,
        seed=sampling.seed,
        interval=out.interval,
        sampling=sampling.mcmc(),
        name=name,
        **({"terms": terms} if terms else {}),
    )
    emit(labelled(result, entry), out)

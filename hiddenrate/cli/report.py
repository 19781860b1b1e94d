"""``hiddenrate report``: re-render a saved result without refitting."""

from __future__ import annotations

import functools
import sys
from dataclasses import replace

import click

from hiddenrate.cli.common import (
    check_outputs,
    emit,
    handle_errors,
    saved_result,
    setup_logging,
)
from hiddenrate.cli.options import OutputOptions, publication_options
from hiddenrate.core.distributions import INTERVAL_KINDS
from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.render import FORMATS
from hiddenrate.result.io import load_result


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal (not a file, a pipe or a test's runner)."""
    # sys.stdout, not click.get_text_stream (deprecated in click 8.5): CliRunner swaps sys.stdout too
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


@click.command("report")
@click.argument("result_file", metavar="RESULT.nc", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: one self-contained page with figures; markdown: the same content; text, json, csv as the "
                   "estimating commands print them.")
@click.option("--output", "-o", type=click.Path(), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--level", "levels", type=float, multiple=True,
              help="Interval level(s) to report (default: those saved). Posteriors only; repeatable.")
@click.option("--interval", type=click.Choice(INTERVAL_KINDS), default=None,
              help="Kind of Bayesian interval (default: as saved).")
@click.option("--plot", type=click.Path(), default=None,
              help="Also draw the estimate to a PNG, SVG or PDF file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@click.option("--table", default=None, metavar="N|WORDS",
              help="With --format csv: write one model table instead of the summary, by its number in the report "
                   "or words from its title, e.g. --table sources.")
@functools.partial(publication_options, population_alias=True)
@handle_errors
def report_command(result_file: str, fmt: str, output: str | None, levels: tuple[float, ...], interval: str | None,
                   plot: str | None, quiet: bool, table: str | None, suppress_below: int | None,
                   claims: tuple[str, ...], population_size: float | None) -> None:
    """Re-render a result saved with --save, without the original data and without refitting.

    The saved file holds the data summary, priors, options, seed and versions, so the report
    is the same as the one the estimating command would print (add --level to report other
    interval levels of a posterior).

    \b
    Examples:
      hiddenrate lists --example uk-2013 --save uk.nc --quiet
      hiddenrate report uk.nc -o uk.html                       # one page to read, print and cite
      hiddenrate report uk.nc --format markdown -o uk.md
      hiddenrate report uk.nc --suppress-below 5 --claim 15000 -o safe.html
      hiddenrate report uk.nc --format csv --table "model sensitivity"   # one table as CSV

    Without -o, HTML (the default) is refused on a terminal (it is a page for a browser); a pipe
    or a redirect gets it.

    Exit codes: 0 report written; 1 the saved result has no estimate (the report says why);
    2 bad file or options (or HTML to a terminal).
    """
    setup_logging(quiet)
    if fmt == "html" and output is None and stdout_is_terminal():
        raise DataError(f"an HTML report is a page for a browser, not the terminal: write it to a file with "
                        f"-o report.html (or read it here with --format text), e.g. hiddenrate report {result_file} -o report.html")
    check_outputs(OutputOptions(fmt, output, None, (), "", quiet, plot), result_file)
    result = load_result(result_file)
    with saved_result(result_file):
        if levels:
            if result.overall.total is not None and result.overall.total.kind == "point":
                raise ModelError("--level: a maximum-likelihood result knows only the levels it was fitted with "
                                 f"({', '.join(f'{x:g}' for x in result.levels)}); refit with --level to change them")
            from hiddenrate.core.settings import check_levels

            result = result.with_levels(check_levels(levels))
        if interval is not None and interval != result.interval_kind:
            if result.overall.total is not None and result.overall.total.kind == "point":
                raise ModelError("--interval applies to posteriors; this result is a maximum-likelihood estimate")
            result = replace(result, interval_kind=interval)
        out = OutputOptions(fmt, output, None, result.levels, result.interval_kind, quiet, plot, suppress_below,
                            tuple(claims), population_size, table)
        emit(result, out)

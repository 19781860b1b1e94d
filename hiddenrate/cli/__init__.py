"""The ``hiddenrate`` command: a thin layer over the public API."""

from __future__ import annotations

import click

from hiddenrate._version import __version__
from hiddenrate.cli.claim import claim_command
from hiddenrate.cli.combine import combine_command
from hiddenrate.cli.examples import examples_command
from hiddenrate.cli.lists import lists_command
from hiddenrate.cli.report import report_command
from hiddenrate.cli.reporting import reporting_command
from hiddenrate.cli.simulate import simulate_group
from hiddenrate.cli.trend import trend_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="hiddenrate")
def cli() -> None:
    """Estimate the hidden volume of crime that official counts never see.

    \b
    Examples:
      hiddenrate examples                          # bundled data sets and their sources
      hiddenrate lists --example uk-2013           # overlapping lists -> hidden count
      hiddenrate lists victims.csv --format json   # one JSON object on stdout
      hiddenrate lists victims.csv --save r.nc --format html -o report.html
      hiddenrate report r.nc --suppress-below 5 -o safe.html  # re-render, no refit
      hiddenrate claim r.nc --value 15000          # how probable is "15,000 or more"?
      hiddenrate reporting --example vancouver     # recorded count / survey reporting rate
      hiddenrate trend --example vancouver-trend   # falling counts: less crime, or less reporting?
      hiddenrate simulate lists --total 2000 --capture 0.3,0.2,0.25 -o sim.csv

    Every command has --help with a worked example. Results go to stdout, progress to
    stderr. Nothing leaves this machine.
    """


cli.add_command(lists_command)
cli.add_command(reporting_command)
cli.add_command(trend_command)
cli.add_command(examples_command)
cli.add_command(simulate_group)
cli.add_command(report_command)
cli.add_command(claim_command)
cli.add_command(combine_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hiddenrate")


__all__ = ["cli", "main"]

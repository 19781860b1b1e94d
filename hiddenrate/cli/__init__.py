"""The ``hiddenrate`` command: a thin layer over the public API."""

from __future__ import annotations

import importlib
import os
import signal
import sys


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C while the command is still loading: one line and exit 130 (main() then takes over)."""
    os.write(2, b"hiddenrate: error: interrupted\n")
    os._exit(130)


def _run_as_the_command() -> bool:
    """Whether this process is the ``hiddenrate`` command (the console script or ``python -m hiddenrate``),
    not a program that imports the package."""
    program = sys.argv[0] if sys.argv else ""
    return (os.path.basename(program) in ("hiddenrate", "hiddenrate.exe") or program == "-m"
            or program.endswith(os.path.join("hiddenrate", "__main__.py")))


if _run_as_the_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_early)  # before the imports below (click, then the command's)

import click

from hiddenrate._version import __version__

#: command -> (module, attribute, the line ``hiddenrate --help`` shows). A command's module is
#: imported only when that command runs (or its own --help is asked for), so ``hiddenrate --help``
#: answers at once; tests/test_layers.py checks each line against the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "lists": ("hiddenrate.cli.lists", "lists_command",
              "Estimate how many people were on no list, from overlapping lists."),
    "reporting": ("hiddenrate.cli.reporting", "reporting_command",
                  "Estimate the hidden volume from recorded counts and survey reporting rates."),
    "trend": ("hiddenrate.cli.trend", "trend_command",
              "Change over time: estimate per period the total, the reporting rate and the hidden count."),
    "examples": ("hiddenrate.cli.examples", "examples_command",
                 "List the bundled example data sets with their sources and published results."),
    "simulate": ("hiddenrate.cli.simulate", "simulate_group",
                 "Simulate data with a known total (for checking a method on data like yours)."),
    "report": ("hiddenrate.cli.report", "report_command",
               "Re-render a result saved with --save, without the original data and without refitting."),
    "claim": ("hiddenrate.cli.claim", "claim_command",
              "Check a claimed figure against a saved result: the probability that the true total is at least (or at most) the claim."),
    "design": ("hiddenrate.cli.design", "design_group",
               "Plan a study: simulate candidate designs, fit each, report interval width, coverage and power."),
    "link": ("hiddenrate.cli.link", "link_group",
             "Link records across sources into the lists `hiddenrate lists` reads (probabilistic, splink)."),
    "combine": ("hiddenrate.cli.combine", "combine_command",
                "Combine matched lists, unlinked counts and surveys (and a population route) into one estimate."),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main() -> None:
    """Console-script entry point: signals and unwritable cache folders are taken care of first
    (:mod:`hiddenrate.cli.signals`, :mod:`hiddenrate.cli.environment`), then the command runs."""
    import sys

    from hiddenrate.cli import environment, signals

    signals.install()
    environment.prepare(quiet=bool({"-q", "--quiet"} & set(sys.argv[1:])))
    import warnings

    # ArviZ's once-a-day notice about its own coming 1.0 (printed on import on a fresh HOME): nothing
    # about the user's data, and it broke --quiet's silent stderr
    warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)
    cli(prog_name="hiddenrate")


__all__ = ["COMMANDS", "LazyGroup", "cli", "main"]

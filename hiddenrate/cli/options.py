"""Options shared by the estimating commands, passed to commands as one object each."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from hiddenrate.core.settings import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_INTERVAL,
    DEFAULT_LEVELS,
    DEFAULT_SEED,
    DEFAULT_TUNE,
    INTERVAL_KINDS,
    SAMPLING_MINIMUM,
)
from hiddenrate.render import FORMATS


@dataclass(frozen=True)
class OutputOptions:
    """How and where to write the result."""

    format: str
    output: str | None
    save: str | None
    levels: tuple[float, ...]
    interval: str
    quiet: bool
    plot: str | None = None
    #: hide counts of cells and strata below this number in every output (publication safety)
    suppress_below: int | None = None
    #: claimed totals to check against the estimate (``"15000"``, ``"<=15000"``)
    claims: tuple[str, ...] = ()
    #: population size, for rates per 100,000 in claim checks
    population: float | None = None
    #: with --format csv: one model table (number or words from its title) instead of the summary
    table: str | None = None


@dataclass(frozen=True)
class SamplingOptions:
    """Seed and MCMC settings (the seed also drives exact Monte Carlo draws)."""

    seed: int
    draws: int
    tune: int
    chains: int

    def mcmc(self) -> dict[str, int]:
        """``{"draws", "tune", "chains"}``: the ``sampling`` argument of every ``fit_*``."""
        return {"draws": self.draws, "tune": self.tune, "chains": self.chains}


def publication_options(command: Callable[..., Any], population_alias: bool = False) -> Callable[..., Any]:
    """Add ``--suppress-below --claim --population-size`` (for :func:`output_options` and ``report``).

    The population option is ``--population-size`` on estimating commands (``reporting`` has a
    ``--population LOW,HIGH`` of its own); ``population_alias`` also accepts ``--population``.
    """
    names = ["--population-size", *(["--population"] if population_alias else []), "population_size"]
    command = click.option(*names, type=click.FloatRange(min=0, min_open=True), default=None, metavar="N",
                           help="Size of the population the total belongs to (e.g. residents): claim checks add "
                                "rates per 100,000 people.")(command)
    command = click.option("--claim", "claims", multiple=True, metavar="VALUE",
                           help="Check a claimed total: 15000 (at least 15,000), '>15000' (more than), '<=15000' (at most) "
                                "or '<15000' (fewer than). "
                                "Prints the probability and a verdict in words. Repeatable.")(command)
    command = click.option("--suppress-below", type=click.IntRange(min=1), default=None, metavar="K",
                           help="Publication safety: hide counts of cells and strata below K in every format "
                                "(the output says so), e.g. --suppress-below 5.")(command)
    return command


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--format --output --save --level --interval --quiet --progress --plot --suppress-below
    --claim --population-size``; pass ``out: OutputOptions``."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Output format. json is one object for other tools (| jq); csv is the summary table; html is "
                       "one self-contained page with figures (works offline, prints well); markdown has the same content.")
    @click.option("--output", "-o", type=click.Path(), default=None,
                  help="Write the output to this file instead of stdout.")
    @click.option("--save", type=click.Path(), default=None,
                  help="Also save the full result (data, priors, options, seed, versions) as netCDF, e.g. result.nc.")
    @click.option("--level", "levels", type=float, multiple=True, default=DEFAULT_LEVELS, show_default=True,
                  help="Interval level; repeat for several, e.g. --level 0.8 --level 0.95.")
    @click.option("--interval", type=click.Choice(INTERVAL_KINDS), default=DEFAULT_INTERVAL, show_default=True,
                  help="Kind of Bayesian interval: equal-tailed quantiles or highest density (hdi).")
    @click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
    @click.option("--progress", "progress", is_flag=True,
                  help="Draw the progress bars (compiling, sampling) on stderr even when it is not a terminal, "
                       "e.g. into a log file; never on stdout. Default: only on a terminal, never with --quiet.")
    @click.option("--plot", type=click.Path(), default=None,
                  help="Also draw the estimate (posterior with the observed count marked, or strata) to a PNG, SVG or PDF file.")
    @click.option("--table", default=None, metavar="N|WORDS",
                  help="With --format csv: write one model table instead of the summary, by its number in the "
                       "report or words from its title, e.g. --table sources.")
    @publication_options
    @functools.wraps(command)
    def wrapper(*args: Any, fmt: str, output: str | None, save: str | None, levels: tuple[float, ...],
                interval: str, quiet: bool, progress: bool, plot: str | None, table: str | None,
                suppress_below: int | None, claims: tuple[str, ...], population_size: float | None, **kwargs: Any) -> Any:
        from hiddenrate.core.progress import configure

        configure(show=not quiet, force=progress)
        out = OutputOptions(fmt, output, save, tuple(levels), interval, quiet, plot, suppress_below, tuple(claims),
                            population_size, table)
        return command(*args, out=out, **kwargs)

    return wrapper


def sampling_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--seed --draws --tune --chains``; pass ``sampling: SamplingOptions``."""

    @click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
                  help="Random seed: the same data and seed give the same numbers.")
    @click.option("--draws", type=click.IntRange(min=SAMPLING_MINIMUM["draws"]), default=DEFAULT_DRAWS,
                  show_default=True,
                  help="Posterior draws per chain (MCMC models).")
    @click.option("--tune", type=click.IntRange(min=SAMPLING_MINIMUM["tune"]), default=DEFAULT_TUNE,
                  show_default=True,
                  help="Tuning (warm-up) iterations per chain (MCMC models).")
    @click.option("--chains", type=click.IntRange(min=SAMPLING_MINIMUM["chains"]), default=DEFAULT_CHAINS,
                  show_default=True,
                  help="Number of chains (MCMC models); 4 lets R-hat compare them.")
    @functools.wraps(command)
    def wrapper(*args: Any, seed: int, draws: int, tune: int, chains: int, **kwargs: Any) -> Any:
        return command(*args, sampling=SamplingOptions(seed, draws, tune, chains), **kwargs)

    return wrapper


def parallel_options(default_workers: int | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``--workers --scheduler``; pass ``parallel: Parallel`` (hiddenrate.core.parallel).

    ``default_workers`` None: a local Dask cluster of one process per core unless asked
    otherwise; 0: in this process unless ``--workers`` or ``--scheduler`` is given.
    """
    from hiddenrate.core.parallel import Parallel

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        default_text = "one per core" if default_workers is None else "0: in this process"

        @click.option("--workers", type=click.IntRange(min=0), default=default_workers, metavar="N",
                      show_default=default_text,
                      help="Run the fits on a local Dask cluster of N worker processes; 0 runs them in this process "
                           "(no Dask). Same numbers either way.")
        @click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
                      help="Run the fits on an existing Dask cluster (its scheduler's address). Without it, Dask's own "
                           "configuration (DASK_SCHEDULER_ADDRESS) is used when set.")
        @functools.wraps(command)
        def wrapper(*args: Any, workers: int | None, scheduler: str | None, **kwargs: Any) -> Any:
            if scheduler is not None:
                workers = None
            return command(*args, parallel=Parallel(workers=workers, scheduler=scheduler), **kwargs)

        return wrapper

    return decorate

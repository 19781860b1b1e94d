"""Error handling, logging and writing for every command."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from hiddenrate.core.caveats import Caveat
from hiddenrate.cli.options import OutputOptions
from hiddenrate.data.examples import Example
from hiddenrate.core.exceptions import DataError, EstimationError, HiddenrateError, ModelError
from hiddenrate.core.files import Staging
from hiddenrate.core.provenance import created
from hiddenrate.render import render
from hiddenrate.result.value import Result

logger = logging.getLogger("hiddenrate")

EXIT_NO_ESTIMATE = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr, then exit."""
    click.echo(f"hiddenrate: error: {message}", err=True)
    sys.exit(code)


def setup_logging(quiet: bool) -> None:
    """Progress messages go to stderr (never stdout, never into JSON) unless ``quiet``."""
    logger.handlers.clear()
    logger.propagate = False
    if quiet:
        logger.setLevel(logging.WARNING)
        logger.addHandler(logging.NullHandler())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("hiddenrate: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn hiddenrate's errors into one line and an exit code; no tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            created()  # a malformed SOURCE_DATE_EPOCH is refused now, not after the fit
            return command(*args, **kwargs)
        except (DataError, ModelError) as err:
            fail(str(err), EXIT_BAD_INPUT)
        except EstimationError as err:
            fail(str(err), EXIT_NO_ESTIMATE)
        except HiddenrateError as err:
            fail(str(err), EXIT_NO_ESTIMATE)
        except MemoryError:
            fail("ran out of memory; try fewer lists, a coarser grid or fewer draws", EXIT_NO_ESTIMATE)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


#: what a renderer raises when a saved result's free-form parts (details, tables, input summary)
#: have a shape no version of hiddenrate wrote
_DAMAGE = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError, OverflowError,
           ZeroDivisionError)


@contextlib.contextmanager
def saved_result(path: str) -> Iterator[None]:
    """Around the use of a loaded result (``report``, ``claim``): the loader checks the schema of
    what it reads (:mod:`hiddenrate.result.schema`); the free-form parts (model details, tables,
    the input summary) are read by the renderers, and a shape they cannot use is a damaged file:
    one line and exit 2, not a traceback."""
    try:
        yield
    except HiddenrateError:
        raise
    except _DAMAGE as err:
        raise DataError(f"{path}: damaged or not a result this version reads: cannot show it "
                        f"({err.__class__.__name__} in {_where(err)})") from None


def _where(err: BaseException) -> str:
    """The function where ``err`` was raised (for the one-line message of :func:`saved_result`)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name if tb is not None else "?"


def write_text(text: str, output: str | None, quiet: bool) -> None:
    """Write to ``output`` (a file, whole or not at all) or stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with Staging() as staging:
            staging.stage(output, lambda name: Path(name).write_text(text, encoding="utf-8"))
            staging.commit()
    except OSError as err:
        fail(f"{output}: cannot write ({err.strerror}); nothing was written", EXIT_NO_ESTIMATE)
    if not quiet:
        logger.info("wrote %s", output)


def check_outputs(out: OutputOptions, *inputs: str | Path | None) -> None:
    """Check every output of ``out`` before the fit (:func:`hiddenrate.cli.outputs.check_targets`);
    ``inputs`` are the files the command reads (a spec's data files included)."""
    from hiddenrate.cli.outputs import Target, check_targets, input_files

    targets = [Target("--output", out.output, "text") if out.output else None,
               Target("--save", out.save, "save") if out.save else None,
               Target("--plot", out.plot, "plot") if out.plot else None]
    files = [f for source in inputs if source is not None for f in input_files(source)]
    check_targets([t for t in targets if t is not None], files)


def publishable(result: Result, out: OutputOptions) -> Result:
    """``result`` with the claim checks and suppression that ``out`` asks for."""
    from hiddenrate.render import prepare

    if not (out.claims or out.suppress_below is not None or out.population is not None):
        return result
    return prepare(result, suppress_below=out.suppress_below, claims=out.claims, population=out.population)


def draw_plot(result: Result, path: str, target: str) -> None:
    """Draw ``result`` to ``path`` in the format of ``target``'s extension (.png, .svg, .pdf)."""
    suffix = Path(target).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise DataError(f"--plot {target}: --plot writes .png, .svg or .pdf files")
    import matplotlib

    ax = result.plot()
    try:
        ax.figure.tight_layout()
        with matplotlib.rc_context({"svg.hashsalt": "hiddenrate"}):  # the same result gives the same SVG
            ax.figure.savefig(path, dpi=150, format=suffix[1:])
    finally:
        import matplotlib.pyplot as plt

        plt.close(ax.figure)


def emit(result: Result, out: OutputOptions) -> None:
    """Render (with claim checks and suppression if asked), write, save, and exit 1 if there is
    no estimate. ``--save`` keeps the full, unsuppressed result: it is for the analyst, not for
    publication. Every file is written to a temporary name first and all are renamed into place
    together at the end, so an error or an interrupt leaves no file half-written."""
    published = publishable(result, out)
    text = render(published, out.format, table=out.table)
    try:
        with Staging() as staging:
            if out.output:
                staging.stage(out.output, lambda name: Path(name).write_text(text, encoding="utf-8"))
            if out.save:
                from hiddenrate.result.io import write_result  # here: xarray costs ~0.2 s of start-up

                staging.stage(out.save, lambda name: write_result(result, name))
            if out.plot:
                staging.stage(out.plot, lambda name: draw_plot(published, name, str(out.plot)))
            staging.commit()
    except OSError as err:
        fail(f"cannot write {err.filename or 'the output'} ({err.strerror or err}); nothing was written",
             EXIT_NO_ESTIMATE)
    if out.output is None:
        click.echo(text, nl=False)
    elif not out.quiet:
        logger.info("wrote %s", out.output)
    if out.save:
        logger.info("saved the result to %s", out.save)
    if out.plot:
        logger.info("drew the figure to %s", out.plot)
    if not result.converged:
        logger.warning("the fit did not converge; see the diagnostics in the output.%s", _rerun_hint(result))
    if not result.estimated:
        sys.exit(EXIT_NO_ESTIMATE)


def _rerun_hint(result: Result) -> str:
    """`` Try longer chains: hiddenrate ... --draws 4000 --tune 4000`` (this command line with the settings
    of :func:`hiddenrate.render.words.next_sampling`); the settings alone when this command does not
    sample (``report`` of a saved result); ``""`` when longer chains are not the remedy."""
    from hiddenrate.render.words import next_sampling, rerun_words

    settings = next_sampling(result)
    if settings is None:
        return ""
    context = click.get_current_context(silent=True)
    if context is not None and any("--draws" in param.opts for param in context.command.params):
        return f" Try longer chains: {rerun_command(sys.argv[1:], settings)}"
    return f" {rerun_words(result)}"


def rerun_command(args: list[str], settings: Mapping[str, int]) -> str:
    """The command line ``args`` with the MCMC ``settings`` in place of its own (e.g. ``{"draws": 4000,
    "tune": 4000}`` from :func:`hiddenrate.render.words.next_sampling`), to print when a fit did not converge."""
    names = {f"--{name}" for name in settings}
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name, equals, _ = arg.partition("=")
        if name in names:
            skip = not equals
            continue
        kept.append(arg)
    return shlex.join(["hiddenrate", *kept, *(w for name, value in settings.items() for w in (f"--{name}", str(value)))])


def input_source(file: str | None, example: str | None, command: str,
                 what: str = "FILE") -> tuple[str | Path, str, Example | None]:
    """The data to read: ``FILE`` or the bundled ``--example`` (exactly one), and how to name it.

    Returns
    -------
    (source, name, example)
        The path, its name in messages (``example uk-2013 (uk_modern_slavery_2013.csv)`` for an
        example) and the example's registry entry (``None`` for a file).

    Raises
    ------
    DataError
        Neither or both given, or an example that belongs to another command.
    """
    from hiddenrate.data.examples import get_example

    if (file is None) == (example is None):
        raise DataError(f"give a {what} or --example NAME (one of them); see `hiddenrate examples`")
    if example is None:
        if Path(str(file)).is_dir():
            kind = "spec file (.toml)" if what == "SPEC file" else "CSV file"
            raise DataError(f"{file}: is a directory; name the {kind} in it")
        return str(file), str(file), None
    entry = get_example(example)
    if entry.command != command:
        raise DataError(f"example '{example}' is for `hiddenrate {entry.command}`, not {command}")
    path = entry.path()
    return path, f"example {example} ({path.name})", entry


def example_label(entry: Example | None) -> str | None:
    """The warning an example's output leads with when its numbers are not all real data
    (illustrative or artificial; the example's status says which), or ``None``.

    Bundled examples are honest about what is invented (non-negotiable 6): the output says so
    in every format, not only the example's README.
    """
    if entry is None:
        return None
    status = entry.status.strip()
    see = re.search(r"see (\S+)", entry.source)
    where = f" (see {see.group(1)})" if see else ""
    lowered = status.lower()
    if lowered.startswith("illustrative"):
        return f"illustrative example, not a real estimate: {status.split(':', 1)[-1].strip()}{where}"
    if "illustrative" in lowered:
        return f"example with illustrative numbers, not a real estimate: {status}{where}"
    if lowered.startswith("artificial"):
        return f"artificial example, not a real estimate: {status}{where}"
    return None


def labelled(result: Result, entry: Example | None) -> Result:
    """``result`` with :func:`example_label`'s warning first (unchanged for files and real data), and
    counted in the example's unit when it is not people (the snowshoe hares are animals)."""
    if entry is not None and entry.unit and not result.unit:
        result = replace(result, unit=entry.unit)
    label = example_label(entry)
    return result if label is None else replace(result, warnings=(Caveat(label, "example"), *result.warnings))

"""Progress on stderr while a model compiles and samples: a bar with the elapsed time and an estimate.

The command line decides once whether progress is shown (:func:`configure`): on stderr when it is
a terminal, never with ``--quiet``, and with ``--progress`` even when stderr is not a terminal
(a log file). Nothing is ever written to stdout, so JSON and CSV stay clean. From Python nothing
is shown unless :func:`configure` is called.

* Compiling (:func:`stage`): a spinner with the elapsed time and the usual duration
  (``compiling the trend model (about 10-30 s the first time)  0:00:12``).
* Sampling: the MCMC samplers draw their own bar when :func:`showing` is true (nutpie's shows
  chains, draws, elapsed time and the time left; the latent-class Gibbs sampler's likewise).

``rich`` draws the spinner; it is imported only when progress is shown.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

_STATE = {"show": False, "force": False}


def configure(show: bool, force: bool = False) -> None:
    """Show progress (``show``) on stderr; ``force``: even when stderr is not a terminal."""
    _STATE["show"], _STATE["force"] = bool(show), bool(force)


def showing() -> bool:
    """True when progress should be drawn now (configured, and stderr a terminal unless forced)."""
    if not _STATE["show"]:
        return False
    return _STATE["force"] or bool(getattr(sys.stderr, "isatty", lambda: False)())


@contextlib.contextmanager
def stage(message: str) -> Iterator[None]:
    """A spinner with ``message`` and the elapsed time on stderr while the block runs (when shown)."""
    if not showing():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, force_terminal=_STATE["force"] or None)
    with Progress(SpinnerColumn(), TextColumn("hiddenrate: {task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task(message, total=None)
        yield


__all__ = ["configure", "showing", "stage"]

"""Options that set how much input a command may read: ``--max-input-mb`` (every command that reads a
data file) and ``--allow-outside-paths`` (commands that read a combine spec)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import click

from hiddenrate.core.limits import (
    DEFAULT_MAX_INPUT_BYTES,
    allow_outside_paths,
    input_size_limit,
)


def input_options(command: Callable[..., Any] | None = None, *, spec: bool = False) -> Any:
    """Add ``--max-input-mb`` (and with ``spec=True`` ``--allow-outside-paths``); the command runs
    with those limits in force (:mod:`hiddenrate.core.limits`)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, max_input_mb: float, allow_outside_paths_: bool = False, **kwargs: Any) -> Any:
            limit = None if max_input_mb == 0 else int(max_input_mb * 2**20)
            with contextlib.ExitStack() as stack:
                stack.enter_context(input_size_limit(limit))
                stack.enter_context(allow_outside_paths(allow_outside_paths_))
                return command(*args, **kwargs)

        wrapped: Callable[..., Any] = click.option(
            "--max-input-mb", type=click.FloatRange(min=0), default=DEFAULT_MAX_INPUT_BYTES / 2**20,
            show_default=True, metavar="MB",
            help="Largest input file read, in megabytes (0: no limit); a guard against the wrong file.")(wrapper)
        if spec:
            wrapped = click.option(
                "--allow-outside-paths", "allow_outside_paths_", is_flag=True,
                help="Let the spec name data files outside its own folder (by default it may not, so a spec "
                     "received from someone else cannot read other files).")(wrapped)
        return wrapped

    return decorate(command) if command is not None else decorate


__all__ = ["input_options"]

"""Domain exceptions and warnings of hiddenrate.

``DataError`` is bad input (the CLI turns it into one line on stderr and exit code 2),
``ModelError`` is a model that cannot be specified or fitted as asked (also exit 2 when it
is the user's request that is wrong), ``EstimationError`` a run that produced no estimate
(exit code 1). ``ConvergenceWarning`` marks a fit whose diagnostics failed.
"""

from __future__ import annotations

from hiddenrate.core.limits import MAX_MESSAGE_CHARS, printable


class HiddenrateError(Exception):
    """Base class of every error hiddenrate raises on purpose.

    The message is made printable (control characters such as a NUL byte or a line break read
    from a file are escaped, so it stays one line) and cut at ``MAX_MESSAGE_CHARS``.
    """

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            text = printable(args[0])
            if len(text) > MAX_MESSAGE_CHARS:
                text = text[: MAX_MESSAGE_CHARS - 1] + "…"
            args = (text,)
        super().__init__(*args)


class DataError(HiddenrateError, ValueError):
    """Input data that cannot be used as given.

    The message names the source (file or DataFrame), the line or row, and the column,
    and says how to fix it.
    """


class ModelError(HiddenrateError, ValueError):
    """A model specification (terms, priors, options) that is not valid."""


class EstimationError(HiddenrateError, RuntimeError):
    """A fit that could not produce an estimate at all."""


class ConvergenceWarning(UserWarning):
    """A fit whose convergence diagnostics failed; its numbers are not to be trusted."""

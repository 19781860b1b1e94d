"""Domain exceptions and warnings of hiddenrate.

``DataError`` is bad input (the CLI turns it into one line on stderr and exit code 2),
``ModelError`` is a model that cannot be specified or fitted as asked (also exit 2 when it
is the user's request that is wrong), ``EstimationError`` a run that produced no estimate
(exit code 1). ``ConvergenceWarning`` marks a fit whose diagnostics failed.
"""

from __future__ import annotations


class HiddenrateError(Exception):
    """Base class of every error hiddenrate raises on purpose."""


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

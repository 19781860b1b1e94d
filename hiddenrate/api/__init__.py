"""The public entry points: everything the CLI does, in a few lines of Python.

Each ``fit_*`` runs one fit pipeline: read and validate the data, fit the model (which returns
numbers), then the analyses that every result of its kind gets (fragility checks, sensitivity
tables). Names load on first use, so a command imports only the pipeline it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"example_path": "hiddenrate.api.lists", "fit_lists": "hiddenrate.api.lists",
            "fit_trend": "hiddenrate.api.trend"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hiddenrate.api' has no attribute {name!r}")


if TYPE_CHECKING:
    from hiddenrate.api.lists import example_path, fit_lists
    from hiddenrate.api.trend import fit_trend

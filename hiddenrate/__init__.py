"""hiddenrate: estimate the hidden volume of crime that official counts never see.

>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("spina-bifida"))  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP

The names below are loaded on first use (PEP 562), so ``import hiddenrate`` and the CLI's
``--help`` import neither pandas' heavier parts nor PyMC, ArviZ, numba or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hiddenrate._version import __version__

#: public name -> module that defines it
_EXPORTS = {
    "CaptureCountData": "hiddenrate.data.lists",
    "ConvergenceWarning": "hiddenrate.core.exceptions",
    "DataError": "hiddenrate.core.exceptions",
    "EstimationError": "hiddenrate.core.exceptions",
    "FitSettings": "hiddenrate.core.settings",
    "ListData": "hiddenrate.data.lists",
    "ListModel": "hiddenrate.models.lists.base",
    "ListTable": "hiddenrate.data.lists",
    "ModelError": "hiddenrate.core.exceptions",
    "ReportingData": "hiddenrate.data.reporting",
    "Result": "hiddenrate.result.value",
    "StratumEstimate": "hiddenrate.result.value",
    "check_claim": "hiddenrate.analysis.claims",
    "example_path": "hiddenrate.api.lists",
    "fit_combined": "hiddenrate.models.combine.model",
    "fit_lists": "hiddenrate.api.lists",
    "fit_reporting": "hiddenrate.models.reporting.model",
    "fit_trend": "hiddenrate.api.trend",
    "load_result": "hiddenrate.result.io",
    "plot_result": "hiddenrate.render.plots",
    "read_capture_counts": "hiddenrate.data.lists",
    "read_list_input": "hiddenrate.data.lists",
    "read_lists": "hiddenrate.data.lists",
    "read_reporting": "hiddenrate.data.reporting",
    "read_spec": "hiddenrate.data.spec",
    "register_list_model": "hiddenrate.models.lists.registry",
    "suppress_payload": "hiddenrate.analysis.suppression",
    "suppress_result": "hiddenrate.analysis.suppression",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hiddenrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from hiddenrate.analysis.claims import check_claim
    from hiddenrate.analysis.suppression import suppress_payload, suppress_result
    from hiddenrate.api.lists import example_path, fit_lists
    from hiddenrate.api.trend import fit_trend
    from hiddenrate.core.exceptions import ConvergenceWarning, DataError, EstimationError, ModelError
    from hiddenrate.core.settings import FitSettings
    from hiddenrate.data.lists import CaptureCountData, ListData, ListTable, read_capture_counts, read_list_input, read_lists
    from hiddenrate.data.reporting import ReportingData, read_reporting
    from hiddenrate.data.spec import read_spec
    from hiddenrate.models.combine.model import fit_combined
    from hiddenrate.models.lists.base import ListModel
    from hiddenrate.models.lists.registry import register_list_model
    from hiddenrate.models.reporting.model import fit_reporting
    from hiddenrate.render.plots import plot_result
    from hiddenrate.result.io import load_result
    from hiddenrate.result.value import Result, StratumEstimate

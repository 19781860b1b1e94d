"""hiddenrate: estimate the hidden volume of crime that official counts never see.

>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("spina-bifida"))  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from hiddenrate._version import __version__
from hiddenrate.api import example_path, fit_lists
from hiddenrate.data import CaptureCountData, ListData, ListTable, read_capture_counts, read_list_input, read_lists
from hiddenrate.exceptions import ConvergenceWarning, DataError, EstimationError, ModelError
from hiddenrate.inference_io import load_result
from hiddenrate.results import Result, StratumEstimate

__all__ = [
    "CaptureCountData",
    "ConvergenceWarning",
    "DataError",
    "EstimationError",
    "ListData",
    "ListTable",
    "ModelError",
    "Result",
    "StratumEstimate",
    "__version__",
    "example_path",
    "fit_lists",
    "load_result",
    "read_capture_counts",
    "read_list_input",
    "read_lists",
]

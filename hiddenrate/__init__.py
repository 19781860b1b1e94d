"""hiddenrate: estimate the hidden volume of crime that official counts never see.

>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("spina-bifida"))  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from hiddenrate._version import __version__
from hiddenrate.api import example_path, fit_lists
from hiddenrate.analysis.claims import check_claim
from hiddenrate.data import CaptureCountData, ListData, ListTable, read_capture_counts, read_list_input, read_lists
from hiddenrate.core.exceptions import ConvergenceWarning, DataError, EstimationError, ModelError
from hiddenrate.data.reporting import ReportingData, read_reporting
from hiddenrate.result.io import load_result
from hiddenrate.models.reporting.model import fit_reporting
from hiddenrate.models.trend.model import fit_trend
from hiddenrate.models.combine.model import fit_combined, read_spec
from hiddenrate.render.plots import plot_result
from hiddenrate.result.value import Result, StratumEstimate
from hiddenrate.analysis.suppression import suppress_payload, suppress_result

__all__ = [
    "CaptureCountData",
    "ConvergenceWarning",
    "DataError",
    "EstimationError",
    "ListData",
    "ListTable",
    "ModelError",
    "ReportingData",
    "Result",
    "StratumEstimate",
    "__version__",
    "check_claim",
    "example_path",
    "fit_combined",
    "fit_lists",
    "fit_reporting",
    "fit_trend",
    "load_result",
    "plot_result",
    "read_capture_counts",
    "read_list_input",
    "read_lists",
    "read_reporting",
    "read_spec",
    "suppress_payload",
    "suppress_result",
]

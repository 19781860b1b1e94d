"""Models for number-of-captures data (one source, people caught 1, 2, ... times).

The estimators live in :mod:`hiddenrate.models.capture_counts.core`; this module turns their
answer into the standard :class:`~hiddenrate.result.value.Result`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import CaptureCountData
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.exceptions import EstimationError, ModelError
from hiddenrate.core.options import flag
from hiddenrate.core.settings import DEFAULT_INTERVAL, DEFAULT_LEVELS, DEFAULT_SEED, FitSettings
from hiddenrate.models.capture_counts.core import CAPTURE_COUNT_METHODS, estimate_capture_counts
from hiddenrate.result.value import ModelCard, Result, StratumEstimate

DEFAULT_METHOD = "chao-loglinear"

TITLES = {
    "chao": "Chao's lower bound",
    "chao-loglinear": "Chao's lower bound (log-linear fit with profile likelihood, as Rcapture)",
    "zelterman": "Zelterman's estimator",
    "ztpoisson": "Zero-truncated Poisson",
}

ASSUMPTIONS = {
    "common": (
        "Closed population: nobody entered or left while the source was catching people.",
        "Each person's captures are a Poisson process (one capture does not make the next more or less likely).",
        "Records of the same person are linked correctly across captures.",
    ),
    "chao": ("People may differ in how catchable they are; the result is then a LOWER BOUND for the total.",),
    "chao-loglinear": ("People may differ in how catchable they are; the result is then a LOWER BOUND for the total.",),
    "zelterman": ("People caught 0, 1 or 2 times share one capture rate (estimated from those caught once and twice).",),
    "ztpoisson": ("Everybody has the same capture rate (no heterogeneity): usually too strong; the estimate is then too low.",),
}


def fit_capture_counts(
    data: CaptureCountData,
    model: str = "auto",
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int | None = DEFAULT_SEED,
    interval: str = DEFAULT_INTERVAL,
    sampling: Mapping[str, Any] | None = None,
    **options: Any,
) -> Result:
    """Estimate the total from number-of-captures data.

    Parameters
    ----------
    data
        Frequencies of capture counts (see :func:`hiddenrate.read_capture_counts`).
    model
        ``auto`` (= ``chao-loglinear``), ``chao``, ``chao-loglinear``, ``zelterman`` or ``ztpoisson``.
    levels, seed, interval, sampling
        As every ``fit_*``; the estimators are closed forms, so the intervals are always
        equal-tailed confidence intervals and nothing is sampled.
    """
    return capture_counts_result(data, model, FitSettings.of(levels, interval, seed, sampling), options)


def capture_counts_result(data: CaptureCountData, model: str, settings: FitSettings,
                          options: Mapping[str, Any]) -> Result:
    """:func:`fit_capture_counts` with its settings already validated (what ``fit_lists`` calls)."""
    method = DEFAULT_METHOD if model == "auto" else model
    if method not in CAPTURE_COUNT_METHODS:
        raise ModelError(
            f"--model {model} is for list data; number-of-captures data take: auto, {', '.join(CAPTURE_COUNT_METHODS)}"
        )
    given = sorted(key for key, value in options.items() if value not in (None, (), []))
    if given:
        raise ModelError(f"{flag(given[0])} does not apply to number-of-captures data")
    levels = settings.levels
    observed = data.observed
    method_diag = diag.exact(f"closed form / maximum likelihood ({TITLES[method]})")
    try:
        estimate = estimate_capture_counts(data.frequencies, method, levels)
    except EstimationError as err:
        overall = StratumEstimate(stratum={}, observed=observed, total=None, diagnostics=method_diag, reason=str(err))
        warnings: tuple[str, ...] = ()
        interval_method = ""
        description = ""
    else:
        warnings = (
            ("this is a lower bound: if people differ in how likely they are to be caught, the true total is larger",)
            if estimate.is_lower_bound
            else ()
        )
        interval_method = estimate.interval_method
        description = estimate.message
        overall = StratumEstimate(
            stratum={},
            observed=observed,
            total=PointEstimate(estimate.total, dict(estimate.intervals), estimate.interval_method),
            diagnostics=method_diag,
            details={"standard_error": estimate.standard_error, **dict(estimate.details)},
        )
    frequencies = {str(k): int(f) for k, f in enumerate(data.frequencies) if k > 0}
    card = ModelCard("lists", method, TITLES[method], description or TITLES[method],
                     ASSUMPTIONS["common"] + ASSUMPTIONS[method],
                     "lower-bound estimate" if method.startswith("chao") else "point estimate",
                     interval_method or "confidence interval")
    return Result.build(replace(settings, interval="equal-tailed"), card, overall,
                        input={"source": data.source, "sha256": data.sha256, "format": "number of captures",
                               "frequencies": frequencies},
                        options={"method": method}, warnings=warnings)

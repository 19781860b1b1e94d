"""Convergence diagnostics of MCMC draws (ArviZ's rank-normalised split R-hat, bulk and tail ESS,
divergences), turned into a :class:`~hiddenrate.core.diagnostics.Diagnostics` value.

Here, beside the samplers, because it needs ArviZ; the value and its plain-language messages live
in :mod:`hiddenrate.core.diagnostics`, which every layer may read.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from hiddenrate.core.diagnostics import ESS_MIN, RHAT_MAX, Diagnostics, convergence_messages


def rank_diagnostics(idata: Any, var_names: list[str]) -> tuple[Any, Any, Any]:
    """ArviZ's rank-normalised split R-hat, bulk ESS and tail ESS of ``var_names`` (Datasets).

    Quietly: R-hat/ESS of a constant variable divide by zero inside ArviZ (reported as nan), and
    ArviZ logs a shape warning for a single chain (R-hat needs two), which
    :func:`convergence_messages` says in words through the result -- nothing reaches stderr past
    ``--quiet``.
    """
    import arviz as az

    arviz_log = getattr(az, "_log", None) or logging.getLogger("arviz")  # ArviZ's own logger, outside logging's registry
    level = arviz_log.level
    try:
        arviz_log.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return (az.rhat(idata, var_names=var_names), az.ess(idata, var_names=var_names, method="bulk"),
                    az.ess(idata, var_names=var_names, method="tail"))
    finally:
        arviz_log.setLevel(level)


def _extreme(dataset: Any, pick: Any) -> float | None:
    """``pick`` (max or min) over every finite value of every variable of ``dataset``; None if there is none."""
    values = np.concatenate([np.atleast_1d(dataset[v].values).ravel() for v in dataset.data_vars])
    values = values[np.isfinite(values)]
    return float(pick(values)) if values.size else None


def mixing_failures(idata: Any, monitor: Sequence[str] | None = None, *, rhat_max: float = RHAT_MAX,
                    ess_min: float = ESS_MIN) -> str:
    """Which of R-hat and bulk / tail ESS fail, in words for the remedy's note (e.g. ``"R-hat 1.031
    (above 1.01), bulk ESS 212 (below 400)"``); ``""`` when all pass.

    Over ``monitor`` (those of its names the posterior has), else over the model's own variables:
    names starting with ``_`` (internal) or ending with ``__`` (PyMC's transformed copies) left out
    unless there is nothing else. A model passes ``monitor`` when what it reports is made from
    internal variables after sampling: ranks do not change under a monotone map, so the R-hat and
    ESS of ``_logit_rate`` are those of the reporting rate made from it.
    """
    names = [str(v) for v in idata.posterior.data_vars]
    chosen = [v for v in monitor or () if v in names]
    public = [v for v in names if not v.startswith("_") and not v.endswith("__")]
    rhat, bulk, tail = rank_diagnostics(idata, chosen or public or names)
    r, eb, et = _extreme(rhat, np.max), _extreme(bulk, np.min), _extreme(tail, np.min)
    failed = []
    if r is not None and r > rhat_max:
        failed.append(f"R-hat {r:.3f} (above {rhat_max:g})")
    for kind, value in (("bulk", eb), ("tail", et)):
        if value is not None and value < ess_min:
            failed.append(f"{kind} ESS {value:.0f} (below {ess_min:g})")
    return ", ".join(failed)


def remedy_note(idata: Any) -> str:
    """``"; sampled again ..."`` when the sampler ran a failed fit again (see ``sample_nuts``), else ``""``."""
    stats = getattr(idata, "sample_stats", None)
    note = stats.attrs.get("remedy") if stats is not None else None
    return f"; {note}" if note else ""


def tuning_steps(idata: Any) -> int | None:
    """Tuning iterations per chain of the run kept (``sample_stats.attrs["tuning_steps"]``, which
    ``sample_nuts`` records); None when the sampler did not record it."""
    stats = getattr(idata, "sample_stats", None)
    value = stats.attrs.get("tuning_steps") if stats is not None else None
    return int(value) if value is not None else None


def mcmc(idata: Any, var_names: list[str], method: str, *, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN) -> Diagnostics:
    """R-hat (rank-normalised, split), bulk and tail ESS and divergences of an InferenceData.

    Parameters
    ----------
    idata
        ArviZ InferenceData with a ``posterior`` group (and ``sample_stats.diverging`` if any).
    var_names
        Variables to check (the quantities reported, e.g. the total, and the model parameters).
    method
        Description of the sampler for reports.
    """
    rhat, ess_bulk, ess_tail = rank_diagnostics(idata, var_names)
    r = _extreme(rhat, np.max)
    eb = _extreme(ess_bulk, np.min)
    et = _extreme(ess_tail, np.min)
    posterior = idata.posterior
    chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    divergences = None
    if hasattr(idata, "sample_stats") and "diverging" in idata.sample_stats:
        divergences = int(np.asarray(idata.sample_stats["diverging"].values).sum())
    tune = tuning_steps(idata)
    messages = convergence_messages(r, eb, et, divergences, rhat_max=rhat_max, ess_min=ess_min, chains=chains)
    return Diagnostics(
        method=method + remedy_note(idata),
        converged=not messages,
        rhat_max=r,
        ess_bulk_min=eb,
        ess_tail_min=et,
        divergences=divergences,
        chains=chains,
        draws=draws,
        tune=tune,
        messages=tuple(messages),
        checks={"rhat_max": rhat_max, "ess_min": ess_min},
    )


__all__ = ["mcmc", "mixing_failures", "rank_diagnostics", "remedy_note", "tuning_steps"]

"""Convergence diagnostics of MCMC draws (ArviZ's rank-normalised split R-hat, bulk and tail ESS,
divergences), turned into a :class:`~hiddenrate.core.diagnostics.Diagnostics` value.

Here, beside the samplers, because it needs ArviZ; the value and its plain-language messages live
in :mod:`hiddenrate.core.diagnostics`, which every layer may read.
"""

from __future__ import annotations

import logging
import warnings
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


def remedy_note(idata: Any) -> str:
    """``"; sampled again at ..."`` when the sampler re-ran a divergent fit (see ``sample_nuts``), else ``""``."""
    stats = getattr(idata, "sample_stats", None)
    note = stats.attrs.get("remedy") if stats is not None else None
    return f"; {note}" if note else ""


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

    def extreme(dataset: Any, pick: Any) -> float | None:
        values = np.concatenate([np.atleast_1d(dataset[v].values).ravel() for v in dataset.data_vars])
        values = values[np.isfinite(values)]
        return float(pick(values)) if values.size else None

    r = extreme(rhat, np.max)
    eb = extreme(ess_bulk, np.min)
    et = extreme(ess_tail, np.min)
    posterior = idata.posterior
    chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    divergences = None
    if hasattr(idata, "sample_stats") and "diverging" in idata.sample_stats:
        divergences = int(np.asarray(idata.sample_stats["diverging"].values).sum())
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
        messages=tuple(messages),
        checks={"rhat_max": rhat_max, "ess_min": ess_min},
    )


__all__ = ["mcmc", "rank_diagnostics", "remedy_note"]

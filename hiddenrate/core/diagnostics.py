"""Convergence diagnostics: what a reader needs to trust (or distrust) a number.

Every result carries a :class:`Diagnostics`. For MCMC fits it holds R-hat, effective sample
sizes and divergences with the thresholds used; for exact or closed-form computations it says
so. ``converged`` is False whenever any check failed, and ``messages`` says which in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


RHAT_MAX = 1.01
ESS_MIN = 400


@dataclass(frozen=True)
class Diagnostics:
    """Diagnostics of one fit.

    Attributes
    ----------
    method
        How the estimate was computed (e.g. ``"NUTS (nutpie), 4 chains x 1000 draws"``).
    converged
        False if any check failed (the estimate is then reported as unreliable).
    rhat_max, ess_bulk_min, ess_tail_min, divergences
        MCMC checks over the monitored variables (``None`` where not applicable).
    chains, draws, tune
        Chains, and draws and tuning iterations per chain, of the run the numbers come from (after
        the sampler's remedy, when it ran again); ``None`` where not applicable or not recorded.
    messages
        Plain-language statements of each failed check.
    checks
        Thresholds used, e.g. ``{"rhat_max": 1.01, "ess_min": 400}``.
    """

    method: str
    converged: bool = True
    rhat_max: float | None = None
    ess_bulk_min: float | None = None
    ess_tail_min: float | None = None
    divergences: int | None = None
    chains: int | None = None
    draws: int | None = None
    messages: tuple[str, ...] = ()
    checks: dict[str, float] = field(default_factory=dict)
    tune: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (keys always present; ``None`` where not applicable)."""
        return {
            "converged": self.converged,
            "method": self.method,
            "rhat_max": self.rhat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "ess_tail_min": self.ess_tail_min,
            "divergences": self.divergences,
            "chains": self.chains,
            "draws": self.draws,
            "tune": self.tune,
            "messages": list(self.messages),
            "checks": dict(self.checks),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostics:
        """Inverse of :meth:`to_dict`."""
        return cls(
            method=str(data.get("method", "")),
            converged=bool(data.get("converged", True)),
            rhat_max=data.get("rhat_max"),
            ess_bulk_min=data.get("ess_bulk_min"),
            ess_tail_min=data.get("ess_tail_min"),
            divergences=data.get("divergences"),
            chains=data.get("chains"),
            draws=data.get("draws"),
            tune=data.get("tune"),
            messages=tuple(data.get("messages", ())),
            checks=dict(data.get("checks", {})),
        )


def exact(method: str) -> Diagnostics:
    """Diagnostics of a computation with no sampling error to check."""
    return Diagnostics(method=method, converged=True)


def combine(parts: list[Diagnostics], method: str | None = None) -> Diagnostics:
    """Diagnostics of several fits (strata): converged only if every part did."""
    if not parts:
        return exact(method or "none")

    def worst(values: list[float | None], pick: Any) -> float | None:
        present = [v for v in values if v is not None]
        return pick(present) if present else None

    divergences = [p.divergences for p in parts if p.divergences is not None]
    messages: list[str] = []
    for part in parts:
        messages.extend(m for m in part.messages if m not in messages)
    return Diagnostics(
        method=method or parts[0].method,
        converged=all(p.converged for p in parts),
        rhat_max=worst([p.rhat_max for p in parts], max),
        ess_bulk_min=worst([p.ess_bulk_min for p in parts], min),
        ess_tail_min=worst([p.ess_tail_min for p in parts], min),
        divergences=sum(divergences) if divergences else None,
        chains=parts[0].chains,
        draws=parts[0].draws,
        tune=parts[0].tune,
        messages=tuple(messages),
        checks=dict(parts[0].checks),
    )


def convergence_messages(rhat: float | None, ess_bulk: float | None, ess_tail: float | None, divergences: int | None,
                         *, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN, chains: int | None = None) -> list[str]:
    """The plain-language convergence failures of one MCMC run (empty when it converged).

    Parameters
    ----------
    rhat, ess_bulk, ess_tail
        Worst R-hat and smallest bulk / tail ESS over the monitored quantities (None: not available).
    divergences
        Number of divergent transitions (None: not recorded).
    rhat_max, ess_min
        The thresholds.
    chains
        Number of chains; with one, R-hat cannot be checked, and a check not done is not passed.

    Returns
    -------
    list of str
        One sentence per failed check.
    """
    messages = []
    if chains is not None and chains < 2:
        messages.append("one chain only: whether chains agree (R-hat) cannot be checked; run 2 or more chains")
    if rhat is not None and rhat > rhat_max:
        messages.append(f"chains disagree: R-hat {rhat:.3f} is above {rhat_max} (run longer or check the model)")
    if ess_bulk is not None and ess_bulk < ess_min:
        messages.append(f"too few effective draws: bulk ESS {ess_bulk:.0f} is below {ess_min:g}")
    if ess_tail is not None and ess_tail < ess_min:
        messages.append(f"interval ends are unstable: tail ESS {ess_tail:.0f} is below {ess_min:g}")
    if divergences:
        messages.append(f"{divergences} divergent transitions: the sampler could not explore the posterior reliably")
    return messages

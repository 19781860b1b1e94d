"""The value a design study returns: per candidate design, Monte Carlo estimates with their
standard errors beside the closed forms that check them. Numbers only; render/design.py words them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean and its standard error (``se``), or an exact value (``se = 0``)."""

    value: float
    se: float

    @classmethod
    def mean(cls, values: np.ndarray) -> Estimate:
        """Mean of replicate values and its Monte Carlo standard error (sd / sqrt(R))."""
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return cls(float("nan"), float("nan"))
        se = float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
        return cls(float(np.mean(x)), se)

    @classmethod
    def share(cls, hits: np.ndarray) -> Estimate:
        """A proportion over replicates and its binomial standard error sqrt(p(1 - p) / R)."""
        x = np.asarray(hits, dtype=float)
        p = float(np.mean(x))
        return cls(p, float(np.sqrt(p * (1 - p) / x.size)))

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "se": self.se}


@dataclass(frozen=True)
class Candidate:
    """One candidate design: its label, the simulated measures and the closed-form ones."""

    label: str
    settings: Mapping[str, Any]
    simulated: Mapping[str, Estimate]
    closed_form: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class DesignStudy:
    """What ``hiddenrate design`` found: the assumptions, the target, one row per candidate.

    ``replicates`` keeps every replicate's numbers (arrays of shape replicates x candidates)
    so that a saved study can be re-analysed.
    """

    kind: str
    model: str
    assumptions: Mapping[str, Any]
    target: Mapping[str, Any]
    candidates: Sequence[Candidate]
    replicates: Mapping[str, np.ndarray]
    notes: Sequence[str] = ()
    run: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self, with_replicates: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "model": self.model, "assumptions": dict(self.assumptions), "target": dict(self.target),
            "candidates": [{"label": c.label, "settings": dict(c.settings),
                            "simulated": {k: v.as_dict() for k, v in c.simulated.items()},
                            "closed_form": dict(c.closed_form)} for c in self.candidates],
            "notes": list(self.notes), "run": dict(self.run),
        }
        if with_replicates:
            out["replicates"] = {k: np.asarray(v).tolist() for k, v in self.replicates.items()}
        return out


__all__ = ["Candidate", "DesignStudy", "Estimate"]

"""How a fit is run: interval levels, interval kind, seed and MCMC settings, validated once.

Every default lives here and nowhere else: the CLI's option defaults, the public ``fit_*``
functions and the models read them from this module. :class:`FitSettings` is the one settings
object the fit pipeline passes down; :func:`headline_level` is the one rule for which interval
level a report leads with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from hiddenrate.core.exceptions import ModelError

#: same data + same seed = same numbers; a run without a seed records the one it drew
DEFAULT_SEED = 1
DEFAULT_LEVELS: tuple[float, ...] = (0.95,)
INTERVAL_KINDS = ("equal-tailed", "hdi")
DEFAULT_INTERVAL = "equal-tailed"
#: NUTS / Gibbs-HMC settings: 4 chains so R-hat can compare them; 1,000 draws each after 1,000 warm-up
DEFAULT_DRAWS, DEFAULT_TUNE, DEFAULT_CHAINS = 1000, 1000, 4
DEFAULT_SAMPLING: Mapping[str, int] = MappingProxyType({"draws": DEFAULT_DRAWS, "tune": DEFAULT_TUNE,
                                                       "chains": DEFAULT_CHAINS})
SAMPLING_KEYS = ("draws", "tune", "chains", "target_accept")
#: draws from an exact posterior (no chains, no warm-up): enough for 3-digit quantiles
EXACT_DRAWS = 20_000
#: the level a report leads with when it was computed: the one readers expect
PREFERRED_LEVEL = 0.95
#: levels every model table carries besides the fit's own, so a saved result reports at any of them
REPORT_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Validate interval levels (each strictly between 0 and 1), sorted and unique."""
    out = []
    for level in levels:
        value = float(level)
        if not 0 < value < 1:
            raise ModelError(f"interval level {level} must be between 0 and 1 (e.g. 0.95 for a 95% interval)")
        out.append(value)
    if not out:
        raise ModelError("give at least one interval level")
    return tuple(sorted(set(out)))


def check_interval(kind: str) -> str:
    """``equal-tailed`` or ``hdi``, else a one-line error."""
    if kind not in INTERVAL_KINDS:
        raise ModelError(f"unknown interval kind '{kind}'; use one of {', '.join(INTERVAL_KINDS)}")
    return kind


def headline_level(levels: Sequence[float]) -> float:
    """The level a report leads with: 95% when it was computed, else the widest computed."""
    if any(abs(float(x) - PREFERRED_LEVEL) < 1e-9 for x in levels):
        return PREFERRED_LEVEL
    return float(max(levels))


def draw_seed(seed: int | None) -> int:
    """The seed itself, or a fresh random one (recorded in the result) when ``None``."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(seed)


def stratum_seeds(seed: int, n: int) -> list[int]:
    """Independent child seeds for ``n`` strata from one user seed (reproducible)."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(child.generate_state(1)[0]) for child in children]


#: the smallest value of each MCMC setting (fewer draws or warm-up iterations say nothing about convergence)
SAMPLING_MINIMUM = {"draws": 100, "tune": 100, "chains": 1}


def check_sampling(sampling: Mapping[str, Any] | None) -> dict[str, Any]:
    """The MCMC settings given (``draws``, ``tune``, ``chains``, ``target_accept``); others are an error.

    Every problem is reported at once: unknown names, and values that are not whole numbers at
    least :data:`SAMPLING_MINIMUM` (``target_accept`` in [0.5, 1)).
    """
    given = {k: v for k, v in dict(sampling or {}).items() if v is not None}
    errors = []
    unknown = sorted(set(given) - set(SAMPLING_KEYS))
    if unknown:
        errors.append(f"unknown sampling setting(s) {', '.join(unknown)}; use {', '.join(SAMPLING_KEYS)}")
    for name, low in SAMPLING_MINIMUM.items():
        value = given.get(name)
        if value is not None and (isinstance(value, bool) or int(value) != value or value < low):
            errors.append(f"{name} must be a whole number >= {low}, got {value!r}")
    target = given.get("target_accept")
    if target is not None and not 0.5 <= float(target) < 1:
        errors.append(f"target_accept must be in [0.5, 1), got {target}")
    if errors:
        raise ModelError("; ".join(errors))
    return given


def longer_sampling(draws: int, tune: int, chains: int = DEFAULT_CHAINS) -> dict[str, int]:
    """The MCMC settings to try after a run of ``draws`` and ``tune`` per chain failed its checks
    (the run kept, after the sampler's own remedy): twice the draws and the tuning, at least 2,000
    and 4,000; and the default chains when fewer than two ran (R-hat compares chains)."""
    out = {"draws": max(2 * int(draws), 2 * DEFAULT_DRAWS), "tune": max(2 * int(tune), 4 * DEFAULT_TUNE)}
    if chains < 2:
        out["chains"] = DEFAULT_CHAINS
    return out


@dataclass(frozen=True)
class FitSettings:
    """Levels, interval kind, seed and MCMC settings of one fit, validated at construction.

    ``seed=None`` draws a seed and records it, so every result can be reproduced.
    """

    levels: tuple[float, ...] = DEFAULT_LEVELS
    interval: str = DEFAULT_INTERVAL
    seed: int = DEFAULT_SEED
    sampling: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, levels: Sequence[float] = DEFAULT_LEVELS, interval: str = DEFAULT_INTERVAL,
           seed: int | None = DEFAULT_SEED, sampling: Mapping[str, Any] | None = None) -> FitSettings:
        """Settings from what a public ``fit_*`` was given (any sequence of levels; ``seed=None``
        draws one; ``sampling=None`` for the defaults)."""
        return cls(tuple(levels), interval, draw_seed(seed), sampling or {})

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", check_levels(tuple(self.levels)))
        object.__setattr__(self, "interval", check_interval(self.interval))
        object.__setattr__(self, "seed", draw_seed(self.seed))
        object.__setattr__(self, "sampling", MappingProxyType(check_sampling(self.sampling)))

    @property
    def headline(self) -> float:
        """The level a report leads with (:func:`headline_level`)."""
        return headline_level(self.levels)

    def mcmc(self) -> dict[str, Any]:
        """The MCMC settings with the defaults filled in."""
        return {**DEFAULT_SAMPLING, **self.sampling}

    def with_seed(self, seed: int) -> FitSettings:
        """The same settings with another seed (for a stratum or a replicate)."""
        return replace(self, seed=seed)


__all__ = ["DEFAULT_CHAINS", "DEFAULT_DRAWS", "DEFAULT_INTERVAL", "DEFAULT_LEVELS", "DEFAULT_SAMPLING", "DEFAULT_SEED",
           "DEFAULT_TUNE", "EXACT_DRAWS", "INTERVAL_KINDS", "REPORT_LEVELS",
           "SAMPLING_MINIMUM", "FitSettings", "check_interval", "check_levels", "check_sampling", "draw_seed",
           "headline_level", "longer_sampling",
           "stratum_seeds"]

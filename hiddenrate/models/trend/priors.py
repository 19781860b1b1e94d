"""Priors of the trend model: visible defaults (:mod:`~hiddenrate.models.trend.core`), merged with overrides.

Each prior is ``{"dist": family, **parameters}``. Overrides are given by name, as a dict of
fields or as numbers in the family's order:

==================  =====================  ===============================================
family              numbers                meaning
==================  =====================  ===============================================
``flat``            ``"flat"``             improper uniform (log incidence level only)
``normal``          ``mu, sigma``          Normal(mu, sigma)
``scaled_inv_chi2``  ``scale[, dof]``       step size: sigma^2 ~ scaled-Inv-chi^2(dof, scale^2);
                                           one step is Student-t(dof) with this scale
``beta``            ``alpha, beta``        Beta(alpha, beta) (AR(1) coefficients)
==================  =====================  ===============================================

Unknown names, wrong numbers and invalid values are all reported at once in one ModelError
that lists the valid names of the chosen process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hiddenrate.core.priors import merge_priors
from hiddenrate.models.reporting.base import prior_fields
from hiddenrate.models.trend.core import default_priors

FAMILIES: dict[str, tuple[str, ...]] = {
    "flat": (),
    "normal": ("mu", "sigma"),
    "scaled_inv_chi2": ("scale", "dof"),
    "beta": ("alpha", "beta"),
}
_POSITIVE = {"sigma", "scale", "dof", "alpha", "beta"}
MEANINGS = {
    "log_incidence_level": "average log incidence over the periods (AR(1): its mean); flat = p(lambda) ∝ 1/lambda",
    "logit_rate_level": "average logit reporting rate over the periods (AR(1): its mean)",
    "log_incidence_step": "how much the log incidence moves from one period to the next, beyond the drift",
    "logit_rate_step": "how much the logit reporting rate moves from one period to the next, beyond the drift",
    "log_incidence_drift": "steady change of the log incidence per period",
    "logit_rate_drift": "steady change of the logit reporting rate per period",
    "log_incidence_ar": "AR(1) coefficient of the log incidence (0: periods independent, 1: a random walk)",
    "logit_rate_ar": "AR(1) coefficient of the logit reporting rate",
}


def _entry(name: str, base: Mapping[str, Any], value: Any, errors: list[str]) -> dict[str, Any]:
    default = str(base["dist"])
    allowed = ("flat", "normal") if default == "flat" else (default,)
    if isinstance(value, str):
        if value.strip() == "flat" and "flat" in allowed:
            return {"dist": "flat"}
        errors.append(f"prior '{name}': '{value}' is not allowed; give {', '.join(FAMILIES[default]) or 'numbers'}")
        return dict(base)
    if isinstance(value, Mapping):
        fields = {k: v for k, v in value.items() if k not in ("meaning", "note")}
        family = str(fields.pop("dist", "normal" if default == "flat" and fields else default))
    else:
        numbers = list(value) if isinstance(value, (list, tuple)) else [value]
        family = "normal" if default == "flat" else default
        names = FAMILIES[family]
        least = 1 if family == "scaled_inv_chi2" else len(names)
        if not least <= len(numbers) <= len(names):
            need = f"{least} or {len(names)}" if least != len(names) else str(len(names))
            errors.append(f"prior '{name}' ({family}) takes {need} number(s): {', '.join(names)}")
            return dict(base)
        fields = dict(zip(names, numbers, strict=False))
    return prior_fields(name, family, allowed, fields, base, FAMILIES, _POSITIVE, errors)


def trend_priors(process: str, overrides: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The default priors of ``process`` with ``overrides`` merged in (see the module docstring).

    Raises
    ------
    ModelError
        Unknown prior names (the message lists the valid ones for ``process``), wrong numbers
        of values, invalid values; every problem at once.

    Examples
    --------
    >>> trend_priors("rw-drift", {"log_incidence_step": 0.2})["log_incidence_step"]
    {'dist': 'scaled_inv_chi2', 'scale': 0.2, 'dof': 4.0}
    """
    return merge_priors(default_priors(process), overrides, _entry, model=f"{process} trend")


def described(priors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The priors with their meaning in words (what results and reports show)."""
    return {name: {**dict(spec), "meaning": MEANINGS.get(name, "")} for name, spec in priors.items()}


__all__ = ["FAMILIES", "MEANINGS", "described", "trend_priors"]

"""Check a claimed figure against an estimate: how probable is a total of at least (or at most)
the claimed value?

A claim such as "there are 15,000 victims" is checked against the posterior of the total:

* exact posterior on a grid (:class:`~hiddenrate.core.distributions.GridDistribution`): the
  probability is the sum of the posterior probabilities of every total at or beyond the claim,
  :math:`P(N \\ge c) = \\sum_{n \\ge c} p(n)`;
* posterior draws (:class:`~hiddenrate.core.distributions.DrawsDistribution`): the fraction of
  draws at or beyond the claim, :math:`\\frac{1}{S}\\sum_s [N_s \\ge c]`;
* maximum-likelihood estimates (:class:`~hiddenrate.core.distributions.PointEstimate`) have no
  posterior: a confidence interval is not a probability statement about the total, so no
  probability is given, only whether the claim lies below, inside or above the interval.

The probability is given a verdict from the fixed bands of :data:`VERDICT_BANDS` (also printed
in ``docs/reports.md``, from this table). A check also carries its uncertainty: the same claim
under each row of the result's sensitivity tables (another prior weight, other models;
:mod:`hiddenrate.analysis.claim_rows`), marked where the verdict differs, and the result's
serious warnings. With a population size the claim and the estimate are
also given per 100,000 people. This module returns numbers only; the sentences are written by
:mod:`hiddenrate.render.claims`.

Examples
--------
>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("uk-2013"))  # doctest: +SKIP
>>> check = hiddenrate.check_claim(result, 15_000)  # doctest: +SKIP
>>> check.probability, check.verdict  # doctest: +SKIP
(0.16..., 'unlikely')
>>> from hiddenrate.render.claims import claim_sentence
>>> claim_sentence(check)  # doctest: +SKIP
'The data make a total of 15,000 or more unlikely (probability 0.16).'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from hiddenrate.analysis.claim_rows import RowClaim, bracket, row_claims
from hiddenrate.core.caveats import SERIOUS
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, Interval, PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.result.value import Result
from hiddenrate.core.settings import headline_level

#: rates are given per this many people
RATE_BASE = 100_000
#: ``at least`` (>=), ``at most`` (<=), ``more than`` (>), ``fewer than`` (<)
DIRECTIONS = ("at least", "at most", "more than", "fewer than")
#: how a claim's probability was found (``ClaimCheck.method``): an exact sum over a grid
#: posterior, the fraction of posterior draws, none for a confidence interval, none without an estimate
METHODS = ("grid", "draws", "confidence interval", "no estimate")


@dataclass(frozen=True)
class VerdictBand:
    """A range of probabilities and its verdict (the words for it).

    ``lower_closed``/``upper_closed`` say whether the ends belong to the band.
    """

    lower: float
    upper: float
    words: str
    lower_closed: bool
    upper_closed: bool

    def contains(self, probability: float) -> bool:
        """True when ``probability`` lies in this band."""
        above = probability >= self.lower if self.lower_closed else probability > self.lower
        below = probability <= self.upper if self.upper_closed else probability < self.upper
        return above and below


#: The fixed verdict bands: probability that the claim holds -> words. Symmetric (p and 1 - p
#: get mirrored words) and modelled on the calibrated language of the IPCC guidance note
#: (Mastrandrea et al. 2010), made non-overlapping. docs/reports.md prints this table.
VERDICT_BANDS: tuple[VerdictBand, ...] = (
    VerdictBand(0.00, 0.01, "extremely unlikely", True, False),
    VerdictBand(0.01, 0.10, "very unlikely", True, False),
    VerdictBand(0.10, 0.33, "unlikely", True, False),
    VerdictBand(0.33, 0.67, "about as likely as not", True, True),
    VerdictBand(0.67, 0.90, "likely", False, True),
    VerdictBand(0.90, 0.99, "very likely", False, True),
    VerdictBand(0.99, 1.00, "extremely likely", False, True),
)


def verdict(probability: float) -> str:
    """The words for a probability, from :data:`VERDICT_BANDS`.

    Raises
    ------
    ModelError
        If ``probability`` is not between 0 and 1.
    """
    for band in VERDICT_BANDS:
        if band.contains(probability):
            return band.words
    raise ModelError(f"probability {probability} is not between 0 and 1")




@dataclass(frozen=True)
class ClaimCheck:
    """The answer to "is a total of at least (at most) ``value`` supported by the data?", as
    numbers; :func:`hiddenrate.render.claims.claim_sentence` puts it into words.

    Attributes
    ----------
    value, direction
        The claimed figure and one of :data:`DIRECTIONS` (``"at least"``, ``"at most"``,
        ``"more than"``, ``"fewer than"``).
    probability
        Posterior probability that the claim holds; ``None`` for a maximum-likelihood
        estimate (no posterior) or when there is no estimate.
    verdict
        The band of ``probability`` in :data:`VERDICT_BANDS` (its words; ``None`` without a probability).
    method
        How the probability was found, one of :data:`METHODS`: ``"grid"`` (exact sum over the
        posterior grid), ``"draws"`` (fraction of posterior draws), ``"confidence interval"``
        (maximum likelihood: no probability) or ``"no estimate"``.
    level, interval
        The interval quoted with the claim.
    position
        For maximum-likelihood estimates: ``below``, ``inside`` or ``above`` the interval at ``level``.
    draws
        Number of posterior draws (``method == "draws"``).
    estimate_type, unit
        The kind of estimate (``Result.estimate_type``, e.g. ``"maximum-likelihood estimate"``)
        and what is counted (``Result.unit``, may be empty).
    beyond_grid
        For an exact grid posterior and a claim of at least a value beyond the largest total
        computed: the probability left beyond that total (an upper bound on what was missed).
    reason
        Without an estimate: why there is none.
    population, claim_rate, estimate_rate
        With a population size: the claim and the estimate (median, lower, upper) per
        :data:`RATE_BASE` people.
    rows
        The same claim under each row of the sensitivity tables (:class:`~hiddenrate.analysis.claim_rows.RowClaim`).
    caveats
        The result's serious warnings (their texts), which the verdict must be read with.
    target
        On a trend (:mod:`hiddenrate.analysis.trend_claims`): what the claim is about, e.g.
        ``{"kind": "change", "from": "2009", "to": "2017", "operator": "<"}`` (``value`` is then a
        ratio), ``{"kind": "period", "period": "2017", ...}`` or ``{"kind": "sum", "periods": 9}``;
        ``None``: the total of the result.

    """

    value: float
    direction: str
    probability: float | None
    verdict: str | None
    method: str
    level: float
    interval: Interval
    position: str | None = None
    draws: int | None = None
    estimate_type: str = ""
    unit: str = ""
    beyond_grid: float | None = None
    reason: str | None = None
    population: float | None = None
    claim_rate: float | None = None
    estimate_rate: tuple[float | None, float | None, float | None] | None = None
    rows: tuple[RowClaim, ...] = ()
    caveats: tuple[str, ...] = ()
    target: Mapping[str, Any] | None = None

    @property
    def disagreeing(self) -> tuple[RowClaim, ...]:
        """The rows under which the verdict band differs."""
        return tuple(r for r in self.rows if not r.agrees)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (:func:`hiddenrate.render.claims.claim_dict` adds the sentences)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["interval"] = list(self.interval)
        out["rows"] = [r.to_dict() for r in self.rows]
        out["caveats"] = [str(c) for c in self.caveats]
        if self.estimate_rate is not None:
            out["estimate_rate"] = list(self.estimate_rate)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimCheck:
        """The check back from :meth:`to_dict` (keys it does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["interval"] = tuple(values.get("interval") or (None, None))
        if values.get("estimate_rate") is not None:
            values["estimate_rate"] = tuple(values["estimate_rate"])
        values["rows"] = tuple(RowClaim.from_dict(r) for r in values.get("rows") or ())
        values["caveats"] = tuple(str(c) for c in values.get("caveats") or ())
        return cls(**values)


def probability_of_claim(dist: DrawsDistribution | GridDistribution, value: float, direction: str = "at least") -> float:
    """P(total >= value), P(total <= value), P(total > value) or P(total < value) (``direction``) from a
    posterior: exact for grids, the fraction of draws for draws."""
    if direction not in DIRECTIONS:
        raise ModelError(f"unknown direction '{direction}'; use one of {', '.join(DIRECTIONS)}")
    values = dist.values if isinstance(dist, GridDistribution) else dist.draws
    keep = {"at least": values >= value, "at most": values <= value, "more than": values > value,
            "fewer than": values < value}[direction]
    if isinstance(dist, GridDistribution):
        return float(np.clip(dist.pmf[keep].sum(), 0.0, 1.0))
    return float(np.mean(keep))


def check_claim(
    result: Result,
    value: float,
    *,
    direction: str = "at least",
    population: float | None = None,
    level: float | None = None,
) -> ClaimCheck:
    """Check a claimed total against ``result``'s estimate of the total (over all strata).

    Parameters
    ----------
    result
        A fitted or loaded result.
    value
        The claimed total, e.g. ``15000``.
    direction
        ``"at least"`` (default: the claim is that the total is ``value`` or more), ``"at most"``,
        ``"more than"`` or ``"fewer than"``.
    population
        Size of the population the total belongs to; adds rates per 100,000 people.
    level
        Interval level quoted beside the claim (default 95% if computed, else the widest).

    Returns
    -------
    ClaimCheck

    Raises
    ------
    ModelError
        If ``value`` or ``population`` is not a positive finite number, or ``direction`` is unknown.
    """
    if direction not in DIRECTIONS:
        raise ModelError(f"unknown direction '{direction}'; use one of {', '.join(DIRECTIONS)}")
    if not np.isfinite(value) or value < 0:
        raise ModelError(f"the claimed value {value} must be a number >= 0, e.g. --value 15000")
    if population is not None and (not np.isfinite(population) or population <= 0):
        raise ModelError(f"--population {population} must be a number > 0 (the number of people in the population)")
    level = float(level) if level is not None else headline_level(result.levels)
    estimate = result.overall
    dist = estimate.total
    kind, unit = result.estimate_type, result.unit or ""
    caveats = tuple(str(c) for c in result.caveats() if c.severity == SERIOUS)
    if dist is None:
        return ClaimCheck(float(value), direction, None, None, "no estimate", level, (None, None),
                          reason=estimate.reason, estimate_type=kind, unit=unit, caveats=caveats)
    interval = dist.interval(level, result.interval_kind)
    rates = _rates(dist, value, population, level, result.interval_kind)
    if isinstance(dist, (DrawsDistribution, GridDistribution)):
        probability = probability_of_claim(dist, value, direction)
        draws = int(dist.draws.size) if isinstance(dist, DrawsDistribution) else None
        beyond = None
        if (isinstance(dist, GridDistribution) and direction in ("at least", "more than") and value > float(dist.values[-1])
                and dist.tail_mass > 0):
            beyond = float(dist.tail_mass)
        rows = row_claims(result, value, direction, verdict, (verdict(probability),))
        return ClaimCheck(float(value), direction, probability, verdict(probability),
                          "draws" if draws is not None else "grid", level, interval,
                          draws=draws, beyond_grid=beyond, estimate_type=kind, unit=unit, **rates,
                          rows=tuple(rows), caveats=caveats)
    if isinstance(dist, PointEstimate):
        own = {"median": dist.point, "intervals": {f"{x:g}": list(ends) for x, ends in dist.intervals.items()}}
        found = bracket(own, value, direction)
        main = tuple(dict.fromkeys(verdict(p) for p in found)) if found is not None else ()
        rows = row_claims(result, value, direction, verdict, main) if main else []
        return ClaimCheck(float(value), direction, None, None, "confidence interval", level, interval,
                          position=_position(value, interval), estimate_type=kind, unit=unit, **rates,
                          rows=tuple(rows), caveats=caveats)
    raise ModelError(f"cannot check a claim against a {type(dist).__name__}")


def _position(value: float, interval: Interval) -> str:
    lower, upper = interval
    if lower is not None and value < lower:
        return "below"
    if upper is not None and value > upper:
        return "above"
    return "inside"


def _rates(dist: Any, value: float, population: float | None, level: float, kind: str) -> dict[str, Any]:
    if population is None:
        return {}

    def per(x: float | None) -> float | None:
        return None if x is None else float(x) / population * RATE_BASE

    lower, upper = dist.interval(level, kind)
    estimate = (per(dist.median()), per(lower), per(upper))
    return {"population": float(population), "claim_rate": per(value), "estimate_rate": estimate}


def parse_claim(text: str) -> tuple[float, str]:
    """``"15000"`` or ``">=15000"`` -> (15000, "at least"); ``"<=15000"`` -> (15000, "at most");
    ``">15000"`` -> (15000, "more than"); ``"<15000"`` -> (15000, "fewer than").

    Thousands separators (``15,000``) are accepted.

    Raises
    ------
    ModelError
        If ``text`` is not a number with an optional ``>=``, ``<=``, ``>`` or ``<`` in front.
    """
    stripped = text.strip().replace(",", "").replace("_", "")
    direction = "at least"
    prefixes = ((">=", "at least"), ("<=", "at most"), ("≥", "at least"), ("≤", "at most"), (">", "more than"),
                ("<", "fewer than"))
    for prefix, name in prefixes:
        if stripped.startswith(prefix):
            stripped, direction = stripped[len(prefix):].strip(), name
            break
    try:
        value = float(stripped)
    except ValueError:
        raise ModelError(f"claim '{text}' is not a number; give e.g. 15000 or '>=15000' (at least), '>15000' (more than), "
                         "'<=15000' (at most) or '<15000' (fewer than)") from None
    if not np.isfinite(value) or value < 0:
        raise ModelError(f"claim '{text}' must be a number >= 0, e.g. 15000")
    return value, direction


def annotate_claims(result: Result, checks: Sequence[ClaimCheck]) -> Result:
    """A copy of ``result`` whose renderers show ``checks`` (stored under ``extra["claims"]``)."""
    from dataclasses import replace

    return replace(result, extra={**dict(result.extra), "claims": [c.to_dict() for c in checks]})


__all__ = [
    "DIRECTIONS",
    "RATE_BASE",
    "VERDICT_BANDS",
    "ClaimCheck",
    "METHODS",
    "VerdictBand",
    "annotate_claims",
    "check_claim",
    "parse_claim",
    "probability_of_claim",
    "verdict",
]

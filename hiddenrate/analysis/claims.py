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

The probability is put into words with the fixed bands of :data:`VERDICT_BANDS` (also printed
in ``docs/reports.md``, from this table). With a population size the claim and the estimate are
also given per 100,000 people.

Examples
--------
>>> import hiddenrate
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("uk-2013"))  # doctest: +SKIP
>>> hiddenrate.check_claim(result, 15_000).sentence  # doctest: +SKIP
'The data make a total of 15,000 or more unlikely (probability 0.16).'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, Interval, PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.render import numbers as fmt
from hiddenrate.result.value import Result
from hiddenrate.core.settings import headline_level

#: rates are given per this many people
RATE_BASE = 100_000
DIRECTIONS = ("at least", "at most")


@dataclass(frozen=True)
class VerdictBand:
    """A range of probabilities and the words used for it.

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

    def describe(self) -> str:
        """``0.01 ≤ p < 0.10`` (the band as a condition on p)."""
        if self.lower <= 0.0:
            return f"p {'≤' if self.upper_closed else '<'} {self.upper:.2f}"
        if self.upper >= 1.0:
            return f"p {'≥' if self.lower_closed else '>'} {self.lower:.2f}"
        left = "≤" if self.lower_closed else "<"
        right = "≤" if self.upper_closed else "<"
        return f"{self.lower:.2f} {left} p {right} {self.upper:.2f}"


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


def verdict_bands_markdown() -> str:
    """The verdict bands as a Markdown table (docs/reports.md holds exactly this text)."""
    lines = ["| probability p that the claim holds | verdict |", "|---|---|"]
    lines += [f"| {band.describe()} | {band.words} |" for band in VERDICT_BANDS]
    return "\n".join(lines)


def format_probability(probability: float, draws: int | None = None) -> str:
    """``0.0213`` -> ``0.02``; tiny or near-certain values as bounds (``below 0.001``)."""
    if draws is not None and probability == 0.0:
        return f"below 1 in {draws:,}: no posterior draw reached it"
    if draws is not None and probability == 1.0:
        return f"above {1 - 1 / draws:.4g}: every posterior draw reached it"
    if probability < 0.001:
        return "below 0.001"
    if probability > 0.999:
        return "above 0.999"
    for digits in range(2, 10):  # enough digits that the number shown lies in the same band as the verdict
        text = f"{probability:.{digits}f}"
        if verdict(float(text)) == verdict(probability) and 0 < float(text) < 1:
            return text
    return repr(float(probability))


@dataclass(frozen=True)
class ClaimCheck:
    """The answer to "is a total of at least (at most) ``value`` supported by the data?".

    Attributes
    ----------
    value, direction
        The claimed figure and ``"at least"`` or ``"at most"``.
    probability
        Posterior probability that the claim holds; ``None`` for a maximum-likelihood
        estimate (no posterior) or when there is no estimate.
    verdict
        Words for ``probability`` from :data:`VERDICT_BANDS` (``None`` without a probability).
    method
        How the probability was computed (exact sum over the grid, fraction of draws, or why none).
    position
        For maximum-likelihood estimates: ``below``, ``inside`` or ``above`` the interval at ``level``.
    level, interval
        The interval quoted with the claim.
    sentence
        The plain-language verdict.
    population, claim_rate, estimate_rate
        With a population size: the claim and the estimate (median, lower, upper) per
        :data:`RATE_BASE` people.
    """

    value: float
    direction: str
    probability: float | None
    verdict: str | None
    method: str
    sentence: str
    level: float
    interval: Interval
    position: str | None = None
    draws: int | None = None
    population: float | None = None
    claim_rate: float | None = None
    estimate_rate: tuple[float | None, float | None, float | None] | None = None
    rate_sentence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "value": self.value,
            "direction": self.direction,
            "probability": self.probability,
            "verdict": self.verdict,
            "method": self.method,
            "sentence": self.sentence,
            "level": self.level,
            "interval": list(self.interval),
            "position": self.position,
            "draws": self.draws,
        }
        if self.population is not None:
            out["population"] = self.population
            out["rate_per"] = RATE_BASE
            out["claim_rate"] = self.claim_rate
            out["estimate_rate"] = list(self.estimate_rate) if self.estimate_rate is not None else None
            out["rate_sentence"] = self.rate_sentence
        return out


def probability_of_claim(dist: DrawsDistribution | GridDistribution, value: float, direction: str = "at least") -> float:
    """P(total >= value) or P(total <= value) from a posterior: exact for grids, the fraction of
    draws for draws."""
    if direction not in DIRECTIONS:
        raise ModelError(f"unknown direction '{direction}'; use one of {', '.join(DIRECTIONS)}")
    if isinstance(dist, GridDistribution):
        keep = dist.values >= value if direction == "at least" else dist.values <= value
        return float(np.clip(dist.pmf[keep].sum(), 0.0, 1.0))
    hits = dist.draws >= value if direction == "at least" else dist.draws <= value
    return float(np.mean(hits))


def _main_level(levels: Sequence[float]) -> float:
    return headline_level(levels)


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
        ``"at least"`` (default: the claim is that the total is ``value`` or more) or ``"at most"``.
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
    level = float(level) if level is not None else _main_level(result.levels)
    estimate = result.overall
    dist = estimate.total
    more = "or more" if direction == "at least" else "or fewer"
    noun = f" {result.unit}" if result.unit else ""
    claim_text = f"a total of {fmt.count(value)} {more}{noun}"
    if dist is None:
        sentence = f"There is no estimate of the total, so the claim of {claim_text} cannot be checked: {estimate.reason}."
        return ClaimCheck(float(value), direction, None, None, "no estimate", sentence, level, (None, None))
    interval = dist.interval(level, result.interval_kind)
    rates = _rates(dist, value, population, level, result.interval_kind)
    if isinstance(dist, (DrawsDistribution, GridDistribution)):
        probability = probability_of_claim(dist, value, direction)
        words = verdict(probability)
        draws = int(dist.draws.size) if isinstance(dist, DrawsDistribution) else None
        method = (
            f"fraction of {draws:,} posterior draws" if draws is not None
            else "exact: sum of the posterior probabilities on the grid"
        )
        sentence = f"The data make {claim_text} {words} (probability {format_probability(probability, draws)})."
        if isinstance(dist, GridDistribution) and direction == "at least" and value > float(dist.values[-1]) and dist.tail_mass > 0:
            sentence += f" (Beyond the largest total computed lies a further probability of at most {dist.tail_mass:.1g}.)"
        return ClaimCheck(float(value), direction, probability, words, method, sentence, level, interval,
                          draws=draws, **rates)
    if isinstance(dist, PointEstimate):
        position = _position(value, interval)
        sentence = _confidence_sentence(result, value, direction, level, interval, position)
        return ClaimCheck(float(value), direction, None, None, "confidence interval: no probability", sentence,
                          level, interval, position=position, **rates)
    raise ModelError(f"cannot check a claim against a {type(dist).__name__}")


def _position(value: float, interval: Interval) -> str:
    lower, upper = interval
    if lower is not None and value < lower:
        return "below"
    if upper is not None and value > upper:
        return "above"
    return "inside"


def _confidence_sentence(result: Result, value: float, direction: str, level: float, interval: Interval,
                         position: str) -> str:
    span = fmt.interval(interval)
    lead = (
        f"This is a {result.estimate_type}: its {fmt.level(level)} confidence interval ({span}) is not a probability "
        "statement about the total, so no probability is given."
    )
    where = {
        "below": f"The claimed {fmt.count(value)} lies below the interval",
        "inside": f"The claimed {fmt.count(value)} lies inside the interval",
        "above": f"The claimed {fmt.count(value)} lies above the interval",
    }[position]
    consistent = {
        ("at least", "below"): "so a total of at least that much is consistent with the data.",
        ("at least", "inside"): "so the data neither confirm nor rule out a total that large.",
        ("at least", "above"): "so the data do not support a total that large at this level.",
        ("at most", "below"): "so the data do not support a total that small at this level.",
        ("at most", "inside"): "so the data neither confirm nor rule out a total that small.",
        ("at most", "above"): "so a total of at most that much is consistent with the data.",
    }[(direction, position)]
    if "lower bound" in result.estimate_type or "lower-bound" in result.estimate_type:
        if direction == "at least" and position == "above":
            consistent = ("but the estimate is a lower bound (the true total is likely larger), so this does not rule "
                          "the claim out.")
        else:
            consistent += " The estimate is a lower bound: the true total is likely larger than it."
    return f"{lead} {where}, {consistent}"


def _rates(dist: Any, value: float, population: float | None, level: float, kind: str) -> dict[str, Any]:
    if population is None:
        return {}

    def per(x: float | None) -> float | None:
        return None if x is None else float(x) / population * RATE_BASE

    lower, upper = dist.interval(level, kind)
    estimate = (per(dist.median()), per(lower), per(upper))
    claim_rate = per(value)
    span = fmt.interval((estimate[1], estimate[2]), _rate)
    sentence = (
        f"Per {RATE_BASE:,} people (population {fmt.count(population)}): the claim is {_rate(claim_rate)}; "
        f"the estimate is {_rate(estimate[0])} ({fmt.level(level)} interval {span})."
    )
    return {"population": float(population), "claim_rate": claim_rate, "estimate_rate": estimate, "rate_sentence": sentence}


def _rate(value: float | None) -> str:
    """Rates per 100,000: three significant figures, thousands separated."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def parse_claim(text: str) -> tuple[float, str]:
    """``"15000"`` or ``">=15000"`` -> (15000, "at least"); ``"<=15000"`` -> (15000, "at most").

    Thousands separators (``15,000``) are accepted.

    Raises
    ------
    ModelError
        If ``text`` is not a number with an optional ``>=``/``<=`` in front.
    """
    stripped = text.strip().replace(",", "").replace("_", "")
    direction = "at least"
    for prefix, name in ((">=", "at least"), ("<=", "at most"), ("≥", "at least"), ("≤", "at most")):
        if stripped.startswith(prefix):
            stripped, direction = stripped[len(prefix):].strip(), name
            break
    try:
        value = float(stripped)
    except ValueError:
        raise ModelError(f"claim '{text}' is not a number; give e.g. 15000 (at least) or '<=15000' (at most)") from None
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
    "VerdictBand",
    "annotate_claims",
    "check_claim",
    "format_probability",
    "parse_claim",
    "probability_of_claim",
    "verdict",
    "verdict_bands_markdown",
]

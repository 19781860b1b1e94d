"""The words for a claim check: the verdict sentence, the rates sentence, how the probability
was found, and the verdict bands as a table, all from the numbers of a
:class:`~hiddenrate.analysis.claims.ClaimCheck`.

Examples
--------
>>> import hiddenrate
>>> from hiddenrate.render.claims import claim_sentence
>>> result = hiddenrate.fit_lists(hiddenrate.example_path("uk-2013"))  # doctest: +SKIP
>>> claim_sentence(hiddenrate.check_claim(result, 15_000))  # doctest: +SKIP
'The data make a total of 15,000 or more unlikely (probability 0.16).'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hiddenrate.analysis.claim_rows import RowClaim
from hiddenrate.analysis.claims import (
    RATE_BASE,
    VERDICT_BANDS,
    ClaimCheck,
    VerdictBand,
    verdict,
)
from hiddenrate.render import numbers as fmt


def format_probability(probability: float, draws: int | None = None) -> str:
    """``0.0213`` -> ``0.02``; tiny or near-certain values as bounds (``below 0.001``)."""
    if draws is not None and probability == 0.0:
        return f"below 1 in {draws:,}: no posterior draw reached it"
    if draws is not None and probability == 1.0:
        return f"above {1 - 1 / draws:.{len(str(draws)) + 1}g}: every posterior draw reached it"  # 0.99995 of 20,000
    if probability < 0.001:
        return "below 0.001"
    if probability > 0.999:
        return "above 0.999"
    for digits in range(2, 10):  # enough digits that the number shown lies in the same band as the verdict
        text = f"{probability:.{digits}f}"
        if verdict(float(text)) == verdict(probability) and 0 < float(text) < 1:
            return text
    return repr(float(probability))


def band_condition(band: VerdictBand) -> str:
    """``0.01 ≤ p < 0.10`` (the band as a condition on p)."""
    if band.lower <= 0.0:
        return f"p {'≤' if band.upper_closed else '<'} {band.upper:.2f}"
    if band.upper >= 1.0:
        return f"p {'≥' if band.lower_closed else '>'} {band.lower:.2f}"
    left = "≤" if band.lower_closed else "<"
    right = "≤" if band.upper_closed else "<"
    return f"{band.lower:.2f} {left} p {right} {band.upper:.2f}"


def verdict_bands_markdown() -> str:
    """The verdict bands as a Markdown table (docs/reports.md holds exactly this text)."""
    lines = ["| probability p that the claim holds | verdict |", "|---|---|"]
    lines += [f"| {band_condition(band)} | {band.words} |" for band in VERDICT_BANDS]
    return "\n".join(lines)


def bands_note() -> str:
    """One sentence listing the verdict bands (under the claims in a report)."""
    bands = "; ".join(f"{band_condition(b)}: {b.words}" for b in VERDICT_BANDS)
    return f"Verdict words follow fixed bands of the probability p that the claim holds: {bands}."


def method_text(check: ClaimCheck) -> str:
    """How the probability was found, in words (``exact: sum of the posterior probabilities on the grid``)."""
    if check.method == "draws":
        return f"fraction of {check.draws:,} posterior draws"
    if check.method == "grid":
        return "exact: sum of the posterior probabilities on the grid"
    if check.method == "confidence interval":
        return "confidence interval: no probability"
    return check.method


def claim_text(check: ClaimCheck) -> str:
    """``a total of 15,000 or more people`` (``more than 15,000``, ``15,000 or fewer``, ``fewer than 15,000``)."""
    return f"a total of {_amount(check)}"


def _amount(check: ClaimCheck) -> str:
    noun = f" {check.unit}" if check.unit else ""
    value = fmt.count(check.value)
    words = {"at least": f"{value} or more", "at most": f"{value} or fewer", "more than": f"more than {value}",
             "fewer than": f"fewer than {value}"}[check.direction]
    return f"{words}{noun}"


def target_text(check: ClaimCheck) -> str | None:
    """What a claim on a trend is about, in words (``a fall in the total from 2009 to 2017 (ratio below 1)``,
    ``a total of 500 or more incidents in 2017``); ``None`` for a claim about the result's total."""
    target = check.target
    if not target:
        return None
    op = str(target.get("operator", ">=" if check.direction == "at least" else "<="))
    words = {"<": "below", "<=": "at or below", ">": "above", ">=": "at or above"}[op]
    if target.get("kind") == "change":
        start, end = target.get("from"), target.get("to")
        if check.value == 1 and op in ("<", ">"):
            moved = "fall" if op == "<" else "rise"
            return f"a {moved} in the total from {start} to {end} (ratio {end}/{start} {words} 1)"
        return f"a ratio of the {end} total to the {start} total {words} {fmt.number(check.value)}"
    if target.get("kind") == "period":
        return f"a total of {_amount(check)} in {target.get('period')}"
    return f"a total of {_amount(check)} over all {target.get('periods', '')} periods together"


def claim_sentence(check: ClaimCheck) -> str:
    """The plain-language verdict of ``check``."""
    claim_text_ = target_text(check) or claim_text(check)
    if check.method == "no estimate":
        return f"There is no estimate of the total, so the claim of {claim_text_} cannot be checked: {check.reason}."
    if check.probability is not None:
        sentence = (f"The data make {claim_text_} {check.verdict} "
                    f"(probability {format_probability(check.probability, check.draws)}).")
        if check.beyond_grid is not None:
            sentence += f" (Beyond the largest total computed lies a further probability of at most {check.beyond_grid:.1g}.)"
        return sentence
    return _confidence_sentence(check)


def _confidence_sentence(check: ClaimCheck) -> str:
    span = fmt.interval(check.interval)
    lead = (
        f"This is a {check.estimate_type}: its {fmt.level(check.level)} confidence interval ({span}) is not a "
        "probability statement about the total, so no probability is given."
    )
    position = check.position or "inside"
    where = f"The claimed {fmt.count(check.value)} lies {position} the interval"
    direction = "at least" if check.direction in ("at least", "more than") else "at most"
    consistent = {
        ("at least", "below"): "so a total of at least that much is consistent with the data.",
        ("at least", "inside"): "so the data neither confirm nor rule out a total that large.",
        ("at least", "above"): "so the data do not support a total that large at this level.",
        ("at most", "below"): "so the data do not support a total that small at this level.",
        ("at most", "inside"): "so the data neither confirm nor rule out a total that small.",
        ("at most", "above"): "so a total of at most that much is consistent with the data.",
    }[(direction, position)]
    if "lower bound" in check.estimate_type or "lower-bound" in check.estimate_type:
        if direction == "at least" and position == "above":
            consistent = ("but the estimate is a lower bound (the true total is likely larger), so this does not rule "
                          "the claim out.")
        else:
            consistent += " The estimate is a lower bound: the true total is likely larger than it."
    return f"{lead} {where}, {consistent}"


def rate_sentence(check: ClaimCheck) -> str | None:
    """With a population size: the claim and the estimate per 100,000 people; else ``None``."""
    if check.population is None or check.estimate_rate is None:
        return None
    median, lower, upper = check.estimate_rate
    span = fmt.interval((lower, upper), _rate)
    return (
        f"Per {RATE_BASE:,} people (population {fmt.count(check.population)}): the claim is {_rate(check.claim_rate)}; "
        f"the estimate is {_rate(median)} ({fmt.level(check.level)} interval {span})."
    )


def _rate(value: float | None) -> str:
    """Rates per 100,000: three significant figures, thousands separated."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def bracket_text(low: float, high: float) -> str:
    """A probability known to lie in ``[low, high]``: ``below 0.005``, ``0.05 to 0.1``, ``above 0.995``."""
    if low <= 0.0:
        return f"below {high:g}"
    if high >= 1.0:
        return f"above {low:g}"
    return f"about {low:g}" if high - low < 1e-9 else f"{low:g} to {high:g}"


def row_sentence(check: ClaimCheck, row: RowClaim) -> str:
    """The claim under one row of a sensitivity table, in words."""
    span = fmt.interval(row.interval)
    level = fmt.level(row.level)
    where = (f"{fmt.count(check.value)} lies {row.position} even its {level} interval ({span})" if row.position != "inside"
             else f"{fmt.count(check.value)} lies inside its {level} interval ({span})")
    name = f"{row.row} (prior weight)" if "prior weight" in row.table.lower() else row.row
    if "pooled" in row.table:
        name += ", all strata pooled"
    if row.posterior:
        return f"Under {name}: {' to '.join(row.verdicts)} (probability {bracket_text(row.low, row.high)}; {where})."
    return f"Under {name}: {where}; a confidence interval, not a probability."


def uncertainty_lines(check: ClaimCheck, caveats: bool = True) -> list[str]:
    """What the verdict rests on: the sensitivity rows that disagree with it, and the serious warnings
    (their texts with ``caveats``; else a pointer to the report's warnings). Lines that start with two
    spaces belong to the line before them (a list)."""
    lines: list[str] = []
    differing = check.disagreeing
    if differing:
        agree = len(check.rows) - len(differing)
        lines.append(f"The verdict depends on the assumptions: under {len(differing)} of the {len(check.rows)} other "
                     f"rows of the report's sensitivity tables it is different{f' ({agree} agree)' if agree else ''}:")
        lines += ["  " + row_sentence(check, row) for row in differing]
    elif check.rows:
        lines.append(f"The other {len(check.rows)} rows of the report's sensitivity tables give the same verdict.")
    if check.caveats and caveats:
        lines.append(f"Read it with the result's serious {'warning' if len(check.caveats) == 1 else 'warnings'}:")
        lines += [f"  SERIOUS: {caveat}" for caveat in check.caveats]
    elif check.caveats:
        lines.append(f"Read it with the result's {len(check.caveats)} serious "
                     f"{'warning' if len(check.caveats) == 1 else 'warnings'} (under Warnings).")
    return lines


def claim_lines(check: ClaimCheck | Mapping[str, Any], context: bool = True, caveats: bool = True) -> list[str]:
    """The verdict sentence, with a population size the rates sentence, and (``context``) what the
    verdict rests on (:func:`uncertainty_lines`; ``caveats``: with the serious warnings' texts). A mapping is a check stored by
    :func:`~hiddenrate.analysis.claims.annotate_claims`; one saved with its sentences by an older
    version keeps them."""
    if isinstance(check, Mapping):
        if "sentence" in check:
            return [str(line) for line in (check["sentence"], check.get("rate_sentence")) if line]
        check = ClaimCheck.from_dict(check)
    rates = rate_sentence(check)
    return [claim_sentence(check)] + ([rates] if rates else []) + (uncertainty_lines(check, caveats) if context else [])


def claim_dict(check: ClaimCheck | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of a check (``hiddenrate claim --format json``, ``claims`` in a report):
    its numbers, the method in words and the sentences."""
    if isinstance(check, Mapping):
        if "sentence" in check:  # saved by an older version, words included
            return dict(check)
        check = ClaimCheck.from_dict(check)
    out: dict[str, Any] = {
        "value": check.value,
        "direction": check.direction,
        "probability": check.probability,
        "verdict": check.verdict,
        "method": method_text(check),
        "sentence": claim_sentence(check),
        "level": check.level,
        "interval": list(check.interval),
        "position": check.position,
        "draws": check.draws,
        "rows": [{**row.to_dict(), "sentence": row_sentence(check, row)} for row in check.rows],
        "verdict_depends_on_assumptions": bool(check.disagreeing),
        "caveats": list(check.caveats),
    }
    if check.target:
        out["target"] = dict(check.target)
    if check.population is not None:
        out["population"] = check.population
        out["rate_per"] = RATE_BASE
        out["claim_rate"] = check.claim_rate
        out["estimate_rate"] = list(check.estimate_rate) if check.estimate_rate is not None else None
        out["rate_sentence"] = rate_sentence(check)
    return out


__all__ = [
    "band_condition",
    "bands_note",
    "bracket_text",
    "claim_dict",
    "claim_lines",
    "claim_sentence",
    "claim_text",
    "format_probability",
    "method_text",
    "rate_sentence",
    "row_sentence",
    "uncertainty_lines",
    "verdict_bands_markdown",
]

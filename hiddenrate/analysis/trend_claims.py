r"""Claims about a trend: about the change between two periods, or about one period's total.

On a ``hiddenrate trend`` result, a claim names what it is about before the comparison:

* ``change<1``: the total fell from the first period to the last, :math:`P(N_{last}/N_{first} < 1)`;
  ``change<0.8``: it fell by more than 20%; ``change>1``: it rose.
* ``2013:2017<1``: the same for two named periods (the ratio is the second over the first).
* ``2017>=500``: the total in 2017 was at least 500 (``2017<=500``: at most).
* ``sum>=3000``: the sum over all periods (what a plain number such as ``3000`` checks).

The probability is the share of posterior draws that satisfy the claim (the ratio draw by draw
from the periods' draws, which are joint for the jointly fitted trend models, as the changes
table's are; docs/methods.md#change-over-time). Exact grids (model averaging per period) are
sampled with the result's seed, as the changes table samples them. ``<`` and ``>`` are strict,
``<=`` and ``>=`` are not: two periods' totals can be equal, so ``change<1`` and ``change<=1``
can differ. The verdict bands are those of :mod:`hiddenrate.analysis.claims`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np

from hiddenrate.analysis.claims import ClaimCheck, verdict
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.settings import headline_level
from hiddenrate.result.value import Result, StratumEstimate

#: draws taken from an exact grid posterior of one period (the changes table takes as many)
GRID_DRAWS = 20_000
_CLAIM = re.compile(r"^\s*(?P<target>[^<>=≤≥\s][^<>=≤≥]*?)\s*(?P<op><=|>=|<|>|≤|≥)\s*(?P<value>[0-9][0-9.,_]*)\s*$")
OPERATORS = {"<": "fewer than", "<=": "at most", ">": "more than", ">=": "at least", "≤": "at most", "≥": "at least"}
EXAMPLE = "'change<1' (the total fell from the first period to the last), '2017>=500' or '2013:2017<0.8'"


def is_targeted(text: str) -> bool:
    """True when ``text`` names a target before its comparison (``change<1``, ``2017>=500``)."""
    return isinstance(text, str) and _CLAIM.match(text) is not None


def is_trend(result: Result) -> bool:
    """True for a result of ``hiddenrate trend`` with its periods."""
    extra = result.extra if hasattr(result.extra, "get") else {}
    return result.command == "trend" and hasattr(extra.get("periods"), "get") and bool(result.strata)


def parse_targeted(text: str) -> tuple[str, str, float]:
    """``"2017>=500"`` -> ``("2017", ">=", 500.0)``.

    Raises
    ------
    ModelError
        When ``text`` is not ``TARGET OPERATOR NUMBER``.
    """
    match = _CLAIM.match(text)
    if match is None:
        raise ModelError(f"claim '{text}' should be TARGET<NUMBER or TARGET>=NUMBER on a trend, e.g. {EXAMPLE}")
    try:
        value = float(match["value"].replace(",", "").replace("_", ""))
    except ValueError:
        raise ModelError(f"claim '{text}': '{match['value']}' is not a number; e.g. {EXAMPLE}") from None
    op = {"≤": "<=", "≥": ">="}.get(match["op"], match["op"])
    return match["target"].strip(), op, value


def check_trend_claim(result: Result, text: str, *, level: float | None = None) -> ClaimCheck:
    """Check a targeted claim (see the module docstring) against a trend result.

    Raises
    ------
    ModelError
        The result is not a trend, the target names no period, or a ratio claim is not positive.
    """
    target, op, value = parse_targeted(text)
    if not is_trend(result):
        raise ModelError(f"claim '{text}' names a period or a change, but this result has no periods (only "
                         "`hiddenrate trend` results do); give a number such as 15000 or '<=15000'")
    level = float(level) if level is not None else headline_level(result.levels)
    labels = [str(x) for x in result.extra["periods"].get("labels", [])]
    rng = np.random.default_rng(result.seed if result.seed is not None else 0)
    lowered = target.lower()
    if lowered == "sum":
        draws, about = _draws(result.overall, rng), {"kind": "sum", "periods": len(labels)}
    elif lowered == "change" or ":" in target:
        start, end = (labels[0], labels[-1]) if lowered == "change" else [p.strip() for p in target.split(":", 1)]
        first, last = _period(result, start, labels, text), _period(result, end, labels, text)
        if value <= 0:
            raise ModelError(f"claim '{text}': a ratio of totals is compared with a number above 0, e.g. change<1")
        a, b = _draws(first, rng), _draws(last, rng)
        size = min(a.size, b.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = np.where(a[:size] > 0, b[:size] / np.maximum(a[:size], 1e-300), np.inf)
        about = {"kind": "change", "from": start, "to": end}
    else:
        draws, about = _draws(_period(result, target, labels, text), rng), {"kind": "period", "period": target}
    about["operator"] = op
    hits = {"<": draws < value, "<=": draws <= value, ">": draws > value, ">=": draws >= value}[op]
    probability = float(np.mean(hits))
    finite = draws[np.isfinite(draws)]
    interval = DrawsDistribution(finite).interval(level, result.interval_kind) if finite.size else (None, None)
    check = ClaimCheck(float(value), OPERATORS[op], probability, verdict(probability), "draws", level, interval,
                       draws=int(draws.size), estimate_type=result.estimate_type, unit=result.unit or "")
    return replace(check, target=about)


def _period(result: Result, label: str, labels: list[str], text: str) -> StratumEstimate:
    column = result.extra["periods"].get("column")
    matches = [s for s in result.strata if str(s.stratum.get(column)) == label]
    if len(matches) != 1 or matches[0].total is None:
        several = " (the result has several series: name the change per series in --compare)" if len(matches) > 1 else ""
        raise ModelError(f"claim '{text}': '{label}' is not a period of this result{several}; the periods are "
                         f"{', '.join(labels)}; e.g. {EXAMPLE}")
    return matches[0]


def _draws(estimate: StratumEstimate, rng: np.random.Generator) -> Any:
    total = estimate.total
    if isinstance(total, DrawsDistribution):
        return np.asarray(total.draws, dtype=float)
    if isinstance(total, GridDistribution):
        return np.asarray(total.sample(GRID_DRAWS, rng), dtype=float)
    raise ModelError("a claim about a period needs a posterior (draws or an exact grid), not a point estimate")


__all__ = ["EXAMPLE", "GRID_DRAWS", "check_trend_claim", "is_targeted", "is_trend", "parse_targeted"]

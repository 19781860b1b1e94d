"""Plain-language pieces shared by the text and Markdown renderers."""

from __future__ import annotations

from hiddenrate.render import numbers as fmt
from hiddenrate.results import Result, StratumEstimate


def people(result: Result) -> str:
    """What is counted: the unit if given, else 'people'."""
    return result.unit or "people"


def observed_phrase(result: Result) -> str:
    """How the observed were observed: on a list, caught, or recorded."""
    kind = result.input.get("format") if isinstance(result.input, dict) else None
    if kind == "lists":
        return "on at least one list"
    if kind == "number of captures":
        return "caught at least once"
    return "recorded"


def headline_rows(result: Result, estimate: StratumEstimate) -> list[tuple[str, str, list[str]]]:
    """(label, value, [interval per level]) rows of the headline table."""
    rows: list[tuple[str, str, list[str]]] = []
    noun = people(result)
    rows.append((f"Observed ({noun} {observed_phrase(result)})", fmt.count(estimate.observed), []))
    if estimate.total is None:
        return rows
    labels = {
        "total": ("Estimated total", fmt.count),
        "hidden": ("Never recorded (hidden)", fmt.count),
        "observed_share": ("Share recorded", fmt.share),
    }
    for name, (label, formatter) in labels.items():
        dist = estimate.quantity(name)
        if dist is None:
            continue
        intervals = [fmt.interval(dist.interval(level, result.interval_kind), formatter) for level in result.levels]
        rows.append((label, formatter(dist.median()), intervals))
    return rows


def main_level(result: Result) -> float:
    """The level quoted in sentences: 95% when computed, else the widest."""
    return 0.95 if any(abs(x - 0.95) < 1e-9 for x in result.levels) else max(result.levels)


def sentence(result: Result, estimate: StratumEstimate) -> str:
    """One plain sentence: observed, estimate with interval, share never recorded."""
    noun = people(result)
    observed = f"{fmt.count(estimate.observed)} {noun} were {observed_phrase(result)}."
    if estimate.total is None:
        return f"{observed} No estimate of the total: {estimate.reason}."
    level = main_level(result)
    total = estimate.total
    lower, upper = total.interval(level, result.interval_kind)
    share = estimate.quantity("observed_share")
    share_median = share.median() if share is not None else None
    never = None if share_median is None else 1 - float(share_median)
    if upper is None:
        span = f"at least {fmt.count(lower)}, with no upper bound from the data"
    else:
        span = f"{fmt.level(level)} interval {fmt.count(lower)} to {fmt.count(upper)}"
    text = f"{observed} We estimate {fmt.count(total.median())} in all ({span})"
    if never is not None:
        text += f"; about {fmt.share(never)} were never recorded."
    else:
        text += "."
    return text


def diagnostics_line(estimate: StratumEstimate) -> str:
    """Diagnostics in one line."""
    d = estimate.diagnostics
    parts = [d.method]
    if d.rhat_max is not None:
        parts.append(f"R-hat max {d.rhat_max:.3f}")
    if d.ess_bulk_min is not None and d.rhat_max is not None:
        parts.append(f"ESS min {d.ess_bulk_min:,.0f} (bulk) / {d.ess_tail_min or 0:,.0f} (tail)")
    if d.divergences is not None:
        parts.append(f"{d.divergences} divergences")
    status = "converged" if d.converged else "DID NOT CONVERGE"
    return f"{'; '.join(parts)} — {status}"


def reported(result: Result) -> str:
    """What the numbers are: estimate type and interval type (with its kind for posteriors)."""
    if result.estimate_type.startswith("posterior"):
        return f"{result.estimate_type}; {result.interval_kind} {result.interval_type}"
    return f"{result.estimate_type}; {result.interval_type}"

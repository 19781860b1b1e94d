"""Rounding for display: counts as whole numbers with thousands separators, shares as percents."""

from __future__ import annotations

from hiddenrate.core.distributions import Interval


def count(value: float | None) -> str:
    """``12208.57`` -> ``12,209``; ``None`` -> ``—``."""
    if value is None:
        return "—"
    return f"{value:,.0f}"


def share(value: float | None) -> str:
    """``0.2248`` -> ``22%``; below 10% one decimal (``7.7%``)."""
    if value is None:
        return "—"
    percent = 100 * value
    if 0 < abs(percent) < 10:
        return f"{percent:.1f}%"
    return f"{percent:.0f}%"


def level(value: float) -> str:
    """``0.95`` -> ``95%``."""
    return f"{100 * value:g}%"


def interval(ends: Interval, fmt: object = count, sep: str = " to ") -> str:
    """``(1, 2)`` -> ``1 to 2``; a missing upper end reads ``no upper bound``."""
    lower, upper = ends
    formatter = fmt if callable(fmt) else count
    if upper is None:
        return f"{formatter(lower)}{sep}no upper bound" if lower is not None else "not available"
    if lower is None:
        return f"not available{sep}{formatter(upper)}"
    return f"{formatter(lower)}{sep}{formatter(upper)}"


def number(value: object, digits: int = 3) -> str:
    """Generic table cell: ints with separators, floats to ``digits`` significant figures."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # nan
            return "—"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)

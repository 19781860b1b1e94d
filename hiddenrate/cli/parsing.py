"""Parse option values given as text (pairs, names), with messages that say the right form.

``--prior`` is read by :func:`hiddenrate.core.priors.parse_prior_option`, the one prior parser.
"""

from __future__ import annotations

import click


def two_numbers(text: str) -> tuple[float, float]:
    """``"0.7,0.3"`` -> ``(0.7, 0.3)``; ValueError unless exactly two numbers separated by a comma."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ValueError(text)
    return float(parts[0]), float(parts[1])


def parse_pair(text: str | None, option: str, example: str) -> tuple[float, float] | None:
    """``"0.7,0.3"`` -> ``(0.7, 0.3)``."""
    if text is None:
        return None
    try:
        return two_numbers(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not two numbers separated by a comma, e.g. {example}", param_hint=option) from None


def parse_names(text: str | None) -> list[str] | None:
    """``"A,B, C"`` -> ``["A", "B", "C"]``."""
    if text is None:
        return None
    names = [p.strip() for p in text.split(",") if p.strip()]
    return names or None

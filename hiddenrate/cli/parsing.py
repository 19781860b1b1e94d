"""Parse option values given as text (pairs, priors), with messages that say the right form."""

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


def parse_priors(items: tuple[str, ...]) -> dict[str, dict[str, float]] | None:
    """``("main=0,5", "interaction:0,1=0.5,0.3")`` -> ``{"main": {"mu": 0, "sigma": 5}, ...}``."""
    if not items:
        return None
    out: dict[str, dict[str, float]] = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"'{item}' should be NAME=MU,SIGMA, e.g. main=0,5", param_hint="--prior")
        name, _, value = item.rpartition("=")
        pair = parse_pair(value, "--prior", "main=0,5")
        if pair is None:
            continue
        out[name.strip()] = {"mu": pair[0], "sigma": pair[1]}
    return out

"""Turn a :class:`~hiddenrate.result.value.Result` into text, JSON, CSV, Markdown or HTML.

Renderers only format: every number comes from the result, rounded here and nowhere else.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hiddenrate.core.exceptions import ModelError

if TYPE_CHECKING:
    from hiddenrate.result.value import Result

FORMATS = ("text", "json", "csv", "markdown", "html")

#: Each format's renderer as (module, function); only the one asked for is imported, so a text
#: answer does not wait for the HTML page's code (the start-up targets in benchmarks/README.md).
RENDERERS = {
    "text": ("hiddenrate.render.text", "render_text"),
    "json": ("hiddenrate.render.jsonfmt", "render_json"),
    "csv": ("hiddenrate.render.csvfmt", "render_csv"),
    "markdown": ("hiddenrate.render.markdown", "render_markdown"),
    "html": ("hiddenrate.render.html", "render_html"),
}


def prepare(
    result: Result,
    *,
    suppress_below: int | None = None,
    claims: Sequence[float | str] = (),
    population: float | None = None,
) -> Result:
    """The result as it will be published: with claim checks attached and small counts hidden.

    Parameters
    ----------
    result
        A fitted or loaded result.
    suppress_below
        Hide counts of cells and strata below this number (see :mod:`hiddenrate.analysis.suppression`).
    claims
        Claimed totals to check: numbers (at least) or text such as ``"<=15000"`` (at most).
    population
        Population size: claim checks also give rates per 100,000 people.
    """
    from hiddenrate.analysis.claims import annotate_claims, check_claim, parse_claim
    from hiddenrate.analysis.suppression import suppress_result

    from hiddenrate.analysis.trend_claims import check_trend_claim, is_targeted, is_trend

    checks = []
    for claim in claims:
        if isinstance(claim, str) and is_targeted(claim):  # 'change<1', '2017>=500' (trends)
            checks.append(check_trend_claim(result, claim))
            continue
        value, direction = parse_claim(claim) if isinstance(claim, str) else (float(claim), "at least")
        check = check_claim(result, value, direction=direction, population=population)
        if is_trend(result):  # a plain number on a trend is about the sum over the periods: say so
            check = replace(check, target={"kind": "sum", "periods": len(result.extra["periods"].get("labels", []))})
        checks.append(check)
    if not checks and population is not None:
        raise ModelError("--population-size gives rates for a claim check; add --claim VALUE")
    prepared = annotate_claims(result, checks) if checks else result
    if suppress_below is not None:
        prepared = suppress_result(prepared, suppress_below)
    return prepared


def render(
    result: Result,
    fmt: str = "text",
    *,
    suppress_below: int | None = None,
    claims: Sequence[float | str] = (),
    population: float | None = None,
    table: str | None = None,
) -> str:
    """Render ``result`` in one of :data:`FORMATS` (after :func:`prepare` when claims or
    suppression are asked for); with ``table`` (CSV only) one model table instead of the summary
    (see :func:`~hiddenrate.render.csvfmt.render_table_csv`)."""
    if suppress_below is not None or claims or population is not None:
        result = prepare(result, suppress_below=suppress_below, claims=claims, population=population)
    if table is not None:
        if fmt != "csv":
            raise ModelError(f"--table picks a table for --format csv; the {fmt} format already shows every table")
        from hiddenrate.render.csvfmt import render_table_csv

        return render_table_csv(result, table)
    if fmt not in RENDERERS:
        raise ModelError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    module, function = RENDERERS[fmt]
    return str(getattr(importlib.import_module(module), function)(result))


__all__ = ["FORMATS", "prepare", "render"]

"""Turn a :class:`~hiddenrate.result.value.Result` into text, JSON, CSV, Markdown or HTML.

Renderers only format: every number comes from the result, rounded here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from hiddenrate.core.exceptions import ModelError
from hiddenrate.render.csvfmt import render_csv, render_table_csv
from hiddenrate.render.html import render_html
from hiddenrate.render.jsonfmt import render_json
from hiddenrate.render.markdown import render_markdown
from hiddenrate.render.text import render_text
from hiddenrate.result.value import Result

FORMATS = ("text", "json", "csv", "markdown", "html")


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

    checks = []
    for claim in claims:
        value, direction = parse_claim(claim) if isinstance(claim, str) else (float(claim), "at least")
        checks.append(check_claim(result, value, direction=direction, population=population))
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
        return render_table_csv(result, table)
    renderers = {"text": render_text, "json": render_json, "csv": render_csv, "markdown": render_markdown,
                 "html": render_html}
    if fmt not in renderers:
        raise ModelError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    return renderers[fmt](result)


__all__ = ["FORMATS", "prepare", "render"]

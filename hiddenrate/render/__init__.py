"""Turn a :class:`~hiddenrate.results.Result` into text, JSON, CSV or Markdown.

Renderers only format: every number comes from the result, rounded here and nowhere else.
"""

from __future__ import annotations

from hiddenrate.exceptions import ModelError
from hiddenrate.render.csvfmt import render_csv
from hiddenrate.render.jsonfmt import render_json
from hiddenrate.render.markdown import render_markdown
from hiddenrate.render.text import render_text
from hiddenrate.results import Result

FORMATS = ("text", "json", "csv", "markdown")


def render(result: Result, fmt: str = "text") -> str:
    """Render ``result`` in one of :data:`FORMATS`."""
    renderers = {"text": render_text, "json": render_json, "csv": render_csv, "markdown": render_markdown}
    if fmt not in renderers:
        raise ModelError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    return renderers[fmt](result)


__all__ = ["FORMATS", "render"]

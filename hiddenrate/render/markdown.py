"""Markdown: the same content as the HTML report (see :mod:`hiddenrate.render.document`),
as headed sections and pipe tables; figures are embedded as SVG ``data:`` images."""

from __future__ import annotations

import re

from hiddenrate.render.document import Bullets, Figure, Paragraph, Section, Table, build_document, title
from hiddenrate.result.value import Result

_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def escape(text: str) -> str:
    """Make ``text`` literal in Markdown: no emphasis, links, tables or HTML from the input."""
    one_line = " ".join(str(text).splitlines())
    return _TAG.sub(r"\\<", _SPECIAL.sub(r"\\\1", one_line))


def _table(table: Table) -> list[str]:
    lines: list[str] = []
    if table.title:
        lines += [f"### {escape(table.title)}", ""]
    lines.append("| " + " | ".join(escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in table.rows]
    if table.note:
        lines += ["", escape(table.note)]
    return lines


def _section(section: Section) -> list[str]:
    out = [f"## {escape(section.title)}", ""]
    for block in section.blocks:
        if isinstance(block, Paragraph):
            text = escape(block.text)
            if block.role == "summary":
                text = f"**{text}**"
            elif block.role in ("alert", "caveat"):
                text = f"> **{text}**" + (" [All warnings](#warnings)" if block.role == "caveat" else "")
            out.append(text)
        elif isinstance(block, Bullets):
            out += [f"- {escape(item)}" for item in block.items]
        elif isinstance(block, Table):
            out += _table(block)
        elif isinstance(block, Figure):
            figure = block.figure
            out += [f"### {escape(figure.title)}", "", f"![{escape(figure.alt)}]({figure.data_uri()})", "",
                    f"*{escape(figure.caption)}*"]
        out.append("")
    return out


def render_markdown(result: Result, figures: bool = True) -> str:
    """Render a result as Markdown (figures embedded unless ``figures=False``)."""
    out = [f"# {escape(title(result))}", ""]
    for section in build_document(result, figures=figures):
        out += _section(section)
    return "\n".join(out).rstrip("\n") + "\n"

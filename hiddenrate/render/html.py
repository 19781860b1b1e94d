"""HTML: one self-contained page to read, print and cite.

The page holds everything: styles inline, figures as SVG ``data:`` images, no script. Its
Content-Security-Policy (``default-src 'none'; img-src data:; style-src 'unsafe-inline'``)
forbids the browser to load anything from anywhere, so the report works offline and opening it
sends no request. Every piece of text is escaped: list names, stratum values and file names
come from the input and may contain anything.
"""

from __future__ import annotations

import html
import re

from hiddenrate.render.document import Bullets, Figure, Paragraph, Section, Table, build_document, title
from hiddenrate.result.value import Result

#: the page's Content-Security-Policy: nothing may be loaded but inline styles and data: images
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_NUMERIC = re.compile(r"^[\d<−—-]|^hidden$|%$")

_STYLE = """
:root { --ink: #1d2733; --muted: #5b6b7b; --line: #d5dde5; --accent: #1f5f99; --alert: #9b1c1c; --paper: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: var(--ink);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 100rem; margin: 0 auto; padding: 2rem 2.5rem 3rem; background: var(--paper); }
p, ul { max-width: 60rem; }
h1 { font-size: 1.55rem; margin: 0 0 .25rem; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, .note, figcaption { color: var(--muted); font-size: .9rem; }
p.summary { font-size: 1.25rem; line-height: 1.45; padding: .9rem 1.1rem; margin: .5rem 0;
            border-left: 5px solid var(--accent); background: #eef4fa; }
p.claim { font-size: 1.1rem; padding: .6rem 1rem; border-left: 5px solid #6b4fa0; background: #f3f0f8; margin: .4rem 0; }
p.alert { color: var(--alert); font-weight: 600; padding: .5rem .9rem; border: 2px solid var(--alert);
          background: #fdf2f2; margin: .5rem 0; }
ul.warning li { color: var(--alert); margin: .25rem 0; }
p.caveat { color: var(--alert); font-weight: 600; padding: .5rem 1.1rem; margin: -.3rem 0 .5rem;
           border-left: 5px solid var(--alert); background: #fdf2f2; }
p.caveat a { color: inherit; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .65rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
table.headline { font-size: 1rem; }
table.headline td:first-child { font-weight: 600; }
table.provenance td:first-child { white-space: nowrap; color: var(--muted); }
table.provenance td { word-break: break-all; }
figure { margin: 1rem 0 1.5rem; }
figure img { display: block; width: 100%; max-width: 64rem; height: auto; }
.table-wrap { overflow-x: auto; max-width: 100%; }
details > summary { cursor: pointer; color: var(--accent); margin: .3rem 0; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .6rem; }
@media print {
  body { background: none; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, table, p.summary, p.caveat, p.claim, p.alert { break-inside: avoid; }
  @page { margin: 16mm 14mm; }
}
"""


#: tables with more rows than this are folded (``<details>``) under their title
LONG_TABLE = 20


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(table: Table) -> list[str]:
    out: list[str] = []
    if table.title:
        out.append(f"<h3>{_e(table.title)}</h3>")
    classes = " ".join(c for c in (table.key,) if c)
    attributes = f' id="{_e(table.key)}"' if table.key else ""
    attributes += f' class="{_e(classes)}"' if classes else ""
    long = len(table.rows) > LONG_TABLE
    if long:  # a 64-row pattern table would push everything after it out of sight: folded, one click away
        out.append(f"<details><summary>Show all {len(table.rows):,} rows</summary>")
    out.append(f'<div class="table-wrap"><table{attributes}>')
    if any(table.columns):
        out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in table.columns) + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            numeric = i > 0 and bool(_NUMERIC.search(cell.strip())) and len(cell) < 40
            cells.append(f'<td class="num">{_e(cell)}</td>' if numeric else f"<td>{_e(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    if long:
        out.append("</details>")
    if table.note:
        out.append(f'<p class="note">{_e(table.note)}</p>')
    return out


def _section(section: Section) -> list[str]:
    out = [f'<section id="{_e(section.key)}">', f"<h2>{_e(section.title)}</h2>"]
    for block in section.blocks:
        if isinstance(block, Paragraph):
            role = f' class="{_e(block.role)}"' if block.role else ""
            ident = ' id="summary-sentence"' if block.role == "summary" else ""
            link = ' <a href="#warnings">All warnings</a>' if block.role == "caveat" else ""
            out.append(f"<p{ident}{role}>{_e(block.text)}{link}</p>")
        elif isinstance(block, Bullets):
            role = f' class="{_e(block.role)}"' if block.role else ""
            out.append(f"<ul{role}>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            out.extend(_table(block))
        elif isinstance(block, Figure):
            figure = block.figure
            out.append(f'<figure class="figure" data-figure="{_e(figure.key)}">')
            out.append(f"<h3>{_e(figure.title)}</h3>")
            out.append(f'<img src="{figure.data_uri()}" alt="{_e(figure.alt)}">')
            out.append(f"<figcaption>{_e(figure.caption)}</figcaption>")
            out.append("</figure>")
    out.append("</section>")
    return out


def render_html(result: Result) -> str:
    """Render a result as one self-contained HTML page (no network, prints well)."""
    heading = title(result)
    version = result.provenance.get("hiddenrate_version", "") if hasattr(result.provenance, "get") else ""
    created = result.provenance.get("created", "") if hasattr(result.provenance, "get") else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="hiddenrate {_e(version)}">',
        f"<title>{_e(heading)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="meta">hiddenrate {_e(version)} · {_e(result.command)} · {_e(result.model_name)} · {_e(created)}</p>',
        "</header>",
    ]
    for section in build_document(result):
        out.extend(_section(section))
    out += [
        "<footer>Made by hiddenrate: aggregates only, no individual records. This page loads nothing from the "
        "network.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


__all__ = ["CSP", "render_html"]

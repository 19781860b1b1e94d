"""Plain text for the terminal: readable by a non-statistician, complete for a statistician."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from hiddenrate.core.settings import headline_level
from hiddenrate.render import numbers as fmt
from hiddenrate.render.caveats import WARNINGS_TITLE, headline_caveat, warning_lines
from hiddenrate.render.model_words import model_words
from hiddenrate.render.tables import LaidOut, model_tables, report_level
from hiddenrate.render.trend_headline import trend_headline_rows, trend_sentence
from hiddenrate.render.words import (
    claim_lines,
    count_text,
    diagnostics_line,
    headline_rows,
    heterogeneity_alert,
    heterogeneity_line,
    reported,
    rerun_words,
    sentence,
    stratum_rows,
    suppression_note,
)
from hiddenrate.result.value import Result, StratumEstimate

WIDTH = 100


def _wrap(text: str, indent: str = "", first: str | None = None) -> str:
    return textwrap.fill(
        text, width=WIDTH, initial_indent=first if first is not None else indent, subsequent_indent=indent
    )


#: a text column is never wrapped narrower than this
MIN_WRAPPED = 24
#: text columns are narrowed to this before any header is wrapped
COMFORTABLE = 36


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in "-−—" or text.endswith("%"))


def _fitted_widths(columns: list[str], rows: list[list[str]], indent: str) -> list[int]:
    """Column widths that fit :data:`WIDTH`, narrowed a character at a time, widest first: text columns
    down to :data:`COMFORTABLE`, then headers wider than their numbers (down to the longest word), then
    text columns down to :data:`MIN_WRAPPED`. Cells and headers wrap; numbers never do."""
    cells = [max((len(str(r[i])) for r in rows), default=0) for i in range(len(columns))]
    widths = [max(len(str(c)), cells[i]) for i, c in enumerate(columns)]
    text_columns = [i for i in range(len(columns))
                    if any(str(r[i]).strip() and not _numeric(str(r[i])) for r in rows)]

    def too_wide() -> bool:
        return len(indent) + sum(widths) + 2 * (len(widths) - 1) > WIDTH

    def narrow_text(least: int) -> None:
        while too_wide():
            wide = [i for i in text_columns if widths[i] > least]
            if not wide:
                return
            widths[max(wide, key=lambda j: widths[j])] -= 1

    narrow_text(COMFORTABLE)
    floors = [max(cells[i], *(len(word) for word in _joined(str(c)).split(" ")), 1) for i, c in enumerate(columns)]
    while too_wide():
        spare = [i for i in range(len(columns)) if i not in text_columns and widths[i] > floors[i]]
        if not spare:
            break
        widths[max(spare, key=lambda j: widths[j] - floors[j])] -= 1
    narrow_text(MIN_WRAPPED)
    return widths


def _wrapped(cell: str, width: int) -> list[str]:
    return textwrap.wrap(cell, width) or [""] if len(cell) > width else [cell]


def _joined(header: str) -> str:
    """A header with "95% lower" and the like held together (a no-break space) when it wraps."""
    return re.sub(r"%\s+", "%\u00a0", header)


#: what starts the line of a model in words, under the row of its notation
WORDS_MARK = "= "


def _grid(columns: list[str], rows: list[list[str]], indent: str = "  ",
          below: list[str | None] | None = None) -> list[str]:
    """The table, every cell wrapped to fit :data:`WIDTH`; a row's ``below`` text (a model in words)
    follows it on lines of its own, across the whole width."""
    widths = _fitted_widths(columns, rows, indent)
    heads = [[part.replace("\u00a0", " ") for part in _wrapped(_joined(str(c)), w)]
             for c, w in zip(columns, widths, strict=True)]
    depth = max(len(h) for h in heads)
    lines = [indent + "  ".join((h[k] if k < len(h) else "").ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip()
             for k in range(depth)]
    lines.append(indent + "  ".join("-" * w for w in widths))
    for index, row in enumerate(rows):
        wrapped = [_wrapped(str(cell), width) for cell, width in zip(row, widths, strict=True)]
        for k in range(max(len(w) for w in wrapped)):  # a wrapped cell continues on the next lines
            cells = []
            for i, (parts, width) in enumerate(zip(wrapped, widths, strict=True)):
                text = parts[k] if k < len(parts) else ""
                cells.append(text.rjust(width) if i > 0 and _numeric(text) and k == 0 else text.ljust(width))
            lines.append(indent + "  ".join(cells).rstrip())
        words = below[index] if below and index < len(below) else None
        if words:  # "A with B" kept on one line
            inner = indent + "  "
            held = _wrap(words.replace(" with ", "\u00a0with\u00a0"), indent=inner + " " * len(WORDS_MARK),
                         first=inner + WORDS_MARK)
            lines.append(held.replace("\u00a0", " "))
    return lines


def _headline(result: Result, estimate: StratumEstimate) -> list[str]:
    rows = trend_headline_rows(result, result.levels, lambda v: count_text(result, v)) or headline_rows(result, estimate)
    columns = ["", "estimate"] + [f"{fmt.level(level)} interval" for level in result.levels]
    body = [[label, value, *(intervals or [""] * len(result.levels))] for label, value, intervals in rows]
    return _grid(columns, body)


def _tables(tables: list[LaidOut]) -> list[str]:
    lines: list[str] = []
    for table in tables:
        lines.append("")
        lines.append(table.title + ":")
        rows = [[fmt.number(c) for c in row] for row in table.rows]
        lines.extend(_grid(table.columns, rows, below=table.words))
        if table.note:
            lines.append(_wrap(table.note, indent="  "))
    return lines


def render_text(result: Result) -> str:
    """Render a result as plain text."""
    out: list[str] = []
    source = result.input.get("source") or "data"
    out.append(f"hiddenrate {result.provenance.get('hiddenrate_version', '')} · {result.command} · {source}")
    lists = result.input.get("lists")
    if lists:
        out.append(f"Lists ({len(lists)}): {', '.join(lists)}")
    if result.unit:
        out.append(f"Unit: {result.unit}")
    note = suppression_note(result)
    if note:
        out.append("")
        out.append(_wrap(note, indent="   ", first="** "))
    alert = heterogeneity_alert(result)
    if alert:
        out.append("")
        out.append(_wrap(alert, indent="!! ", first="!! "))
    if not result.converged:
        out.append("")
        out.append("!" * 78)
        out.append("!! THE FIT DID NOT CONVERGE: do not use these numbers as they stand.")
        for message in result.overall.diagnostics.messages:
            out.append(_wrap(message, indent="!!   ", first="!! - "))
        rerun = rerun_words(result)
        if rerun:
            out.append(_wrap(rerun, indent="!!   ", first="!! "))
        out.append("!" * 78)
    out.append("")
    overall = result.overall
    out.append(_wrap(trend_sentence(result, report_level(result)) or sentence(result, overall)))
    caveat = headline_caveat(result, f'under "{WARNINGS_TITLE}" below')
    if caveat:
        out.append(_wrap(caveat, indent="  ", first="! "))
    out.append("")
    out.extend(_headline(result, overall))
    claims = claim_lines(result)
    if claims:
        out.append("")
        out.append("Claim check:")
        for line in claims:
            nested = line.startswith("  ")
            out.append(_wrap(line.strip(), indent="      " if nested else "    ", first="    · " if nested else "  - "))
    if result.strata:
        out.append("")
        out.append(f"By stratum ({', '.join(result.input.get('by', []))}):")
        columns, rows = stratum_rows(result, headline_level(result.levels))
        out.extend(_grid(columns, rows[:-1]))
        for stratum in result.strata:
            if stratum.reason:
                out.append(_wrap(f"{stratum.label}: {stratum.reason}", indent="    ", first="  - "))
    out.extend(_warnings(result))
    out.append("")
    out.append(f"Model: {result.model_name} ({result.model})")
    out.append(_wrap(result.description, indent="  "))
    chosen = model_words(result.extra.get("model_structure"))
    if chosen:  # the model the --model choice fixes (a heterogeneity model, --terms), in words
        out.append(_wrap(f"In words: {chosen}.", indent="  "))
    out.append(
        _wrap(f"Reported: {reported(result)}.", indent="  ")
    )
    out.append("Assumptions:")
    for assumption in result.assumptions:
        out.append(_wrap(assumption, indent="    ", first="  - "))
    if result.priors:
        out.append("Priors:")
        for name, spec in result.priors.items():
            out.append(_wrap(f"{name}: {_spec(spec)}", indent="    ", first="  - "))
    out.extend(_tables(model_tables(result)))
    out.append("")
    out.append(_wrap("Diagnostics: " + diagnostics_line(overall), indent="  ", first=""))
    checked = heterogeneity_line(result, overall)
    if checked:
        out.append(_wrap(checked))
    out.append("")
    out.append(
        f"seed {result.seed} · hiddenrate {result.provenance.get('hiddenrate_version', '')} · "
        f"{result.provenance.get('created', '')}"
    )
    return "\n".join(out) + "\n"


def _warnings(result: Result) -> list[str]:
    """The warnings, most serious first, then the notes (minor: worth knowing, no reason to doubt the number)."""
    warnings, notes = warning_lines(result)
    out: list[str] = []
    if warnings:
        out += ["", f"{WARNINGS_TITLE} (most serious first):"]
        out += [_wrap(message, indent="    ", first="  ! ") for message in warnings]
    if notes:
        out += ["", "Notes:"]
        out += [_wrap(message, indent="    ", first="  · ") for message in notes]
    return out


def _spec(spec: Any) -> str:
    if isinstance(spec, dict):
        return ", ".join(f"{k}={v}" for k, v in spec.items())
    return str(spec)

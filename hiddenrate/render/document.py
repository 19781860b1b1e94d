"""The content of a report, once, for the HTML and Markdown renderers.

:func:`build_document` turns a result into titled sections of paragraphs, bullet lists, tables
and figures, in the order a reader needs them: the summary sentence with the most serious caveat
under it, the headline table, claim checks, the warnings, figures, what was observed, the model and
its assumptions, model details and sensitivity, diagnostics, provenance. The renderers only lay it out, so the HTML
and Markdown reports carry the same content. Text is plain (never markup): renderers escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hiddenrate.render import numbers as fmt
from hiddenrate.render import words
from hiddenrate.render.caveats import WARNINGS_TITLE, headline_caveat, warning_lines
from hiddenrate.render.claims import bands_note
from hiddenrate.render.model_words import model_words
from hiddenrate.render.tables import model_tables, with_words
from hiddenrate.result.value import Result


@dataclass(frozen=True)
class Paragraph:
    """Plain text; ``role`` is ``summary``, ``caveat`` (the line under the summary that names the most
    serious warning; renderers link it to the warnings), ``alert``, ``claim``, ``note`` or empty."""

    text: str
    role: str = ""


@dataclass(frozen=True)
class Bullets:
    """A bullet list; ``role`` is ``warning``, ``note`` or empty."""

    items: tuple[str, ...]
    role: str = ""


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells; ``key`` names it for readers and tests (``headline``)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str | None = None
    note: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Figure:
    """A figure (see :class:`hiddenrate.render.figures.ReportFigure`)."""

    figure: Any


Block = Paragraph | Bullets | Table | Figure


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``key`` is a stable id (``summary``, ``figures`` ...)."""

    key: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def title(result: Result) -> str:
    """``Hidden-population estimate: example uk-2013 (uk_modern_slavery_2013.csv)``."""
    source = result.input.get("source") if hasattr(result.input, "get") else None
    return f"Hidden-population estimate: {source or 'data'}"


def _table(columns: list[str], rows: list[list[str]], **kwargs: Any) -> Table:
    return Table(tuple(str(c) for c in columns), tuple(tuple(str(c) for c in row) for row in rows), **kwargs)


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else fmt.number(value)


def build_document(result: Result, figures: bool = True) -> list[Section]:
    """The sections of the report of ``result`` (figures drawn unless ``figures=False``)."""
    note = words.suppression_note(result)
    sections = [_summary(result, note), _estimate(result)]
    if words.claims(result):
        blocks: list[Block] = [block for check in words.claims(result) for block in _claim_blocks(check)]
        blocks.append(Paragraph(bands_note(), "note"))
        sections.append(Section("claims", "Checking a claimed figure", tuple(blocks)))
    sections.append(_warnings(result))
    if figures:
        from hiddenrate.render.figures import report_figures

        sections.append(Section("figures", "Figures", tuple(Figure(f) for f in report_figures(result))))
    observed = _observed(result)
    if observed:
        sections.append(Section("input", "What was observed", tuple(observed)))
    sections.append(_model(result))
    tables = model_tables(result)
    if tables:
        worded = [(t, *with_words(t)) for t in tables]  # a model's words in a column beside its notation
        details = tuple(_table(columns, [[_cell(c) for c in row] for row in rows], title=t.title,
                               note=t.note or None) for t, columns, rows in worded)
        sections.append(Section("details", "Model details and sensitivity", details))
    sections.append(_diagnostics(result))
    provenance: list[Block] = [_table(["", ""], words.provenance_rows(result), key="provenance")]
    if note:
        provenance.append(Paragraph(note, "note"))
    sections.append(Section("provenance", "Provenance", tuple(provenance)))
    return sections


def _claim_blocks(check: Any) -> list[Block]:
    """One claim check: its verdict, then what the verdict rests on (indented lines as a bullet list)."""
    from hiddenrate.render.claims import claim_lines

    blocks: list[Block] = []
    for line in claim_lines(check, caveats=False):
        if line.startswith("  "):
            last = blocks[-1] if blocks and isinstance(blocks[-1], Bullets) else None
            blocks[-1:] = [Bullets((*last.items, line.strip()))] if last else [*blocks[-1:], Bullets((line.strip(),))]
        else:
            blocks.append(Paragraph(line, "" if blocks else "claim"))
    return blocks


def _summary(result: Result, note: str | None) -> Section:
    summary: list[Block] = []
    if note:
        summary.append(Paragraph(note, "alert"))
    alert = words.heterogeneity_alert(result)
    if alert:
        summary.append(Paragraph(alert, "alert"))
    if not result.converged:
        summary.append(Paragraph("Warning: the fit did not converge. Do not use these numbers as they stand.", "alert"))
        summary.extend(Paragraph(m, "alert") for m in result.overall.diagnostics.messages)
        rerun = words.rerun_words(result)
        if rerun:
            summary.append(Paragraph(rerun, "alert"))
    from hiddenrate.render.tables import report_level
    from hiddenrate.render.trend_headline import trend_sentence

    lead = trend_sentence(result, report_level(result))
    summary.append(Paragraph(lead or words.sentence(result, result.overall), "summary"))
    caveat = headline_caveat(result)
    if caveat:
        summary.append(Paragraph(caveat, "caveat"))
    return Section("summary", "Summary", tuple(summary))


def _estimate(result: Result) -> Section:
    estimate: list[Block] = []
    from hiddenrate.render.trend_headline import trend_headline_rows

    rows = (trend_headline_rows(result, result.levels, lambda v: words.count_text(result, v))
            or words.headline_rows(result, result.overall))
    columns = ["", "estimate"] + [f"{fmt.level(level)} interval" for level in result.levels]
    body = [[label, value, *(intervals or [""] * len(result.levels))] for label, value, intervals in rows]
    unit = f"Counts are {words.people(result)}. " if result.unit else ""
    estimate.append(_table(columns, body, key="headline", note=f"{unit}Reported: {words.reported(result)}."))
    if result.strata:
        stratum_columns, stratum_rows = words.stratum_rows(result)
        by = ", ".join(str(b) for b in result.input.get("by", [])) if hasattr(result.input, "get") else ""
        estimate.append(_table(stratum_columns, stratum_rows, title=f"By stratum ({by})" if by else "By stratum",
                               key="strata"))
        for stratum in result.strata:
            if stratum.reason:
                estimate.append(Paragraph(f"{stratum.label}: {stratum.reason}", "note"))
    return Section("estimate", "The estimate", tuple(estimate))


def _observed(result: Result) -> list[Block]:
    observed: list[Block] = [Paragraph(n, "note") for n in words.input_notes(result)]
    lists = result.input.get("lists") if hasattr(result.input, "get") else None
    if lists:
        observed.insert(0, Paragraph(f"{len(lists)} lists: {', '.join(str(x) for x in lists)}."))
    for table_title, table_columns, table_rows, table_note in words.input_sections(result):
        observed.append(_table(table_columns, table_rows, title=table_title, note=table_note))
    return observed


def _model(result: Result) -> Section:
    model: list[Block] = [Paragraph(f"{result.model_name} ({result.model}). {result.description}")]
    chosen = model_words(result.extra.get("model_structure"))
    if chosen:  # the model the --model choice fixes (a heterogeneity model, --terms), in words
        model.append(Paragraph(f"In words: {chosen}."))
    model.append(Paragraph(f"Reported: {words.reported(result)}."))
    if result.assumptions:
        model.append(Paragraph("The answer rests on these assumptions:"))
        model.append(Bullets(tuple(result.assumptions)))
    if result.priors:
        model.append(Paragraph("Priors (what the model assumed before seeing the data):"))
        model.append(Bullets(tuple(f"{name}: {words.prior_text(spec)}" for name, spec in result.priors.items())))
    return Section("model", "Model, priors and assumptions", tuple(model))


def _diagnostics(result: Result) -> Section:
    diagnostics: list[Block] = [Paragraph(words.diagnostics_words(result)),
                                Paragraph("Diagnostics: " + words.diagnostics_line(result.overall), "note")]
    checked = words.heterogeneity_line(result, result.overall)
    if checked:
        diagnostics.append(Paragraph(checked, "note"))
    for stratum in result.strata:
        for message in stratum.diagnostics.messages:
            diagnostics.append(Paragraph(f"{stratum.label}: {message}", "alert"))
    return Section("diagnostics", "Diagnostics", tuple(diagnostics))


def _warnings(result: Result) -> Section:
    """Every warning, most serious first, then the notes: before the figures and the long tables."""
    warnings, notes = warning_lines(result)
    blocks: list[Block] = []
    if warnings:
        blocks += [Paragraph("Read these before using the numbers (most serious first)."), Bullets(tuple(warnings), "warning")]
    else:
        blocks.append(Paragraph("No warnings."))
    if notes:
        blocks += [Paragraph("Notes (worth knowing; no reason to doubt the number):"), Bullets(tuple(notes), "note")]
    return Section("warnings", WARNINGS_TITLE, tuple(blocks))


__all__ = ["Bullets", "Figure", "Paragraph", "Section", "Table", "build_document", "title"]

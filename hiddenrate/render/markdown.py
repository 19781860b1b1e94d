"""Markdown: the same content as the text report, as headed sections and tables."""

from __future__ import annotations

from typing import Any

from hiddenrate.render import numbers as fmt
from hiddenrate.render.words import diagnostics_line, headline_rows, reported, sentence
from hiddenrate.results import Result


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: Any) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(result: Result) -> str:
    """Render a result as Markdown."""
    out: list[str] = []
    source = result.input.get("source") or "data"
    out.append(f"# Hidden-population estimate: {source}")
    out.append("")
    if not result.converged:
        out.append("> **Warning: the fit did not converge. Do not use these numbers as they stand.**")
        for message in result.overall.diagnostics.messages:
            out.append(f"> - {message}")
        out.append("")
    out.append(sentence(result, result.overall))
    out.append("")
    rows = headline_rows(result, result.overall)
    columns = ["", "estimate"] + [f"{fmt.level(level)} interval" for level in result.levels]
    out += _table(columns, [[label, value, *(intervals or [""] * len(result.levels))] for label, value, intervals in rows])
    if result.strata:
        out += ["", f"## By stratum ({', '.join(result.input.get('by', []))})", ""]
        level = result.levels[-1]
        body = []
        for stratum in result.strata:
            if stratum.total is None:
                body.append([stratum.label, fmt.count(stratum.observed), "no estimate", stratum.reason or "", ""])
                continue
            share = stratum.quantity("observed_share")
            body.append(
                [
                    stratum.label,
                    fmt.count(stratum.observed),
                    fmt.count(stratum.total.median()),
                    fmt.interval(stratum.total.interval(level, result.interval_kind)),
                    fmt.share(share.median()) if share is not None else "",
                ]
            )
        out += _table(["stratum", "observed", "total", f"{fmt.level(level)} interval", "share recorded"], body)
    out += ["", "## Model", "", f"**{result.model_name}** (`{result.model}`). {result.description}", ""]
    out.append(f"Reported: {reported(result)}.")
    out += ["", "Assumptions:", ""]
    out += [f"- {a}" for a in result.assumptions]
    if result.priors:
        out += ["", "Priors:", ""]
        for name, spec in result.priors.items():
            text = ", ".join(f"{k}={v}" for k, v in spec.items()) if isinstance(spec, dict) else str(spec)
            out.append(f"- `{name}`: {text}")
    details = {**dict(result.extra), **dict(result.overall.details)}
    for table in details.get("tables", []):
        out += ["", f"### {table['title']}", ""]
        out += _table(list(table["columns"]), [[fmt.number(c) for c in row] for row in table["rows"]])
        if table.get("note"):
            out += ["", table["note"]]
    out += ["", "## Diagnostics", "", diagnostics_line(result.overall)]
    warnings = result.all_warnings()
    if warnings:
        out += ["", "## Warnings", ""]
        out += [f"- {w}" for w in warnings]
    prov = result.provenance
    out += [
        "",
        "## Provenance",
        "",
        f"hiddenrate {prov.get('hiddenrate_version', '')}; seed {result.seed}; created {prov.get('created', '')}; "
        f"input SHA-256 `{prov.get('input_sha256') or 'n/a'}`.",
    ]
    return "\n".join(out) + "\n"

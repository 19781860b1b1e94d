"""Words, tables and a figure for a design study (``hiddenrate design``)."""

from __future__ import annotations

import json
import math
from typing import Any

from hiddenrate.analysis.design.study import Candidate, DesignStudy, Estimate
from hiddenrate.render import numbers

#: simulated measure -> (column title, closed forms shown beside it, kind: share or number)
COLUMNS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "width": ("expected width", ("exact_width",), "number"),
    "relative_width": ("width / estimate", ("exact_relative_width", "delta_relative_width",
                                            "independence_relative_width"), "number"),
    "coverage": ("coverage", (), "share"),
    "target_met": ("meets target", ("exact_target_met",), "share"),
    "detected": ("power", ("delta_detected",), "share"),
    "no_estimate": ("no estimate", (), "share"),
    "last_year_coverage": ("last year's total covered", (), "share"),
    "with_divergences": ("fits with divergences", (), "share"),
}
DESCRIPTIONS = {
    "exact_width": "exact expectation of the exact model", "exact_relative_width": "exact expectation",
    "delta_relative_width": "delta method", "exact_target_met": "exact probability",
    "delta_detected": "delta method", "independence_relative_width": "independence model, Darroch's variance",
}


def _value(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return numbers.share(value) if kind == "share" else numbers.number(float(value))


def _cell(candidate: Candidate, key: str) -> str:
    _, closed, kind = COLUMNS[key]
    estimate: Estimate = candidate.simulated[key]
    text = f"{_value(estimate.value, kind)} ± {_value(estimate.se, kind)}"
    shown = [_value(candidate.closed_form.get(c), kind) for c in closed if c in candidate.closed_form]
    shown = [s for s in shown if s != "—"]
    return f"{text} ({', '.join(shown)})" if shown else text


def _shown(study: DesignStudy, name: str) -> bool:
    return any(c.closed_form.get(name) is not None for c in study.candidates)


def _keys(study: DesignStudy) -> list[str]:
    present = study.candidates[0].simulated
    keys = [k for k in COLUMNS if k in present]
    if all(c.simulated["no_estimate"].value == 0 for c in study.candidates if "no_estimate" in c.simulated):
        keys = [k for k in keys if k != "no_estimate"]
    return keys


def _title(study: DesignStudy, key: str) -> str:
    target = study.target
    if key == "target_met":
        return f"within ±{numbers.share(float(target['within']))}"
    if key == "detected" and target.get("change") == 0:
        return "false positives"
    return COLUMNS[key][0]


def _target_lines(study: DesignStudy) -> list[str]:
    target = study.target
    level = numbers.level(float(target["level"]))
    lines = [f"Intervals at {level}."]
    if "within" in target:
        within = numbers.share(float(target["within"]))
        lines.append(f"Target: the total within ±{within} of the estimate.")
        if "survey_needed_within" in target:
            needed = float(target["survey_needed_within"])
            lines[-1] += (f" The delta method says a survey of about {numbers.count(math.ceil(needed))} reaches it on "
                          "average." if math.isfinite(needed) else
                          " The delta method says no survey reaches it: the recorded count's own noise is larger.")
    if "change" in target:
        change = float(target["change"])
        fpr = numbers.share(float(target["false_positive_rate"]))
        if change == 0:
            lines.append(f"No change in incidence: 'detected' should fire at its stated false-positive rate, {fpr}.")
        else:
            word = "fall" if change < 0 else "rise"
            power = f" with {numbers.share(float(target['power']))} power" if "power" in target else ""
            lines.append(f"Target: detect a {numbers.share(abs(change))} {word}{power} "
                         f"(false-positive rate {fpr} when nothing changes).")
            if "survey_needed_change" in target:
                needed = float(target["survey_needed_change"])
                lines[-1] += (f" The delta method says a survey of about {numbers.count(math.ceil(needed))} per "
                              "period." if math.isfinite(needed) else
                              " The delta method says no survey size is enough: the recorded counts' own noise is "
                              "larger.")
    return lines


def _assumption_line(study: DesignStudy) -> str:
    parts = [f"{k.replace('_', ' ')} {numbers.number(v) if not isinstance(v, (tuple, list)) else ', '.join(map(str, v))}"
             for k, v in study.assumptions.items()]
    return "Assumed: " + "; ".join(parts) + "."


def render_text(study: DesignStudy) -> str:
    """A plain-text report: what was assumed, the target, one row per candidate."""
    keys = _keys(study)
    header = ["candidate", *[_title(study, k) for k in keys]]
    rows = [[c.label, *[_cell(c, k) for k in keys]] for c in study.candidates]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    closed = [f"{_title(study, k)}: {', '.join(DESCRIPTIONS[c] for c in COLUMNS[k][1] if _shown(study, c))}"
              for k in keys if any(_shown(study, c) for c in COLUMNS[k][1])]
    run = study.run
    heading = (f"Design study ({study.kind}, fitted with the {study.model} model): "
               f"{study.assumptions.get('replicates', '?')} replicates {run.get('where', '')}"
               f" in {numbers.number(float(run.get('seconds', float('nan'))))} s.")
    lines = [heading,
             _assumption_line(study), *_target_lines(study), "", *table, "",
             "± is one Monte Carlo standard error."]
    if closed:
        lines.append("In brackets, closed forms (" + "; ".join(closed) + ").")
    lines.extend(study.notes)
    return "\n".join(lines) + "\n"


def render_json(study: DesignStudy) -> str:
    return json.dumps(_clean(study.as_dict()), indent=2) + "\n"


def render_csv(study: DesignStudy) -> str:
    keys = _keys(study)
    closed = sorted({c for cand in study.candidates for c in cand.closed_form})
    header = ["candidate", *[f"{k}{suffix}" for k in keys for suffix in ("", "_se")], *closed]
    lines = [",".join(header)]
    for c in study.candidates:
        simulated = [repr(float(getattr(c.simulated[k], f))) for k in keys for f in ("value", "se")]
        shown = ["" if c.closed_form.get(name) is None else repr(float(c.closed_form[name] or 0.0)) for name in closed]
        cells = [c.label, *simulated, *shown]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


RENDERERS = {"text": render_text, "json": render_json, "csv": render_csv}


def plot_design(study: DesignStudy, path: str) -> None:
    """Simulated measures (with ±2 Monte Carlo errors) against the candidates, closed forms as lines."""
    from hiddenrate.render.plots import _pyplot

    plt = _pyplot()
    keys = [k for k in _keys(study) if k in ("relative_width", "coverage", "target_met", "detected")]
    figure, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), squeeze=False)
    x = list(range(len(study.candidates)))
    for ax, key in zip(axes[0], keys, strict=True):
        values = [c.simulated[key].value for c in study.candidates]
        errors = [2 * c.simulated[key].se for c in study.candidates]
        ax.errorbar(x, values, yerr=errors, fmt="o", color="black", capsize=3, label="simulated (±2 MC s.e.)")
        for name, style in zip(COLUMNS[key][1], ("-", "--"), strict=False):
            line = [c.closed_form.get(name) for c in study.candidates]
            if any(v is not None for v in line):
                ax.plot(x, [float("nan") if v is None else v for v in line], style, label=DESCRIPTIONS[name])
        if key == "coverage":
            ax.axhline(float(study.target["level"]), color="grey", lw=0.8)
        ax.set_title(_title(study, key))
        ax.set_xticks(x, [c.label.replace("survey of ", "") for c in study.candidates], rotation=30)
        ax.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


__all__ = ["RENDERERS", "plot_design", "render_csv", "render_json", "render_text"]

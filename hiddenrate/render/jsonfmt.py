"""JSON: the machine-readable contract (see :meth:`hiddenrate.result.value.Result.to_dict`)."""

from __future__ import annotations

import json
from typing import Any

from hiddenrate.result.value import Result


def payload(result: Result) -> dict[str, Any]:
    """The JSON object: :meth:`Result.to_dict`, with the caveat line a report shows under its headline
    (``caveat``: the most serious warning, ``null`` without warnings), claim checks (``claims``) and publication
    safety (``suppression``, counts hidden as ``"<k"`` or ``"hidden"``) at the top level when
    the result carries them, and every model of lists in words beside its notation (``model_words``;
    :func:`worded`)."""
    from hiddenrate.analysis.suppression import suppress_payload
    from hiddenrate.render.caveats import headline_caveat
    from hiddenrate.render.words import at_least, heterogeneity_alert

    data = worded(result.to_dict(), result.extra.get("model_structure"))
    data["caveat"] = headline_caveat(result, 'in "caveats"')
    alert = heterogeneity_alert(result)
    if alert:  # first, where a reader of the JSON looks first; the numbers stay in details["heterogeneity"]
        bound = at_least(result, result.overall)
        data = {"alerts": [{"code": "heterogeneity", "message": alert,
                            "at_least": None if bound is None else bound[0],
                            "level": None if bound is None else bound[1]}], **data}
    details = data.get("details")
    if isinstance(details, dict) and isinstance(details.get("changes"), list):
        details["changes"] = _worded_changes(details["changes"], details.get("tables", []), result)
        from hiddenrate.render.trend_headline import headline_json, trend_sentence
        from hiddenrate.render.tables import report_level

        change = headline_json(result)
        if change is not None:  # a trend answers first: the change (added; `total` stays the sum over periods)
            data["change"] = {**change, "sentence": trend_sentence(result, report_level(result))}
    if isinstance(details, dict) and "claims" in details:
        from hiddenrate.render.claims import claim_dict

        data["claims"] = [claim_dict(c) if isinstance(c, dict) else c for c in details.pop("claims")]
    if isinstance(details, dict) and "suppression" in details:
        data = suppress_payload(data)
        data["details"].pop("suppression", None)
    return data


def _beside(row: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    """``row`` with ``key: value`` right after ``after`` (at the end when ``after`` is missing)."""
    out: dict[str, Any] = {}
    for name, cell in row.items():
        out[name] = cell
        if name == after:
            out[key] = value
    out.setdefault(key, value)
    return out


def _worded_details(details: Any) -> Any:
    """``details`` with each model in words: ``model_words`` after the fitted model's ``terms`` (or
    Rcapture label), after ``model`` in every row of ``model_sensitivity`` and ``top_graphs``, and
    after ``rows`` (one a row) in a table of models."""
    from hiddenrate.render.model_words import model_words, row_words

    if not isinstance(details, dict):
        return details
    out = dict(details)
    if isinstance(out.get("structure"), dict):
        out = _beside(out, "terms" if "terms" in out else "rcapture", "model_words", model_words(out["structure"]))
    if isinstance(out.get("tables"), list):
        out["tables"] = [_beside(t, "rows", "model_words", row_words(t["facts"]["models"], len(t.get("rows", []))))
                         if isinstance(t, dict) and isinstance(t.get("facts"), dict) and "models" in t["facts"] else t
                         for t in out["tables"]]
    for key in ("model_sensitivity", "top_graphs"):
        if isinstance(out.get(key), list):
            out[key] = [_beside(row, "model", "model_words", model_words(row.get("structure")))
                        if isinstance(row, dict) else row for row in out[key]]
    return out


def worded(data: dict[str, Any], structure: Any = None) -> dict[str, Any]:
    """The JSON object with every model of lists in words beside its notation, never instead of it:
    ``model_words`` after ``model_name`` (the model the choice of ``--model`` fixes: ``structure``,
    ``extra["model_structure"]``), and in the details of the result and of each stratum."""
    from hiddenrate.render.model_words import model_words

    words = model_words(structure)
    out = _beside(data, "model_name", "model_words", words) if words else dict(data)
    out["details"] = _worded_details(out.get("details"))
    if isinstance(out.get("strata"), list):
        out["strata"] = [{**s, "details": _worded_details(s.get("details"))} if isinstance(s, dict) else s
                         for s in out["strata"]]
    return out


def _worded_changes(changes: list[Any], tables: Any, result: Result) -> list[Any]:
    """A trend's changes, each with its ``sentence`` (at the report's level when the change holds
    it); a change saved with its sentence by an older version keeps it."""
    from hiddenrate.render.changes import change_level, change_sentence
    from hiddenrate.render.tables import report_level

    facts: dict[str, Any] = next((t.get("facts", {}) for t in tables if isinstance(t, dict) and t.get("key") == "changes"), {})
    out = []
    for change in changes:
        if isinstance(change, dict) and "sentence" not in change and "incidence_ratio" in change:
            level = change_level(change, report_level(result))
            change = {**change, "sentence": change_sentence(change, level, facts.get("noun"), facts.get("rate_name"))}
        out.append(change)
    return out


def render_json(result: Result) -> str:
    """One JSON object, raw (unrounded) numbers, ``null`` for ends that do not exist."""
    return json.dumps(payload(result), indent=2, allow_nan=False, ensure_ascii=False)

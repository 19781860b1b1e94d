"""JSON: the machine-readable contract (see :meth:`hiddenrate.result.value.Result.to_dict`)."""

from __future__ import annotations

import json
from typing import Any

from hiddenrate.result.value import Result


def payload(result: Result) -> dict[str, Any]:
    """The JSON object: :meth:`Result.to_dict`, with the caveat line a report shows under its headline
    (``caveat``: the most serious warning, ``null`` without warnings), claim checks (``claims``) and publication
    safety (``suppression``, counts hidden as ``"<k"`` or ``"hidden"``) at the top level when
    the result carries them."""
    from hiddenrate.analysis.suppression import suppress_payload
    from hiddenrate.render.caveats import headline_caveat
    from hiddenrate.render.words import at_least, heterogeneity_alert

    data = result.to_dict()
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

"""JSON: the machine-readable contract (see :meth:`hiddenrate.result.value.Result.to_dict`)."""

from __future__ import annotations

import json
from typing import Any

from hiddenrate.result.value import Result


def payload(result: Result) -> dict[str, Any]:
    """The JSON object: :meth:`Result.to_dict`, with claim checks (``claims``) and publication
    safety (``suppression``, counts hidden as ``"<k"`` or ``"hidden"``) at the top level when
    the result carries them."""
    from hiddenrate.analysis.suppression import suppress_payload

    data = result.to_dict()
    details = data.get("details")
    if isinstance(details, dict) and "claims" in details:
        data["claims"] = details.pop("claims")
    if isinstance(details, dict) and "suppression" in details:
        data = suppress_payload(data)
        data["details"].pop("suppression", None)
    return data


def render_json(result: Result) -> str:
    """One JSON object, raw (unrounded) numbers, ``null`` for ends that do not exist."""
    return json.dumps(payload(result), indent=2, allow_nan=False, ensure_ascii=False)

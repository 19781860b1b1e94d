"""JSON: the machine-readable contract (see :meth:`hiddenrate.results.Result.to_dict`)."""

from __future__ import annotations

import json

from hiddenrate.results import Result


def render_json(result: Result) -> str:
    """One JSON object, raw (unrounded) numbers, ``null`` for ends that do not exist."""
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)

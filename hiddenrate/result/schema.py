"""The schema of a saved result's metadata (format 1), checked field by field on loading.

A saved file may be damaged, truncated, edited by hand or written by another version; it may also
come from someone else. :func:`parse_meta` reads the JSON text of the root attribute
``hiddenrate_result`` and :func:`check_meta` checks everything :mod:`hiddenrate.result.io` reads
from it: types, allowed values (interval kinds, distribution kinds, levels strictly between 0 and
1), the estimate keys, and how deep the structure nests. Any defect is a :class:`SchemaError`
naming where it is (``estimates.overall.distribution.kind``), which the loader turns into one
line with the file's name.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hiddenrate.core.settings import INTERVAL_KINDS

#: the deepest nesting of lists and objects a saved result has any reason to hold
MAX_DEPTH = 32
#: the longest metadata text read (a result with thousands of strata is a few megabytes)
MAX_META_CHARS = 200_000_000
DISTRIBUTION_KINDS = ("point", "grid", "draws")
_TEXT_FIELDS = ("command", "model", "model_name", "description", "estimate_type", "interval_type")
_MAPPING_FIELDS = ("priors", "options", "input", "provenance", "extra")


class SchemaError(ValueError):
    """A saved result's metadata that does not fit the schema; ``where`` is the key path."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def _reject_constant(name: str) -> None:
    raise SchemaError("", f"holds {name}, which JSON results never contain")


def _depth(value: Any) -> int:
    """Nesting depth of lists and dicts, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_meta(text: Any) -> dict[str, Any]:
    """The metadata object from the attribute's text, checked (:func:`check_meta`)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SchemaError("hiddenrate_result", "is not UTF-8 text") from None
    if not isinstance(text, str):
        raise SchemaError("hiddenrate_result", f"is {type(text).__name__}, not JSON text")
    if len(text) > MAX_META_CHARS:
        raise SchemaError("hiddenrate_result", f"is {len(text):,} characters long, more than any result holds")
    try:
        meta = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise SchemaError("hiddenrate_result", "nests too deeply to be a result") from None
    except ValueError as err:  # JSONDecodeError, an integer too long to read
        raise SchemaError("hiddenrate_result", f"is not valid JSON ({str(err).splitlines()[0][:80]})") from None
    check_meta(meta)
    return meta


def _type(value: Any, where: str, *kinds: type, optional: bool = False) -> Any:
    if value is None and optional:
        return value
    if isinstance(value, bool) and bool not in kinds:
        raise SchemaError(where, "is true/false, expected " + " or ".join(k.__name__ for k in kinds))
    if not isinstance(value, kinds):
        names = " or ".join({"str": "text", "dict": "an object", "list": "a list", "int": "a whole number",
                             "float": "a number"}.get(k.__name__, k.__name__) for k in kinds)
        raise SchemaError(where, f"is {type(value).__name__}, expected {names}{' or null' if optional else ''}")
    return value


def _number(value: Any, where: str, optional: bool = False) -> None:
    _type(value, where, int, float, optional=optional)
    if value is not None and (abs(value) > 1e300 if isinstance(value, int) else not math.isfinite(value)):
        raise SchemaError(where, "is not a finite number")


def _level(value: Any, where: str) -> None:
    _number(value, where)
    if not 0 < float(value) < 1:
        raise SchemaError(where, f"{value!r} is not a level strictly between 0 and 1")


def _strings(value: Any, where: str) -> None:
    for i, item in enumerate(_type(value, where, list)):
        _type(item, f"{where}[{i}]", str)


def check_distribution(meta: Any, where: str) -> None:
    """A distribution's metadata: ``kind`` and what that kind needs."""
    if meta is None:
        return
    _type(meta, where, dict)
    kind = meta.get("kind")
    if kind not in DISTRIBUTION_KINDS:
        raise SchemaError(f"{where}.kind", f"{kind!r} is not one of {', '.join(DISTRIBUTION_KINDS)}")
    if kind == "point":
        _number(meta.get("point"), f"{where}.point", optional=True)
        for i, pair in enumerate(_type(meta.get("intervals"), f"{where}.intervals", list)):
            at = f"{where}.intervals[{i}]"
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], list) and len(pair[1]) == 2):
                raise SchemaError(at, "is not [level, [lower, upper]]")
            _level(pair[0], f"{at}[0]")
            _number(pair[1][0], f"{at}[1][0]", optional=True)
            _number(pair[1][1], f"{at}[1][1]", optional=True)
        _type(meta.get("interval_method", ""), f"{where}.interval_method", str)
    elif kind == "grid":
        tail = meta.get("tail_mass", 0.0)
        _number(tail, f"{where}.tail_mass")
        if not 0 <= tail <= 1:
            raise SchemaError(f"{where}.tail_mass", f"{tail!r} is not a probability")
        _type(meta.get("mean_exists", True), f"{where}.mean_exists", bool)


def _check_diagnostics(meta: Any, where: str) -> None:
    _type(meta, where, dict)
    _type(meta.get("method", ""), f"{where}.method", str)
    _type(meta.get("converged", True), f"{where}.converged", bool)
    for name in ("rhat_max", "ess_bulk_min", "ess_tail_min"):
        _number(meta.get(name), f"{where}.{name}", optional=True)
    for name in ("divergences", "chains", "draws", "tune"):
        _type(meta.get(name), f"{where}.{name}", int, optional=True)
    _strings(meta.get("messages", []), f"{where}.messages")
    for name, value in _type(meta.get("checks", {}), f"{where}.checks", dict).items():
        _number(value, f"{where}.checks.{name}")


def _check_estimate(meta: Any, where: str) -> None:
    _type(meta, where, dict)
    for name, value in _type(meta.get("stratum"), f"{where}.stratum", dict).items():
        _type(value, f"{where}.stratum.{name}", str, int, float)
    observed = _type(meta.get("observed"), f"{where}.observed", int)
    if observed < 0:
        raise SchemaError(f"{where}.observed", f"{observed} is negative")
    check_distribution(meta.get("distribution"), f"{where}.distribution")
    _check_diagnostics(meta.get("diagnostics"), f"{where}.diagnostics")
    _strings(meta.get("warnings"), f"{where}.warnings")
    _type(meta.get("details"), f"{where}.details", dict)
    _type(meta.get("reason"), f"{where}.reason", str, optional=True)
    for name, value in _type(meta.get("quantities", {}), f"{where}.quantities", dict).items():
        check_distribution(value, f"{where}.quantities.{name}")


def check_meta(meta: Any) -> None:
    """Check the metadata object of a saved result (format 1); :class:`SchemaError` if not."""
    _type(meta, "", dict)
    if _depth(meta) > MAX_DEPTH:
        raise SchemaError("hiddenrate_result", f"nests more than {MAX_DEPTH} levels deep")
    for name in _TEXT_FIELDS:
        _type(meta.get(name), name, str)
    _strings(meta.get("assumptions"), "assumptions")
    levels = _type(meta.get("levels"), "levels", list)
    if not levels:
        raise SchemaError("levels", "is empty")
    for i, level in enumerate(levels):
        _level(level, f"levels[{i}]")
    if meta.get("interval_kind") not in INTERVAL_KINDS:
        raise SchemaError("interval_kind", f"{meta.get('interval_kind')!r} is not one of {', '.join(INTERVAL_KINDS)}")
    _type(meta.get("seed"), "seed", int, optional=True)
    for name in _MAPPING_FIELDS:
        _type(meta.get(name), name, dict)
    _strings(meta.get("warnings"), "warnings")
    _type(meta.get("unit"), "unit", str, optional=True)
    estimates = _type(meta.get("estimates"), "estimates", dict)
    if "overall" not in estimates:
        raise SchemaError("estimates", "has no 'overall' estimate")
    for key, value in estimates.items():
        if key != "overall" and not (key.startswith("stratum") and key[7:].isascii() and key[7:].isdigit() and len(key) < 20):
            raise SchemaError(f"estimates.{key[:40]}", "is not 'overall' or 'stratumN'")
        _check_estimate(value, f"estimates.{key}")

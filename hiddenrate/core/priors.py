"""Priors given by the user, merged onto a model's visible defaults: one rule for every model family.

A family keeps its default dict (``{name: {field: value}}``) and a function that merges one
override onto one default entry; :func:`merge_priors` does the rest the same way for all of
them: unknown names are one error listing the valid ones, and every problem is reported at once.
:func:`parse_prior_option` reads ``--prior NAME=NUMBERS`` for every command, and
:func:`numbers_to_fields` reads numbers given in a family's order (CLI, Python and the combine
spec's ``[priors]`` alike).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.options import flag

#: merges one override onto its base entry, appending problems to the list it is given
EntryMerger = Callable[[str, Mapping[str, Any], Any, list[str]], dict[str, Any]]


def merge_priors(defaults: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any] | None, merge_entry: EntryMerger,
                 *, model: str, valid: Sequence[str] | None = None,
                 canonical: Callable[[str], str | None] | None = None) -> dict[str, dict[str, Any]]:
    """The defaults with ``overrides`` merged in, or one ModelError listing every problem.

    Parameters
    ----------
    defaults
        The family's default priors, ``{name: {field: value}}`` (never changed).
    overrides
        ``{name: value}`` as the user gave them; ``merge_entry(name, base, value, errors)``
        reads each value.
    model
        The model's name in messages (``valid names for the exact model: ...``).
    valid, canonical
        Names beyond the defaults: ``canonical`` maps a given name to its canonical key (or
        ``None`` when unknown; a key that is not a default merges onto the default named by
        its part before ``:``), ``valid`` lists the names for the message.
    """
    merged = copy.deepcopy({name: dict(entry) for name, entry in defaults.items()})
    if not overrides:
        return merged
    if not defaults:
        raise ModelError(f"the {model} model has no priors; {flag('priors')} does not apply")
    errors: list[str] = []
    keyed: dict[str, Any] = {}
    unknown = []
    for raw, value in overrides.items():
        key = canonical(str(raw)) if canonical is not None else (str(raw) if raw in defaults else None)
        if key is None:
            unknown.append(str(raw))
        elif key in keyed:
            errors.append(f"prior '{raw}' is given twice (as '{key}')")
        else:
            keyed[key] = value
    if unknown:
        errors.append(f"unknown prior name(s) {', '.join(repr(u) for u in unknown)}; valid names for the {model} model: "
                      + ", ".join(valid if valid is not None else defaults))
    # the defaults' own names first, so that a per-term override (``main:0``) merges onto its overridden group
    for key in [k for k in keyed if k in defaults] + sorted(k for k in keyed if k not in defaults):
        base = merged[key] if key in merged else merged[key.partition(":")[0]]
        merged[key] = merge_entry(key, base, keyed[key], errors)
    if errors:
        raise ModelError("invalid priors: " + "; ".join(errors))
    return merged


def numbers_to_fields(name: str, value: Any, fields: Sequence[str], errors: list[str]) -> dict[str, Any] | None:
    """A prior given as numbers in its fields' order (``[0, 5]``, ``(2, 5)``, ``0.5``) or as a dict of
    fields, as a dict of fields; ``None`` (with the problem appended to ``errors``) otherwise."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (str, bytes)):
        errors.append(f"prior '{name}': give {', '.join(fields)} as numbers, got {value!r}")
        return None
    numbers = list(value) if isinstance(value, Sequence) else [value]
    if len(numbers) != len(fields):
        errors.append(f"prior '{name}' takes {len(fields)} number(s): {', '.join(fields)}")
        return None
    return dict(zip(fields, numbers, strict=True))


def parse_prior_option(items: Iterable[str]) -> dict[str, list[float] | str] | None:
    """``--prior NAME=NUMBERS`` (repeatable) -> ``{name: [numbers]}``; ``NAME=flat`` -> ``"flat"``.

    The numbers are in the prior family's order; the model checks how many it takes, so every
    problem with the priors is reported at once there. ``None`` when none were given.

    Raises
    ------
    DataError
        An item that is not ``NAME=NUMBERS`` (one line naming ``--prior`` and the right form).
    """
    option = flag("priors")
    out: dict[str, list[float] | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise DataError(f"{option} '{item}' should be NAME=NUMBERS, e.g. reporting_rate=0.5,0.5, main=0,5 or "
                            "logit_rate_sd=0.5")
        if value.strip() == "flat":
            out[name.strip()] = "flat"
            continue
        try:
            out[name.strip()] = [float(v) for v in value.split(",")]
        except ValueError:
            raise DataError(f"{option} '{item}': '{value}' is not numbers separated by commas (or 'flat')") from None
    return out or None


__all__ = ["EntryMerger", "merge_priors", "numbers_to_fields", "parse_prior_option"]

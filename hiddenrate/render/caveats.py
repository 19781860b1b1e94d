"""The words for a result's warnings: one caveat line for beside the headline, and the full lists.

The line names the most serious finding (:meth:`hiddenrate.result.value.Result.caveats`, ranked
by severity and then by :data:`hiddenrate.core.caveats.CODES`) and points to the full list; every
format puts it directly under the summary sentence (text, Markdown, the HTML summary box, and
``caveat`` in JSON). Notes are listed apart from warnings, after them.
"""

from __future__ import annotations

from hiddenrate.core.caveats import NOTE, SERIOUS, Caveat
from hiddenrate.render.words import heterogeneity_alert
from hiddenrate.result.value import Result

#: the title of the section (HTML, Markdown) or block (text) that lists every warning
WARNINGS_TITLE = "Warnings"


def split(result: Result) -> tuple[list[Caveat], list[Caveat]]:
    """``(warnings, notes)``: the result's caveats, most serious first, notes apart."""
    caveats = result.caveats()
    return [c for c in caveats if c.severity != NOTE], [c for c in caveats if c.severity == NOTE]


#: a caveat line quotes its warning whole up to this many characters; a longer one up to its last "; " before it
HEAD_CHARACTERS = 200


def head(caveat: Caveat) -> str:
    """The warning as the caveat line quotes it: whole, or when long up to its last clause break (``; ``) within
    :data:`HEAD_CHARACTERS` (the finding comes first, the advice after)."""
    text = str(caveat).strip().rstrip(".")
    if len(text) <= HEAD_CHARACTERS:
        return text
    depth, cut = 0, None
    for i, char in enumerate(text[:HEAD_CHARACTERS]):  # a break inside brackets would leave one open
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and text.startswith("; ", i):
            cut = i
    return text if cut is None else text[:cut]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def headline_caveat(result: Result, where: str = "below") -> str | None:
    """``Caveat (serious): <the most serious finding>. 3 more warnings and 1 note below.``, or
    ``None`` when the result has no warnings (notes alone do not make a caveat). ``where`` says
    where the full list is (``below``, ``in "caveats"``)."""
    warnings, notes = split(result)
    if heterogeneity_alert(result):  # the alert above the summary already says it: name the next one
        warnings = [w for w in warnings if w.code != "heterogeneity"]
    if not warnings:
        return None
    top = warnings[0]
    label = "Caveat (serious)" if top.severity == SERIOUS else "Caveat"
    more = [_count(len(warnings) - 1, "more warning")] if len(warnings) > 1 else []
    more += [_count(len(notes), "note")] if notes else []
    tail = f" {' and '.join(more)} {where}." if more else f" Details {where}."
    return f"{label}: {head(top)}.{tail}"


def warning_lines(result: Result) -> tuple[list[str], list[str]]:
    """The texts of the warnings (most serious first, each serious one marked) and of the notes."""
    warnings, notes = split(result)
    return [f"SERIOUS: {c}" if c.severity == SERIOUS else str(c) for c in warnings], [str(c) for c in notes]


__all__ = ["WARNINGS_TITLE", "head", "headline_caveat", "split", "warning_lines"]

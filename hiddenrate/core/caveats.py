"""Warnings with a severity and a stable code: what a reader must see first, and what can wait.

Every warning a model or a check writes is a :class:`Caveat`: its text (it *is* a ``str``, so
code that joins, searches or compares warnings keeps working), a stable ``code`` that other
tools can rely on (``"multimodal"``, ``"prior-dominated"``; the JSON ``caveats`` list) and a
``severity``:

``serious``
    The number may mislead as it stands: the fit did not converge, the prior or the choice of
    model decides the answer, the posterior has several modes, capture probabilities differ
    between people, lists never overlap, two lists whose independence is assumed.
``warning``
    Read before using the number: effective draws, an edge of the posterior, a wide upper end.
``note``
    Worth knowing but not a reason to doubt the number: a posterior with no mean (the median is
    the estimate and is stable), a period without a survey whose interval is about as wide as its
    neighbours', records set aside.

:data:`CODES` lists every known code with its usual severity, most serious first; that order
ranks the caveat a report names beside its headline (:func:`ranked`). A new check adds one line
there. A warning written as a plain string (by code that predates the codes, or read from a file
saved before them) is given a code by :func:`classify` from the words it uses, and ``"other"``
(a warning) when none fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Self

SERIOUS, WARNING, NOTE = "serious", "warning", "note"
#: the severities, most serious first
SEVERITIES = (SERIOUS, WARNING, NOTE)
OTHER = "other"

#: every code and its usual severity, most serious first (the order ranks the headline caveat)
CODES: dict[str, str] = {
    "not-converged": SERIOUS,         # the sampler did not converge: do not use the numbers
    "rhat": SERIOUS,                  # chains have not converged to one answer
    "chains-disagree": SERIOUS,       # chains' medians differ by more than 10%
    "divergences": SERIOUS,           # divergent transitions
    "prior-dominated": SERIOUS,       # the posterior is mostly prior
    "prior-sensitive": SERIOUS,       # the prior weight delta decides the answer
    "multimodal": SERIOUS,            # several separated modes
    "heterogeneity": SERIOUS,         # capture probabilities differ between people
    "models-disagree": SERIOUS,       # well-supported models disagree by more than 2x
    "zero-overlap": SERIOUS,          # lists that never overlap
    "independence-assumed": SERIOUS,  # two lists: independence assumed, cannot be checked
    "no-survey": SERIOUS,             # no survey at all: every rate is the prior's
    "evidence-conflict": WARNING,     # pieces of evidence disagree beyond their uncertainty
    "example": WARNING,               # an illustrative or artificial bundled example
    "ess": WARNING,                   # too few effective draws
    "bound": WARNING,                 # posterior against an edge; an interval with no upper end
    "heavy-tail": WARNING,            # the interval's upper end is many times the median
    "selection-conditional": WARNING,  # an interval conditional on a chosen model
    "small-overlap": WARNING,         # very few people on both lists
    "unstable-selection": WARNING,    # the chosen model changes between bootstrap replicates
    "dependence-prior": WARNING,      # the width comes partly from a prior the data cannot check
    "no-survey-period": WARNING,      # a period without a survey, its interval much wider
    OTHER: WARNING,                   # a warning with no code of its own
    "no-mean": NOTE,                  # the posterior has no mean; the median is the estimate
    "stepwise": NOTE,                 # too many models to rank: a stepwise search chose one
    "input": NOTE,                    # something about the input (records set aside, ...)
}

#: plain-string warnings (older files, code that gives no code): the first pattern found gives the
#: code; a severity of None takes the code's usual one
_PATTERNS: tuple[tuple[str, str | None, str], ...] = (
    ("evidence-conflict", None, r"conflict check"),
    ("not-converged", None, r"did not converge|not converged to one answer"),
    ("rhat", None, r"R-hat"),
    ("chains-disagree", None, r"chains disagree"),
    ("divergences", None, r"divergent transitions"),
    ("prior-sensitive", None, r"prior weight delta decides"),
    ("multimodal", None, r"separate modes"),
    ("models-disagree", None, r"disagree by a factor|the data do not choose between them"),
    ("zero-overlap", None, r"never overlap"),
    ("independence-assumed", None, r"independen\w* (is|are|was) assumed"),
    ("no-survey", None, r"NO SURVEY in any period|no stratum has a reporting survey"),
    ("no-survey-period", NOTE, r"no survey in this period.*about as wide"),
    ("no-survey-period", None, r"no survey in this period"),
    ("prior-dominated", None, r"set by the priors|mostly the prior|barely bound the total"),
    ("example", None, r"not a real estimate"),
    ("ess", None, r"effective draws"),
    ("bound", None, r"almost no upper bound"),
    ("no-mean", None, r"has no mean"),
    ("heavy-tail", None, r"times the median"),
    ("bound", None, r"no upper end|lower bound|edge of the grid|beyond the largest total|nobody hidden|binding cap"),
    ("selection-conditional", None, r"conditional on the chosen model"),
    ("small-overlap", None, r"on both lists: the estimate rests on a very small overlap"),
    ("unstable-selection", None, r"model choice is unstable"),
    ("dependence-prior", None, r"dependence prior"),
    ("evidence-conflict", None, r"disagree beyond their|conflict"),
    ("stepwise", None, r"too many models to rank"),
    ("input", None, r"set aside"),
)


def severity_of(code: str) -> str:
    """The usual severity of ``code`` (``warning`` for a code not in :data:`CODES`)."""
    return CODES.get(code, WARNING)


class Caveat(str):
    """A warning: its text, a stable ``code`` and a ``severity`` (one of :data:`SEVERITIES`).

    It is the text, for every purpose a ``str`` serves (``in``, ``join``, equality); the code and
    severity ride along. Text made from it (``"[x] " + caveat``) is a plain ``str`` again: use
    :meth:`prefixed`.
    """

    code: str
    severity: str

    def __new__(cls, message: str, code: str = OTHER, severity: str | None = None) -> Self:
        self = super().__new__(cls, message)
        chosen = severity if severity is not None else severity_of(code)
        if chosen not in SEVERITIES:
            raise ValueError(f"unknown severity '{chosen}'; use one of {', '.join(SEVERITIES)}")
        self.code = str(code)
        self.severity = chosen
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Caveat, (str(self), self.code, self.severity))

    def prefixed(self, prefix: str) -> Caveat:
        """The same caveat with ``prefix`` before its text (e.g. a stratum's label)."""
        return Caveat(prefix + str(self), self.code, self.severity)

    def to_dict(self) -> dict[str, str]:
        """``{"code", "severity", "message"}``."""
        return {"code": self.code, "severity": self.severity, "message": str(self)}


def classify(message: str) -> tuple[str, str]:
    """``(code, severity)`` of a warning: its own for a :class:`Caveat`, else from its words."""
    if isinstance(message, Caveat):
        return message.code, message.severity
    for code, severity, pattern in _PATTERNS:
        if re.search(pattern, message):
            return code, severity or severity_of(code)
    return OTHER, severity_of(OTHER)


def as_caveat(message: str) -> Caveat:
    """``message`` as a :class:`Caveat` (classified by :func:`classify` when it is a plain string)."""
    if isinstance(message, Caveat):
        return message
    return Caveat(message, *classify(message))


def rank(caveat: Caveat) -> tuple[int, int]:
    """Sort key: severity first, then the order of :data:`CODES` (unknown codes after known ones)."""
    order = list(CODES)
    return SEVERITIES.index(caveat.severity), order.index(caveat.code) if caveat.code in order else len(order)


def ranked(messages: Iterable[str]) -> list[Caveat]:
    """The warnings as caveats, most serious first (a stable sort: equal ranks keep their order)."""
    return sorted((as_caveat(m) for m in messages), key=rank)


def restore(messages: Iterable[str], codes: Iterable[Any] | None) -> tuple[Caveat, ...]:
    """Caveats from saved texts and their saved ``[code, severity]`` pairs; texts saved without
    codes (files from before them) are classified by their words."""
    texts = [str(m) for m in messages]
    pairs = list(codes) if codes is not None else []
    if len(pairs) != len(texts):
        return tuple(as_caveat(t) for t in texts)
    return tuple(Caveat(t, str(p[0]), str(p[1]) if p[1] in SEVERITIES else None) for t, p in zip(texts, pairs, strict=True))


def codes_of(messages: Iterable[str]) -> list[list[str]]:
    """``[code, severity]`` of each warning, as saved beside the texts."""
    return [list(classify(m)) for m in messages]


__all__ = ["CODES", "NOTE", "OTHER", "SERIOUS", "SEVERITIES", "WARNING", "Caveat", "as_caveat", "classify",
           "codes_of", "rank", "ranked", "restore", "severity_of"]

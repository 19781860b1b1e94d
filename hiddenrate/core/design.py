"""Cell indexing and log-linear design matrices shared by every list model.

Conventions (used everywhere in hiddenrate)
-------------------------------------------
With ``K`` lists there are ``2**K`` capture patterns. Pattern (cell) ``i`` is an
integer in ``[0, 2**K)``; list ``j`` (0-based, in the order of the data's list
columns) holds the record iff bit ``j`` of ``i`` is set, ``(i >> j) & 1``.
Cell 0 is "on no list": never observed, it is what the models estimate.
A count vector has length ``2**K``; its entry 0 is ignored (kept at 0).

An interaction *term* is a sorted tuple of list indices with at least two
entries, e.g. ``(0, 2)`` for lists 0 and 2. A log-linear *model* is a tuple of
terms; the intercept and all main effects are always included. Models are
hierarchical: every subset (of size >= 2) of a term is also a term.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from hiddenrate.core.exceptions import ModelError

Term = tuple[int, ...]
Terms = tuple[Term, ...]


def n_cells(k: int) -> int:
    """Number of capture patterns with ``k`` lists, including the unobserved one."""
    return 1 << k


def patterns(k: int) -> np.ndarray:
    """0/1 matrix of shape ``(2**k, k)``: row ``i`` is the capture pattern of cell ``i``."""
    cells = np.arange(n_cells(k))[:, None]
    return ((cells >> np.arange(k)[None, :]) & 1).astype(np.int8)


def cell_index(pattern: Sequence[int]) -> int:
    """Cell index of a 0/1 capture pattern (list 0 is bit 0)."""
    return int(sum(int(bit) << j for j, bit in enumerate(pattern)))


def normalize_terms(terms: Iterable[Iterable[int]]) -> Terms:
    """Sort and deduplicate interaction terms; order by size then lexicographically."""
    unique = {tuple(sorted(set(int(j) for j in term))) for term in terms}
    for term in unique:
        if len(term) < 2:
            raise ModelError(f"interaction term {term} needs at least two lists")
    return tuple(sorted(unique, key=lambda t: (len(t), t)))


def hierarchical_closure(terms: Iterable[Iterable[int]]) -> Terms:
    """Add every sub-interaction (size >= 2) of every term, giving a hierarchical model."""
    closed: set[Term] = set()
    for term in normalize_terms(terms):
        for size in range(2, len(term) + 1):
            closed.update(itertools.combinations(term, size))
    return normalize_terms(closed)


def is_hierarchical(terms: Iterable[Iterable[int]]) -> bool:
    """True when every sub-interaction of every term is itself in the model."""
    normalized = normalize_terms(terms)
    return set(hierarchical_closure(normalized)) == set(normalized)


def design_matrix(k: int, terms: Iterable[Iterable[int]] = ()) -> np.ndarray:
    """Log-linear design matrix of shape ``(2**k, 1 + k + len(terms))``.

    Columns: intercept, the ``k`` main effects, then one column per interaction
    term (the product of its lists' indicators). Row 0 is the unobserved cell,
    whose linear predictor is the intercept alone, so ``exp(intercept)`` is the
    expected number of people on no list.
    """
    pat = patterns(k).astype(float)
    columns = [np.ones(n_cells(k)), *pat.T]
    for term in normalize_terms(terms):
        columns.append(np.prod(pat[:, list(term)], axis=1))
    return np.column_stack(columns)


def term_label(term: Term, names: Sequence[str]) -> str:
    """Name a term by its lists, e.g. ``NGO:PF``."""
    return ":".join(names[j] for j in term)


def model_label(terms: Terms, names: Sequence[str]) -> str:
    """Name a model by its interaction terms; the independence model is ``independence``."""
    if not terms:
        return "independence"
    return " + ".join(term_label(t, names) for t in terms)


def model_structure(terms: Terms, names: Sequence[str]) -> dict[str, Any]:
    """A log-linear model as data the renderers put in words (:mod:`hiddenrate.render.model_words`):
    every list's name and each term by its lists' names, in the order :func:`model_label` writes them."""
    return {"lists": [str(name) for name in names], "terms": [[str(names[j]) for j in t] for t in terms]}


def rcapture_label(terms: Terms, k: int) -> str:
    """Rcapture's generating-class notation, e.g. ``[12,13,4]`` (1-based list numbers).

    Lists that appear in no interaction are listed on their own. Only terms that
    are not contained in another term are written (the generating class).
    """
    maximal = [t for t in terms if not any(set(t) < set(u) for u in terms)]
    covered = {j for t in maximal for j in t}
    parts = ["".join(str(j + 1) for j in t) for t in maximal]
    parts += [str(j + 1) for j in range(k) if j not in covered]
    parts.sort(key=lambda s: (int(s[0]), s))
    return "[" + ",".join(parts) + "]"


_RCAPTURE = re.compile(r"^\[?\s*(\d+(\s*,\s*\d+)*)\s*\]?$")


def parse_terms(spec: str, names: Sequence[str]) -> Terms:
    """Parse interaction terms given by list names or in Rcapture notation.

    Accepted forms (all give the same model for lists ``A, B, C, D``):
    ``"A:B,A:C"``, ``"A:B A:C"`` and ``"[12,13,4]"`` (1-based list numbers,
    Rcapture's generating class; single digits are main effects and add nothing).
    ``""`` or ``"independence"`` is the independence model. The result is
    closed hierarchically, so ``"A:B:C"`` includes ``A:B``, ``A:C`` and ``B:C``.

    Raises
    ------
    ModelError
        If a list name or number is unknown; the message lists the valid names.
    """
    text = spec.strip()
    if text in ("", "independence", "[]"):
        return ()
    k = len(names)
    match = _RCAPTURE.match(text)
    if match and "[" in text or (match and all(part.strip().isdigit() for part in text.split(","))
                                 and not any(name.isdigit() for name in names)):
        terms = []
        for part in text.strip("[] ").split(","):
            digits = [int(ch) - 1 for ch in part.strip()]
            if any(d < 0 or d >= k for d in digits) or len(set(digits)) != len(digits):
                raise ModelError(
                    f"term '{part.strip()}' in '{spec}' is not valid Rcapture notation for {k} lists "
                    f"(use digits 1..{k}, each at most once per term)"
                )
            if len(digits) >= 2:
                terms.append(digits)
        return hierarchical_closure(terms)
    index = {name: j for j, name in enumerate(names)}
    terms = []
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        members = part.split(":")
        unknown = [m for m in members if m not in index]
        if unknown:
            raise ModelError(
                f"unknown list '{unknown[0]}' in term '{part}'; the lists are: {', '.join(names)}"
            )
        if len(members) < 2:
            raise ModelError(f"term '{part}' names one list; an interaction needs two or more (e.g. A:B)")
        terms.append([index[m] for m in members])
    return hierarchical_closure(terms)


def all_pairs(k: int) -> Terms:
    """Every two-way interaction among ``k`` lists."""
    return tuple(itertools.combinations(range(k), 2))

"""A model of lists in plain words, beside its notation (``LA:NG:GP + GO:GP + PF``).

The models say which model they mean as data, a *model structure* (a plain dict, saved with the
result), and this module says it in words; the notation stays where it is, for statisticians.

Structures
----------
``{"lists": [...], "terms": [[...], ...]}``
    A log-linear or graphical model: every list's name, and each interaction term (or clique)
    by the names of its lists; ``"terms": []`` is independence. A term contained in another
    adds nothing to the words (``A:B`` under ``A:B:C``), as in a hierarchical model.
``{"heterogeneity": "mth-chao"}``
    One of Rcapture's eight heterogeneity models, by its ``--model`` name.
``{"latent_classes": 3}``
    The latent-class model with that many classes (``null``: the number the model chooses).
``{"averaging": "decomposable"}``
    Model averaging over decomposable graphs.

Why the words are right
-----------------------
* A term with three or more lists (``LA:NG:GP``) lets those lists be associated in any way,
  three at a time included: they "may all depend on one another" ("may": the model allows the
  dependence and the data say how strong it is, as the legend of the clique tables says).
* A term with two lists (``GO:GP``) lets that pair be associated, and nothing more: a triangle of
  pairs (``A:B + A:C + B:C``) reads as three pairs, never as "may all depend on one another"; every
  pair of every list, and no larger term, reads "every pair of lists may depend on each other (two
  at a time only)": no three lists together.
* A list in no term is independent of every other list ("GO independent of the other lists", no
  "may": that is assumed); a model with no term makes every list independent of the others.
* Lists that are never named together depend on each other only through lists they both depend
  on (conditional independence); the words name only what the model allows, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

INDEPENDENCE = "every list independent of the others"

#: Rcapture's families: Mh (lists alike), Mth (lists differ)
_FAMILIES = {
    "mh": "people differ in how visible they are, and every list is as likely as the others to record a given person",
    "mth": "people differ in how visible they are, and lists differ in how many people they record",
}
#: the heterogeneity term: how the spread of visibility is assumed to look (Chao's bound assumes no shape)
_SPREADS = {
    "chao": "Chao's lower bound, whatever the spread of visibility",
    "poisson2": "the spread of visibility has a set shape (Poisson2)",
    "darroch": "the spread of visibility is assumed normal (Darroch)",
    "gamma3.5": "the spread of visibility is assumed gamma-shaped (Gamma3.5; the largest totals)",
}


def join(items: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _maximal(terms: Iterable[Sequence[str]]) -> list[list[str]]:
    """The terms not contained in another (each once, in their first order)."""
    unique: list[list[str]] = []
    for term in terms:
        members = list(dict.fromkeys(str(name) for name in term))
        if len(members) >= 2 and set(members) not in [set(u) for u in unique]:
            unique.append(members)
    return [t for t in unique if not any(set(t) < set(u) for u in unique)]


def _every_pair(lists: Sequence[str]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for i, a in enumerate(lists) for b in lists[i + 1:]}


def dependence_words(lists: Sequence[str], terms: Iterable[Sequence[str]]) -> str:
    """A log-linear or graphical model in words, e.g. for ``LA:NG:GP + LA:PF:GP + GO:GP + PF:NCA``
    with lists LA, NG, PF, GO, GP, NCA: "LA, NG and GP may all depend on one another; so may LA, PF
    and GP; pairs that may depend on each other: GO with GP, PF with NCA" (see the module's notes)."""
    kept = _maximal(terms)
    if not kept:
        return INDEPENDENCE
    clauses = []
    groups = [t for t in kept if len(t) >= 3]
    for i, group in enumerate(groups):
        clauses.append(f"so may {join(group)}" if i else f"{join(group)} may all depend on one another")
    pairs = [t for t in kept if len(t) == 2]
    if not groups and len(lists) > 2 and {frozenset(p) for p in pairs} == _every_pair(lists):
        return "every pair of lists may depend on each other (two at a time only)"
    if len(pairs) == 1:
        clauses.append(f"{pairs[0][0]} and {pairs[0][1]} may depend on each other")
    elif pairs:
        clauses.append("pairs that may depend on each other: " + ", ".join(f"{a} with {b}" for a, b in pairs))
    named = {name for term in kept for name in term}
    alone = [str(name) for name in lists if str(name) not in named]
    if len(alone) == 1:
        clauses.append(f"{alone[0]} independent of the other lists")
    elif alone:
        clauses.append(f"{join(alone)} each independent of the other lists")
    return "; ".join(clauses)


def heterogeneity_words(name: str) -> str | None:
    """One of Rcapture's heterogeneity models (``mth-chao``, ``mh-poisson2`` ...) in words; None for another name."""
    family, _, spread = str(name).lower().partition("-")
    if family not in _FAMILIES or spread not in _SPREADS:
        return None
    return f"{_FAMILIES[family]}; {_SPREADS[spread]}"


def latent_class_words(classes: Any) -> str:
    """The latent-class model in words."""
    how_many = f"{int(classes)} groups" if isinstance(classes, int) and not isinstance(classes, bool) else "groups"
    return f"people fall into {how_many} that differ in how visible they are; within a group the lists are independent"


AVERAGING = "an average over many patterns of dependence between the lists, each weighted by how well it fits"


def model_words(structure: Any) -> str | None:
    """The words for a model structure (see the module's notes); None for anything else."""
    if not isinstance(structure, Mapping):
        return None
    if "terms" in structure:
        lists, terms = structure.get("lists") or [], structure.get("terms") or []
        if not all(isinstance(x, (list, tuple)) for x in (lists, terms, *terms)):
            return None  # not a structure a model made: no words rather than wrong ones
        return dependence_words([str(x) for x in lists], terms)
    if "heterogeneity" in structure:
        return heterogeneity_words(str(structure["heterogeneity"]))
    if "latent_classes" in structure:
        return latent_class_words(structure["latent_classes"])
    if "averaging" in structure:
        return AVERAGING
    return None


def row_words(structures: Any, rows: int) -> list[str | None]:
    """The words of each of ``rows`` table rows from the table's ``facts["models"]`` (one structure or None a
    row); all None when the table has none or they do not match its rows."""
    if not isinstance(structures, Sequence) or isinstance(structures, str) or len(structures) != rows:
        return [None] * rows
    return [model_words(s) for s in structures]


__all__ = ["AVERAGING", "INDEPENDENCE", "dependence_words", "heterogeneity_words", "join", "latent_class_words",
           "model_words", "row_words"]

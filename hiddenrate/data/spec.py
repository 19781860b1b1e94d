"""The ``hiddenrate combine`` specification: a small TOML file (or the same as a dict) naming the
evidence, read into a validated, immutable :class:`CombineSpec`.

A spec names matched lists and/or unlinked counts, the surveys attached to sources, and
optionally a population route::

    title = "Police and NGO lists with a victim survey"
    unit = "victims"                  # or "incidents"; default "victims"

    [lists]                           # matched lists, as `hiddenrate lists` reads them
    file = "lists.csv"                # paths are relative to the spec file
    names = ["police", "ngo"]         # optional: which 0/1 columns are lists

    [sources.police]                  # evidence attached to one source
    surveyed = 711                    # of 711 victims surveyed,
    reported = 195                    # 195 were known to the police

    [sources.hotline]                 # an unlinked count: not matched to anything
    count = 140
    surveyed = 400
    reported = 150

    [population]                      # optional population route (counts victims)
    low = 1500                        # 95% interval for the population size
    high = 3000
    victimized = 40                   # 40 of 150 surveyed were victimised in the period
    respondents = 150

    [model]
    dependence = "pairwise"           # "pairwise" (default), "independent", "latent-class", or ["police:ngo"]

    [priors]
    log_odds_ratio = { mu = 0.0, sigma = 2.0 }

Strata: ``by = ["region"]`` names stratum columns, which every data file must have. Numbers
that differ by stratum then come from files, never from the spec itself: ``[evidence] file``
is a CSV with columns ``source``, ``count`` (empty for a matched list), ``surveyed``,
``reported`` and the ``by`` columns; ``[population] file`` a CSV with the ``by`` columns and
``low``, ``high``, ``victimized``, ``respondents``. (A survey given once in ``[sources.X]``
cannot serve every stratum: each stratum's fit would count the same respondents again.)

Every problem is reported at once, each with the file and the key, e.g.
``spec.toml: [sources.police]: unknown key 'surveyd'; valid keys: count, description,
reported, surveyed``.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.data.reporting import PopulationRoute
from hiddenrate.data.spec_sections import (
    DEFAULT_PRIORS,
    TOP_KEYS,
    UNITS,
    DataFolder,
    Problems,
    Survey,
    dependence_section,
    evidence_section,
    lists_section,
    population_section,
    priors_section,
    sources_section,
)
from hiddenrate.data.table import read_input_bytes
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_SPEC_BYTES, shown
from hiddenrate.core.design import Terms


@dataclass(frozen=True)
class StratumEvidence:
    """All evidence for one stratum: matched lists, unlinked counts, surveys, population route."""

    stratum: Mapping[str, str]
    table: ListTable | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    surveys: Mapping[str, Survey] = field(default_factory=dict)
    population: PopulationRoute | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stratum", MappingProxyType(dict(self.stratum)))
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))
        object.__setattr__(self, "surveys", MappingProxyType(dict(self.surveys)))

    def label(self) -> str:
        """``region=North``; ``all`` when unstratified."""
        return ", ".join(f"{k}={v}" for k, v in self.stratum.items()) if self.stratum else "all"

    @property
    def observed(self) -> int:
        """People on at least one list; for unlinked counts the largest count (at least that many)."""
        if self.table is not None:
            return self.table.observed
        return max(self.counts.values(), default=0)


@dataclass(frozen=True)
class CombineSpec:
    """A validated ``hiddenrate combine`` specification with its data read.

    Attributes
    ----------
    source, sha256
        The spec file (or ``"spec (dict)"``) and the hash of its bytes.
    title, description, unit, by
        What the analysis is; ``incidents`` or ``victims``; stratum columns.
    list_names
        The matched lists (empty without a lists file).
    count_sources
        Sources with unlinked counts.
    strata
        One :class:`StratumEvidence` per stratum, in order of first appearance.
    terms
        Interaction terms (list-index tuples) of the dependence model of the matched lists.
    dependence
        How the dependence was asked for (``pairwise``, ``independent`` or the terms as text).
    priors
        Defaults (:data:`DEFAULT_PRIORS`) merged with ``[priors]``.
    files
        Every data file used, with the SHA-256 of its bytes.
    descriptions
        Descriptions of sources and of the population route, for reports.
    lists_data
        The matched lists as read (for the input summary), or ``None``.
    """

    source: str
    unit: str
    strata: tuple[StratumEvidence, ...]
    list_names: tuple[str, ...] = ()
    count_sources: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    sha256: str | None = None
    terms: Terms = ()
    dependence: str = "pairwise"
    priors: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PRIORS.items()})
    files: Mapping[str, str | None] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    lists_data: ListData | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source: the matched lists, then the unlinked ones."""
        return (*self.list_names, *self.count_sources)

    @property
    def stratified(self) -> bool:
        """True when ``by`` names stratum columns."""
        return bool(self.by)

    @property
    def has_population(self) -> bool:
        """True when some stratum has a population route."""
        return any(s.population is not None for s in self.strata)

    @property
    def has_surveys(self) -> bool:
        """True when some stratum has a survey."""
        return any(s.surveys for s in self.strata)


# ----------------------------------------------------------------------------- the reader


def read_spec(spec: str | Path | Mapping[str, Any], *, base_dir: str | Path | None = None) -> CombineSpec:
    """Read and validate a ``hiddenrate combine`` specification and the data files it names.

    Parameters
    ----------
    spec
        Path to a TOML file, or the same structure as a dict (see the module docstring).
    base_dir
        Where relative paths in a dict spec point (default: the current directory). For a
        file, paths are relative to the file's folder and must stay inside it (a spec received
        from someone else cannot read ``/etc/passwd`` or ``../../secret.csv``) unless
        :func:`hiddenrate.core.limits.allow_outside_paths` is in force
        (``--allow-outside-paths``).

    Returns
    -------
    CombineSpec

    Raises
    ------
    DataError
        Listing every problem, each with the file and key: unknown keys (with the valid ones),
        missing files, a survey for a source that does not exist, negative or fractional
        counts, reported above surveyed, mixed or missing strata.

    Examples
    --------
    >>> spec = read_spec({"sources": {"police": {"count": 100, "surveyed": 711, "reported": 195}}})
    >>> spec.count_sources, spec.strata[0].surveys["police"].rate
    (('police',), 0.2742616033755274)
    """
    if isinstance(spec, Mapping):
        source, sha, raw_spec = "spec (dict)", None, dict(spec)
        base = DataFolder(Path(base_dir) if base_dir is not None else Path.cwd())
    else:
        path = Path(spec)
        source = path.name
        data = read_input_bytes(path, str(spec), what="spec file (.toml)", limit=MAX_SPEC_BYTES,
                                hint="a spec is a short text file naming its data files; is this the right file?")
        sha = hashlib.sha256(data).hexdigest()
        try:
            raw_spec = tomllib.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise DataError(f"{source}: not UTF-8 text; save the spec as UTF-8") from None
        except tomllib.TOMLDecodeError as err:
            raise DataError(f"{source}: not valid TOML: {shown(err, 120)}") from None
        base = DataFolder(Path(base_dir) if base_dir is not None else path.resolve().parent, spec=path, confined=True)
    return _build(raw_spec, source, sha, base)


def _build(spec: dict[str, Any], source: str, sha: str | None, base: DataFolder) -> CombineSpec:
    problems = Problems(source)
    problems.unknown_keys("top level", spec, TOP_KEYS)
    unit = spec.get("unit", "victims")
    if unit not in UNITS:
        problems.add("unit", f"must be one of {', '.join(UNITS)}, got {shown(repr(unit))}")
    by_value = spec.get("by", [])
    by_value = [by_value] if isinstance(by_value, str) else by_value
    if not isinstance(by_value, list) or not all(isinstance(b, str) and b for b in by_value):
        problems.add("by", f"must be a list of column names, got {shown(repr(spec.get('by')))}")
        by_value = []
    by = tuple(by_value)
    texts = {k: spec.get(k) for k in ("title", "description")}
    for key, value in texts.items():
        if value is not None and not isinstance(value, str):
            problems.add(key, f"must be text, got {shown(repr(value))}")
    files: dict[str, str | None] = {}
    lists_data = lists_section(problems, spec, by, base, files)
    sources, descriptions = sources_section(problems, spec)
    evidence = evidence_section(problems, spec, by, base, files)
    population_inline, population_by = population_section(problems, spec, by, base, files, descriptions)
    terms, dependence = dependence_section(problems, spec, lists_data)
    priors = priors_section(problems, spec)
    if unit == "incidents" and (population_inline is not None or population_by is not None):
        problems.add("[population]", "the population route (population size x share victimised) counts victims, not incidents; "
                     "set unit = \"victims\" or drop [population]")
    given_priors = spec.get("priors")
    unused = [name for name in ("log_odds_ratio", "main_effect")
              if isinstance(given_priors, Mapping) and name in given_priors]
    if dependence == "latent-class" and unused:
        problems.add("[priors]", f"{', '.join(unused)} do not apply to dependence = \"latent-class\" (it has LCMCR's "
                     "priors); drop them or use \"pairwise\"")
    if dependence == "latent-class" and (population_inline is not None or population_by is not None):
        problems.add("[model]", "dependence = \"latent-class\" cannot be combined with [population] yet; use \"pairwise\" "
                     "or drop [population]")
    if by and lists_data is None and evidence is None:
        problems.add("by", f"names stratum columns ({', '.join(by)}) but no file carries them; give [lists] or [evidence] file")
    problems.raise_if_any()
    strata = _strata(problems, by, lists_data, sources, evidence, population_inline, population_by)
    problems.raise_if_any()
    list_names = lists_data.names if lists_data is not None else ()
    count_sources = tuple(dict.fromkeys(n for s in strata for n in s.counts))
    return CombineSpec(
        source=source, unit=str(unit), strata=tuple(strata), list_names=tuple(list_names),
        count_sources=count_sources, by=by, title=texts["title"], description=texts["description"], sha256=sha,
        terms=terms, dependence=dependence, priors=priors, files=files, descriptions=descriptions,
        lists_data=lists_data,
    )


def _strata(problems: Problems, by: tuple[str, ...], lists_data: ListData | None,
            sources: dict[str, tuple[int | None, Survey | None]],
            evidence: dict[tuple[str, ...], dict[str, tuple[int | None, Survey | None]]] | None,
            population_inline: PopulationRoute | None,
            population_by: dict[tuple[str, ...], PopulationRoute] | None) -> list[StratumEvidence]:
    list_names = lists_data.names if lists_data is not None else ()
    # which sources exist: the lists, and every source given a count somewhere
    counted = {n for n, (c, _) in sources.items() if c is not None}
    for rows in (evidence or {}).values():
        counted.update(n for n, (c, _) in rows.items() if c is not None)
    for name in sorted(counted & set(list_names)):
        problems.add(f"[sources.{name}]", f"'{name}' is a matched list; its count comes from the lists file, so give it no 'count'")
    known = set(list_names) | counted
    for name, (count, survey) in sources.items():
        if name not in known:
            lists_text = f"the lists are {', '.join(list_names)}" if list_names else "there is no [lists] file"
            problems.add(f"[sources.{name}]", f"a survey for a source that does not exist: '{name}' is not a matched list "
                         f"({lists_text}) and has no 'count'")
        elif by and (count is not None or survey is not None):
            problems.add(f"[sources.{name}]", "with `by`, counts and surveys differ by stratum: give them in [evidence] file "
                         "(a survey given once would be counted again in every stratum)")
    for rows in (evidence or {}).values():
        for name in rows:
            if name not in known:
                problems.add("[evidence]", f"a survey for a source that does not exist: '{name}' is not a matched list and has no count")
    if lists_data is None and not counted:
        problems.add(None, "no evidence to combine: give [lists] (matched lists) and/or sources with a 'count'")
    if lists_data is not None and counted:
        problems.add("[sources]", f"unlinked counts ({', '.join(sorted(counted))}) cannot yet be combined with matched lists in one model; "
                     "match them into the lists file, or run the counts on their own")
    if problems.items:
        return []
    keys: list[tuple[str, ...]] = []
    tables: dict[tuple[str, ...], ListTable] = {}
    if lists_data is not None:
        for table in lists_data.tables:
            key = tuple(str(table.stratum[c]) for c in by)
            keys.append(key)
            tables[key] = table
    for source_rows in (evidence or {}, population_by or {}):
        for key in source_rows:
            if key not in keys:
                if lists_data is not None:
                    problems.add("[evidence]" if source_rows is evidence else "[population]",
                                 f"stratum {_label(by, key)} is not in the lists file")
                else:
                    keys.append(key)
    if not keys:
        keys = [()]
    strata = []
    for key in keys:
        rows = (evidence or {}).get(key, {})
        counts = {n: c for n, (c, _) in sources.items() if c is not None}
        surveys = {n: s for n, (_, s) in sources.items() if s is not None}
        counts.update({n: c for n, (c, _) in rows.items() if c is not None})
        surveys.update({n: s for n, (_, s) in rows.items() if s is not None})
        missing = [n for n in counted if n not in counts]
        if missing:
            problems.add("[evidence]", f"stratum {_label(by, key)} has no count for {', '.join(sorted(missing))}; give every "
                         "unlinked source a count in every stratum (0 if none)")
        population = population_inline if not by else (population_by or {}).get(key)
        strata.append(StratumEvidence(stratum=dict(zip(by, key, strict=True)), table=tables.get(key), counts=counts,
                                      surveys=surveys, population=population))
    return strata


def _label(by: Sequence[str], key: tuple[str, ...]) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(by, key, strict=True)) or "all"


__all__ = ["DEFAULT_PRIORS", "CombineSpec", "StratumEvidence", "Survey", "read_spec"]

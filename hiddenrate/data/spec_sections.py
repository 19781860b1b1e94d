"""Pieces of the ``hiddenrate combine`` spec reader (:mod:`hiddenrate.data.spec`): collecting problems,
checking values, reading the per-stratum CSV files and each section of the spec."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hiddenrate.data.lists import ListData, read_lists
from hiddenrate.data.reporting import PopulationRoute
from hiddenrate.data.table import RawTable, read_input_bytes, read_table
from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.limits import MAX_COUNT, MAX_POPULATION, count_limit_text, outside_paths_allowed, shown
from hiddenrate.core.priors import numbers_to_fields
from hiddenrate.core.design import Terms, all_pairs, normalize_terms, parse_terms

UNITS = ("victims", "incidents")
TOP_KEYS = ("by", "description", "evidence", "lists", "model", "population", "priors", "sources", "title", "unit")
LISTS_KEYS = ("file", "names")
EVIDENCE_KEYS = ("file",)
SOURCE_KEYS = ("count", "description", "reported", "surveyed")
POPULATION_KEYS = ("description", "file", "high", "level", "low", "respondents", "victimized")
MODEL_KEYS = ("dependence",)
POPULATION_COLUMNS = ("low", "high", "victimized", "respondents")

#: Default priors; ``[priors]`` overrides them (see :mod:`hiddenrate.models.combine.model`).
DEFAULT_PRIORS: dict[str, dict[str, float]] = {
    # log odds ratio between two lists (every interaction term): Normal(mu, sigma)
    "log_odds_ratio": {"mu": 0.0, "sigma": 2.0},
    # log odds of being on one list only rather than on none: Normal(mu, sigma)
    "main_effect": {"mu": 0.0, "sigma": 5.0},
    # capture probability of an unlinked source (the exact counts model): Beta(alpha, beta)
    "capture_probability": {"alpha": 1.0, "beta": 1.0},
    # victimisation prevalence of the population route: Beta(alpha, beta)
    "prevalence": {"alpha": 1.0, "beta": 1.0},
}
_PRIOR_FIELDS = {"log_odds_ratio": ("mu", "sigma"), "main_effect": ("mu", "sigma"),
                 "capture_probability": ("alpha", "beta"), "prevalence": ("alpha", "beta")}


@dataclass(frozen=True)
class Survey:
    """Of ``surveyed`` victims (or incidents) asked, ``reported`` were known to the source."""

    surveyed: int
    reported: int

    @property
    def rate(self) -> float:
        """The observed share ``reported / surveyed``."""
        return self.reported / self.surveyed

    def text(self) -> str:
        """``195/711`` (the form publication safety recognises and hides when a part is small)."""
        return f"{self.reported}/{self.surveyed}"


# ----------------------------------------------------------------------------- problems


class Problems:
    """Collects every problem of a spec, then raises one DataError naming the spec."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str | None, message: str) -> None:
        """Record one problem at ``where`` (a section such as ``[sources.police]``)."""
        self.items.append(f"{where}: {message}" if where else message)

    def raise_if_any(self) -> None:
        """Raise one DataError listing every problem recorded so far."""
        if self.items:
            raise DataError(f"{self.source}: " + " | ".join(self.items))

    def unknown_keys(self, where: str, table: Mapping[str, Any], valid: Sequence[str]) -> None:
        """Record every key of ``table`` that is not in ``valid``, listing the valid ones."""
        for key in table:
            if key not in valid:
                self.add(where, f"unknown key '{shown(key)}'; valid keys: {', '.join(valid)}")


def _section(problems: Problems, spec: Mapping[str, Any], key: str, valid: Sequence[str]) -> dict[str, Any] | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.add(f"[{key}]", f"must be a table (a [{key}] section), got {shown(repr(value))}")
        return None
    problems.unknown_keys(f"[{key}]", value, valid)
    return dict(value)


def _whole(problems: Problems, where: str, key: str, value: Any, minimum: int = 0) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value != int(value):
        hint = "; give counts (reported out of surveyed), not a rate or percentage" if key == "reported" and isinstance(value, float) else ""
        problems.add(where, f"'{key}' must be a whole number >= {minimum}, got {shown(repr(value))}{hint}")
        return None
    if value < minimum:
        problems.add(where, f"'{key}' must be a whole number >= {minimum}, got {shown(repr(value))}")
        return None
    if value > MAX_COUNT:
        problems.add(where, f"'{key}' = {shown(repr(value))} is too large; {count_limit_text()}")
        return None
    return int(value)


def _number(problems: Problems, where: str, key: str, value: Any, *, positive: bool = True) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (positive and value <= 0):
        problems.add(where, f"'{key}' must be a number{' > 0' if positive else ''}, got {shown(repr(value))}")
        return None
    return float(value)


def _survey(problems: Problems, where: str, surveyed: Any, reported: Any) -> Survey | None:
    """A survey from two raw values; ``None`` (with a problem recorded if half given)."""
    if surveyed is None and reported is None:
        return None
    if surveyed is None or reported is None:
        missing = "surveyed" if surveyed is None else "reported"
        problems.add(where, f"'{missing}' is missing; a survey needs both surveyed and reported (of m surveyed, r were known to the source)")
        return None
    m = _whole(problems, where, "surveyed", surveyed, minimum=1)
    r = _whole(problems, where, "reported", reported)
    if m is None or r is None:
        return None
    if r > m:
        problems.add(where, f"{r} reported out of {m} surveyed; reported cannot exceed surveyed")
        return None
    return Survey(m, r)


# ----------------------------------------------------------------------------- files


@dataclass(frozen=True)
class DataFolder:
    """Where a spec's data paths point: ``path``; ``spec`` is the spec file itself (never data),
    ``confined`` keeps every data file inside ``path`` (a file spec, unless the user allows others)."""

    path: Path
    spec: Path | None = None
    confined: bool = False


def _resolve(base: DataFolder, value: Any, problems: Problems, where: str) -> Path | None:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        problems.add(where, f"'file' must be a path (text), got {shown(repr(value))}")
        return None
    name = shown(value, 80)
    path = Path(value)
    path = path if path.is_absolute() else base.path / path
    resolved = path.resolve()
    if base.confined and not outside_paths_allowed() and not resolved.is_relative_to(base.path.resolve()):
        problems.add(where, f"file '{name}' is outside the spec's folder; keep the data files in the spec's folder "
                     "(or below it), or pass --allow-outside-paths")
        return None
    if base.spec is not None and resolved == base.spec.resolve():
        problems.add(where, f"file '{name}' is the spec itself; name the CSV file of the data")
        return None
    if not path.exists():
        problems.add(where, f"file '{name}' does not exist (looked for {shown(path, 120)})")
        return None
    if path.is_dir():
        problems.add(where, f"'{name}' is a directory, not a CSV file")
        return None
    return path


def _sha(path: Path, label: str) -> str:
    return hashlib.sha256(read_input_bytes(path, label, what="CSV file")).hexdigest()


def _key_of(raw: RawTable, row: int, by: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(raw.frame[c].iloc[row]) for c in by)


def _check_table_columns(raw: RawTable, needed: Sequence[str], optional: Sequence[str], by: Sequence[str],
                         problems: Problems, where: str) -> bool:
    columns = list(raw.frame.columns)
    missing = [c for c in (*needed, *by) if c not in columns]
    unknown = [c for c in columns if c not in (*needed, *optional, *by)]
    if missing:
        problems.add(where, f"{raw.source}: no column '{missing[0]}'; the columns must be {', '.join((*needed, *optional, *by))}")
    if unknown:
        problems.add(where, f"{raw.source}: unknown column '{unknown[0]}'; the columns are {', '.join((*needed, *optional, *by))}"
                     + (" (name it in `by` if it is a stratum)" if not by else ""))
    return not missing and not unknown


def _cell_number(raw: RawTable, row: int, column: str, problems: Problems, where: str, *, whole: bool,
                 minimum: float = 0) -> float | None:
    text = str(raw.frame[column].iloc[row])
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        problems.add(where, f"{raw.source}, {raw.where(row)}, column '{column}': '{shown(text)}' is not a number")
        return None
    bad_whole = whole and value != math.floor(value)
    if not math.isfinite(value) or value < minimum or bad_whole:
        what = f"a whole number >= {minimum:g}" if whole else f"a number > {minimum:g}"
        problems.add(where, f"{raw.source}, {raw.where(row)}, column '{column}': {shown(text)} is not allowed; it must be {what}")
        return None
    if value > (MAX_COUNT if whole else MAX_POPULATION):
        limit = count_limit_text() if whole else f"numbers must be at most {MAX_POPULATION:,} (10^10)"
        problems.add(where, f"{raw.source}, {raw.where(row)}, column '{column}': {shown(text)} is too large; {limit}")
        return None
    return value


def _read_evidence(path: Path, by: Sequence[str], problems: Problems) -> dict[tuple[str, ...], dict[str, tuple[int | None, Survey | None]]]:
    """Rows of the evidence file: ``{stratum key: {source: (count, survey)}}``."""
    where = "[evidence]"
    try:
        raw = read_table(path, name=path.name)
    except DataError as err:
        problems.add(where, str(err))
        return {}
    if not _check_table_columns(raw, ("source",), ("count", "surveyed", "reported"), by, problems, where):
        return {}
    out: dict[tuple[str, ...], dict[str, tuple[int | None, Survey | None]]] = {}
    for row in range(len(raw.frame)):
        name = str(raw.frame["source"].iloc[row])
        place = f"{where} {raw.source}, {raw.where(row)}"
        if not name:
            problems.add(place, "the source name is missing")
            continue
        key = _key_of(raw, row, by)
        if any(k == "" for k in key):
            problems.add(place, "a stratum value is missing")
            continue
        count = _cell_number(raw, row, "count", problems, where, whole=True) if "count" in raw.frame.columns else None
        before = len(problems.items)
        surveyed = _cell_number(raw, row, "surveyed", problems, where, whole=True) if "surveyed" in raw.frame.columns else None
        reported = _cell_number(raw, row, "reported", problems, where, whole=True) if "reported" in raw.frame.columns else None
        # a survey value already refused above is not "missing" too (one message per mistake)
        survey = _survey(problems, place, surveyed, reported) if len(problems.items) == before else None
        if name in out.setdefault(key, {}):
            problems.add(place, f"source '{name}' appears twice for the same stratum; give each source once per stratum")
            continue
        out[key][name] = (None if count is None else int(count), survey)
    return out


def _read_population_file(path: Path, by: Sequence[str], level: float, problems: Problems) -> dict[tuple[str, ...], PopulationRoute]:
    where = "[population]"
    try:
        raw = read_table(path, name=path.name)
    except DataError as err:
        problems.add(where, str(err))
        return {}
    if not _check_table_columns(raw, POPULATION_COLUMNS, (), by, problems, where):
        return {}
    out: dict[tuple[str, ...], PopulationRoute] = {}
    for row in range(len(raw.frame)):
        values = {c: _cell_number(raw, row, c, problems, where, whole=c in ("victimized", "respondents"),
                                  minimum=1 if c == "respondents" else 0) for c in POPULATION_COLUMNS}
        if any(v is None for v in values.values()):
            if all(str(raw.frame[c].iloc[row]) for c in POPULATION_COLUMNS):
                continue  # a bad value, already recorded
            problems.add(f"{where} {raw.source}, {raw.where(row)}", "a value is missing; give low, high, victimized and respondents")
            continue
        try:
            route = PopulationRoute(low=float(values["low"] or 0), high=float(values["high"] or 0),
                                    victimized=int(values["victimized"] or 0), respondents=int(values["respondents"] or 0),
                                    level=level)
        except DataError as err:
            problems.add(f"{where} {raw.source}, {raw.where(row)}", str(err))
            continue
        out[_key_of(raw, row, by)] = route
    return out


def lists_section(problems: Problems, spec: Mapping[str, Any], by: tuple[str, ...], base: DataFolder,
                  files: dict[str, str | None]) -> ListData | None:
    """``[lists]``: the matched lists file read with :func:`~hiddenrate.data.lists.read_lists`."""
    section = _section(problems, spec, "lists", LISTS_KEYS)
    if section is None:
        return None
    if "file" not in section:
        problems.add("[lists]", "'file' is missing; name the CSV of matched lists (as `hiddenrate lists` reads it)")
        return None
    names = section.get("names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        problems.add("[lists]", f"'names' must be a list of column names, got {shown(repr(names))}")
        return None
    path = _resolve(base, section["file"], problems, "[lists]")
    if path is None:
        return None
    try:
        data = read_lists(path, lists=names, by=by, name=str(section["file"]))
    except DataError as err:
        problems.add("[lists]", str(err))
        return None
    files[str(section["file"])] = data.sha256
    return data


def sources_section(problems: Problems, spec: Mapping[str, Any]) -> tuple[dict[str, tuple[int | None, Survey | None]], dict[str, str]]:
    """``[sources.NAME]``: each source's unlinked count and survey, and descriptions."""
    value = spec.get("sources", {})
    out: dict[str, tuple[int | None, Survey | None]] = {}
    descriptions: dict[str, str] = {}
    if not isinstance(value, Mapping):
        problems.add("[sources]", f"must be a table of sources ([sources.police] ...), got {shown(repr(value))}")
        return out, descriptions
    for name, entry in value.items():
        where = f"[sources.{name}]"
        if not isinstance(entry, Mapping):
            problems.add(where, f"must be a table with keys {', '.join(SOURCE_KEYS)}, got {shown(repr(entry))}")
            continue
        problems.unknown_keys(where, entry, SOURCE_KEYS)
        count = _whole(problems, where, "count", entry["count"]) if "count" in entry else None
        survey = _survey(problems, where, entry.get("surveyed"), entry.get("reported"))
        if "description" in entry:
            descriptions[str(name)] = str(entry["description"])
        out[str(name)] = (count, survey)
    return out, descriptions


def evidence_section(problems: Problems, spec: Mapping[str, Any], by: tuple[str, ...], base: DataFolder,
                     files: dict[str, str | None]) -> dict[tuple[str, ...], dict[str, tuple[int | None, Survey | None]]] | None:
    """``[evidence]``: counts and surveys by stratum from a CSV file."""
    section = _section(problems, spec, "evidence", EVIDENCE_KEYS)
    if section is None:
        return None
    if "file" not in section:
        problems.add("[evidence]", "'file' is missing; name a CSV with columns source, count, surveyed, reported (and the by columns)")
        return None
    path = _resolve(base, section["file"], problems, "[evidence]")
    if path is None:
        return None
    files[str(section["file"])] = _sha(path, str(section["file"]))
    return _read_evidence(path, by, problems)


def population_section(problems: Problems, spec: Mapping[str, Any], by: tuple[str, ...], base: DataFolder,
                       files: dict[str, str | None], descriptions: dict[str, str]) -> tuple[PopulationRoute | None, dict[tuple[str, ...], PopulationRoute] | None]:
    """``[population]``: the route inline (unstratified) or by stratum from a CSV file."""
    section = _section(problems, spec, "population", POPULATION_KEYS)
    if section is None:
        return None, None
    where = "[population]"
    if "description" in section:
        descriptions["population route"] = str(section["description"])
    level = _number(problems, where, "level", section.get("level", 0.95)) or 0.95
    if not 0 < level < 1:
        problems.add(where, f"'level' must be between 0 and 1 (0.95 for a 95% interval), got {level}")
        level = 0.95
    inline = [k for k in POPULATION_COLUMNS if k in section]
    if "file" in section:
        if inline:
            problems.add(where, f"give either 'file' or the values ({', '.join(POPULATION_COLUMNS)}), not both")
            return None, None
        if not by:
            problems.add(where, "a population file gives the route by stratum; without `by` give low, high, victimized and respondents here")
            return None, None
        path = _resolve(base, section["file"], problems, where)
        if path is None:
            return None, None
        files[str(section["file"])] = _sha(path, str(section["file"]))
        return None, _read_population_file(path, by, level, problems)
    missing = [k for k in POPULATION_COLUMNS if k not in section]
    if missing:
        problems.add(where, f"'{missing[0]}' is missing; the population route needs {', '.join(POPULATION_COLUMNS)}")
        return None, None
    if by:
        problems.add(where, "with `by`, give the population route per stratum: [population] file = \"population.csv\"")
        return None, None
    low = _number(problems, where, "low", section["low"])
    high = _number(problems, where, "high", section["high"])
    victimized = _whole(problems, where, "victimized", section["victimized"])
    respondents = _whole(problems, where, "respondents", section["respondents"], minimum=1)
    if low is None or high is None or victimized is None or respondents is None:
        return None, None
    try:
        return PopulationRoute(low=low, high=high, victimized=victimized, respondents=respondents, level=level), None
    except DataError as err:
        problems.add(where, str(err))
        return None, None


def dependence_section(problems: Problems, spec: Mapping[str, Any], lists_data: ListData | None) -> tuple[Terms, str]:
    """``[model] dependence``: the interaction terms among the matched lists."""
    section = _section(problems, spec, "model", MODEL_KEYS) or {}
    value = section.get("dependence", "pairwise")
    if lists_data is None:
        if "dependence" in section:
            problems.add("[model]", "'dependence' describes matched lists; this spec has no [lists]")
        return (), "none"
    k = lists_data.k
    if value == "pairwise":
        return all_pairs(k), "pairwise"
    if value in ("independent", "independence"):
        return (), "independent"
    if value == "latent-class":
        return (), "latent-class"
    text = ",".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else value
    if not isinstance(text, str):
        problems.add("[model]", f"'dependence' must be \"pairwise\", \"independent\", \"latent-class\" or terms such as "
                                f"[\"police:ngo\"], got {shown(repr(value))}")
        return (), "invalid"
    try:
        return normalize_terms(parse_terms(text, lists_data.names)), text
    except ModelError as err:
        problems.add("[model]", f"'dependence': {err}")
        return (), "invalid"


def priors_section(problems: Problems, spec: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """``[priors]``: overrides merged onto :data:`DEFAULT_PRIORS`."""
    merged = {k: dict(v) for k, v in DEFAULT_PRIORS.items()}
    section = _section(problems, spec, "priors", tuple(DEFAULT_PRIORS)) or {}
    for name, value in section.items():
        if name not in DEFAULT_PRIORS:
            continue
        fields = _PRIOR_FIELDS[name]
        where = f"[priors] {name}"
        if not isinstance(value, (Mapping, list)):
            problems.add(where, f"give {{ {fields[0]} = ..., {fields[1]} = ... }} or [{fields[0]}, {fields[1]}], got {shown(repr(value))}")
            continue
        errors: list[str] = []
        value = numbers_to_fields(name, value, fields, errors)  # the rule every --prior and Python override follows
        if value is None:
            problems.add(where, f"give {{ {fields[0]} = ..., {fields[1]} = ... }} or [{fields[0]}, {fields[1]}]: "
                                + "; ".join(errors))
            continue
        problems.unknown_keys(where, value, fields)
        for key in fields:
            if key in value:
                number = _number(problems, where, key, value[key], positive=key != "mu")
                if number is not None:
                    merged[name][key] = number
    return merged


__all__ = [
    "DEFAULT_PRIORS",
    "TOP_KEYS",
    "DataFolder",
    "UNITS",
    "Problems",
    "Survey",
    "dependence_section",
    "evidence_section",
    "lists_section",
    "population_section",
    "priors_section",
    "sources_section",
]

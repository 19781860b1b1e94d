"""The ``hiddenrate link`` specification: a TOML file naming one CSV of records per source.

::

    [link]
    threshold = 0.8         # match probability at which two records are the same person (default 0.8)
    review = [0.2, 0.95]    # pairs with a probability in this band go to the clerical-review file
    draws = 50              # plausible linkages drawn for --estimate (default 50)
    encoded = false         # true: the files were written by `hiddenrate link encode`
    backend = "duckdb"      # or "spark" (optional extra; see docs/linkage.md)

    [sources.police]
    file = "police.csv"     # relative to the spec file
    id = "case_no"          # the column that identifies a record (default: the row number)
    [sources.police.columns]
    first_name = "forename" # hiddenrate's field = the file's column; fields not named keep their own name

Fields: ``first_name``, ``last_name``, ``sex``, ``birth_date`` (YYYY-MM-DD) or ``birth_year`` (the year
is taken from the date when only the date is given), ``place``, ``id_fragment`` (incident_date is
carried but not compared). A field a source lacks is missing for that source.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hiddenrate.core.exceptions import DataError

#: the fields records are compared on (plain identifiers)
FIELDS = ("first_name", "last_name", "sex", "birth_date", "birth_year", "place", "id_fragment")
DEFAULT_THRESHOLD = 0.8
DEFAULT_REVIEW = (0.2, 0.95)
DEFAULT_DRAWS = 50
BACKENDS = ("duckdb", "spark")


@dataclass(frozen=True)
class SourceSpec:
    """One source: its name, file, record-id column (``None``: row number) and field -> column map."""

    name: str
    file: Path
    id: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkSpec:
    """A validated ``hiddenrate link`` spec."""

    sources: tuple[SourceSpec, ...]
    threshold: float = DEFAULT_THRESHOLD
    review: tuple[float, float] = DEFAULT_REVIEW
    draws: int = DEFAULT_DRAWS
    encoded: bool = False
    backend: str = "duckdb"
    source: str = "spec"
    sha256: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)


def _number(section: dict[str, Any], key: str, default: float, where: str, low: float, high: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise DataError(f"{where}: [link] {key} must be a number from {low:g} to {high:g}")
    return float(value)


def _source(name: str, entry: Any, where: str, base: Path) -> SourceSpec:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise DataError(f"{where}: [sources.{name}] needs file = \"records.csv\"")
    unknown = set(entry) - {"file", "id", "columns"}
    if unknown:
        raise DataError(f"{where}: [sources.{name}] has unknown key(s) {', '.join(sorted(unknown))}")
    columns = entry.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise DataError(f"{where}: [sources.{name}.columns] maps fields to column names (strings)")
    bad = set(columns) - {*FIELDS, "incident_date"}
    if bad:
        raise DataError(f"{where}: [sources.{name}.columns] unknown field(s) {', '.join(sorted(bad))}; "
                        f"fields are {', '.join(FIELDS)}, incident_date")
    ident = entry.get("id")
    if ident is not None and not isinstance(ident, str):
        raise DataError(f"{where}: [sources.{name}] id must be a column name")
    return SourceSpec(name, base / entry["file"], ident, dict(columns))


def link_spec(raw: dict[str, Any], where: str = "spec", base: Path = Path("."), sha: str | None = None) -> LinkSpec:
    """Validate a parsed spec (a dict as TOML gives it)."""
    unknown = set(raw) - {"link", "sources"}
    if unknown:
        raise DataError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; use [link] and [sources.NAME]")
    section = raw.get("link", {})
    sources = raw.get("sources")
    if not isinstance(sources, dict) or len(sources) < 2:
        raise DataError(f"{where}: name at least two sources, each as [sources.NAME] with file = ...")
    review = section.get("review", list(DEFAULT_REVIEW))
    if (not isinstance(review, list) or len(review) != 2 or not all(isinstance(x, (int, float)) for x in review)
            or not 0 <= review[0] < review[1] <= 1):
        raise DataError(f"{where}: [link] review must be two probabilities [low, high] with low < high")
    draws = section.get("draws", DEFAULT_DRAWS)
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 10_000:
        raise DataError(f"{where}: [link] draws must be a whole number from 1 to 10000")
    backend = section.get("backend", "duckdb")
    if backend not in BACKENDS:
        raise DataError(f"{where}: [link] backend must be one of {', '.join(BACKENDS)}")
    extra = set(section) - {"threshold", "review", "draws", "encoded", "backend"}
    if extra:
        raise DataError(f"{where}: [link] has unknown key(s) {', '.join(sorted(extra))}")
    return LinkSpec(
        sources=tuple(_source(str(n), e, where, base) for n, e in sources.items()),
        threshold=_number(section, "threshold", DEFAULT_THRESHOLD, where, 0.01, 0.999),
        review=(float(review[0]), float(review[1])), draws=draws, encoded=bool(section.get("encoded", False)),
        backend=backend, source=where, sha256=sha)


def read_link_spec(path: str | Path) -> LinkSpec:
    """Read and validate a spec file; paths in it are relative to the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save the spec as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise DataError(f"{path}: not valid TOML: {err}") from None
    return link_spec(raw, str(path), path.resolve().parent, hashlib.sha256(data).hexdigest())

"""Overlapping-list data: validated, immutable containers and the readers that build them.

The input format is the one Rcapture, SparseMSE and LCMCR read: one 0/1 column per list
(1 = the person is on that list) and an optional ``count`` column holding the number of
people with that capture pattern. Without ``count`` every row is one person. Strata
(``--by``) are further columns; each stratum gets its own table. The other classic format,
``nbcap,count`` (how many people were caught exactly ``nbcap`` times by one source), is
read by :func:`read_capture_counts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hiddenrate.data.table import RawTable, read_table
from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_COUNT, columns_text, count_limit_text, shown
from hiddenrate.core.design import cell_index, n_cells, patterns

COUNT = "count"
NBCAP = "nbcap"
MAX_LISTS = 15
#: most times one person can be caught in the number-of-captures format
MAX_NBCAP = 10_000


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class ListTable:
    """Counts of people by capture pattern for one stratum.

    Attributes
    ----------
    names
        List names, in column order (list ``j`` is bit ``j`` of a cell index).
    counts
        Read-only int array of length ``2**K``; entry 0 (on no list) is 0.
    stratum
        The stratum's column values, e.g. ``{"region": "North"}``; empty for unstratified data.
    """

    names: tuple[str, ...]
    counts: np.ndarray
    stratum: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", _frozen(np.asarray(self.counts, dtype=np.int64)))

    @property
    def k(self) -> int:
        """Number of lists."""
        return len(self.names)

    @property
    def observed(self) -> int:
        """Number of distinct people on at least one list."""
        return int(self.counts[1:].sum())

    def list_sizes(self) -> dict[str, int]:
        """Number of people on each list."""
        pat = patterns(self.k)
        return {name: int(self.counts[pat[:, j] == 1].sum()) for j, name in enumerate(self.names)}

    def overlaps(self) -> np.ndarray:
        """``K x K`` matrix: people on both list i and list j (the diagonal holds list sizes)."""
        pat = patterns(self.k).astype(np.int64)
        weighted = pat * self.counts[:, None]
        return weighted.T @ pat

    def zero_overlap_pairs(self) -> list[tuple[str, str]]:
        """Pairs of lists with nobody in common."""
        ov = self.overlaps()
        return [
            (self.names[i], self.names[j])
            for i in range(self.k)
            for j in range(i + 1, self.k)
            if ov[i, j] == 0
        ]

    def to_frame(self) -> pd.DataFrame:
        """The table in Rcapture format (observed patterns with a positive count)."""
        pat = patterns(self.k)
        keep = np.flatnonzero(self.counts > 0)
        keep = keep[keep > 0]
        frame = pd.DataFrame(pat[keep], columns=list(self.names))
        frame[COUNT] = self.counts[keep]
        return frame

    def label(self) -> str:
        """Readable stratum label such as ``region=North``; ``all`` when unstratified."""
        if not self.stratum:
            return "all"
        return ", ".join(f"{key}={value}" for key, value in self.stratum.items())


@dataclass(frozen=True)
class ListData:
    """Overlapping-list data, one :class:`ListTable` per stratum.

    Attributes
    ----------
    names
        The lists analysed.
    by
        Stratum columns (empty when unstratified).
    tables
        One table per stratum, in order of first appearance.
    source
        File name or ``DataFrame``, for messages and reports.
    notes
        What the reader did that a user should know (e.g. lists left out).
    sha256
        Hash of the input file's bytes (provenance; ``None`` for a DataFrame).
    """

    names: tuple[str, ...]
    by: tuple[str, ...]
    tables: tuple[ListTable, ...]
    source: str = "DataFrame"
    notes: tuple[str, ...] = ()
    sha256: str | None = None

    @property
    def k(self) -> int:
        """Number of lists."""
        return len(self.names)

    @property
    def observed(self) -> int:
        """People on at least one list, over all strata."""
        return sum(t.observed for t in self.tables)

    @property
    def stratified(self) -> bool:
        """True when the data were split by ``by`` columns."""
        return bool(self.by)

    def pooled(self) -> ListTable:
        """All strata added together."""
        counts = np.sum([t.counts for t in self.tables], axis=0)
        return ListTable(names=self.names, counts=counts)


@dataclass(frozen=True)
class CaptureCountData:
    """Single-source repeated-capture data: ``frequencies[k]`` people were caught exactly ``k`` times.

    ``frequencies`` is a read-only int array indexed by ``k`` (entry 0 unused).
    """

    frequencies: np.ndarray
    source: str = "DataFrame"
    sha256: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequencies", _frozen(np.asarray(self.frequencies, dtype=np.int64)))

    @property
    def observed(self) -> int:
        """Number of distinct people caught at least once."""
        return int(self.frequencies[1:].sum())


# ----------------------------------------------------------------------------- parsing helpers


def _parse_whole(raw: RawTable, column: str, *, minimum: int = 0, what: str, maximum: int = MAX_COUNT,
                 too_big: str | None = None) -> np.ndarray:
    """Parse a column of whole numbers from minimum to maximum, with a precise error for the first bad value."""
    values = raw.frame[column].tolist()
    out = np.empty(len(values), dtype=np.int64)
    for i, text in enumerate(values):
        if text == "":
            raise raw.error(i, column, f"the value is missing; {what}")
        try:
            number = float(text)
        except ValueError:
            raise raw.error(i, column, f"'{shown(text)}' is not a number; {what}") from None
        if not np.isfinite(number) or number != np.floor(number) or number < minimum:
            raise raw.error(i, column, f"{shown(text)} is not allowed; {what}")
        if number > maximum:
            raise raw.error(i, column, f"{shown(text)} is too large; {too_big or count_limit_text()}")
        out[i] = int(number)
    return out


def _is_binary(raw: RawTable, column: str) -> bool:
    return bool(raw.frame[column].isin(["0", "1", "0.0", "1.0"]).all())


def _parse_binary(raw: RawTable, column: str) -> np.ndarray:
    values = raw.frame[column].tolist()
    out = np.empty(len(values), dtype=np.int8)
    for i, text in enumerate(values):
        if text in ("0", "0.0"):
            out[i] = 0
        elif text in ("1", "1.0"):
            out[i] = 1
        else:
            value = shown(text) if text else "an empty value"
            raise raw.error(
                i, column, f"{value} is not 0 or 1; a list column holds 1 if the person is on that list, else 0"
            )
    return out


def _split_strata(raw: RawTable, by: Sequence[str]) -> list[tuple[dict[str, str], np.ndarray]]:
    """Row indices of each stratum, in order of first appearance."""
    if not by:
        return [({}, np.arange(len(raw.frame)))]
    for column in by:
        blank = np.flatnonzero(raw.frame[column].to_numpy() == "")
        if blank.size:
            raise raw.error(int(blank[0]), column, "the stratum value is missing; fill it in or drop the row")
    keys = list(zip(*(raw.frame[c].tolist() for c in by), strict=True))
    order: dict[tuple[str, ...], list[int]] = {}
    for i, key in enumerate(keys):
        order.setdefault(key, []).append(i)
    return [(dict(zip(by, key, strict=True)), np.array(rows)) for key, rows in order.items()]


def _check_columns(raw: RawTable, wanted: Sequence[str], role: str) -> None:
    missing = [c for c in wanted if c not in raw.frame.columns]
    if missing:
        raise DataError(
            f"{raw.source}: no column '{missing[0]}' (named as {role}); the columns are: "
            f"{columns_text(raw.frame.columns)}"
        )


# ----------------------------------------------------------------------------- readers


def read_lists(
    source: str | Path | pd.DataFrame,
    lists: Sequence[str] | None = None,
    by: Sequence[str] = (),
    *,
    name: str | None = None,
) -> ListData:
    """Read overlapping-list data in Rcapture/SparseMSE/LCMCR format.

    Parameters
    ----------
    source
        CSV path or DataFrame: one 0/1 column per list, optional ``count``, optional strata.
    lists
        List columns to analyse. Default: every 0/1 column other than ``count`` and ``by``.
        Other 0/1 columns are then summed over (a note says so); records on none of the
        chosen lists are set aside.
    by
        Stratum columns; one table per distinct combination of their values.
    name
        How to name the source in messages.

    Returns
    -------
    ListData

    Raises
    ------
    DataError
        With the file, line and column of the first problem and how to fix it: missing or
        unknown columns, non-0/1 list values, negative, fractional or non-numeric counts, an
        all-zero pattern with a positive count, duplicated patterns, fewer than two lists.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [40, 30, 6]})
    >>> read_lists(frame).tables[0].observed
    76
    """
    raw = read_table(source, name=name)
    return _lists_from_raw(raw, lists, by)


def _lists_from_raw(raw: RawTable, lists: Sequence[str] | None, by: Sequence[str]) -> ListData:
    columns = list(raw.frame.columns)
    by = tuple(by)
    _check_columns(raw, by, "a stratum (--by)")
    if NBCAP in columns:
        raise DataError(
            f"{raw.source}: has an '{NBCAP}' column, which is the number-of-captures format; "
            "read it with read_capture_counts (the CLI detects it by itself)"
        )
    has_count = COUNT in columns
    notes: list[str] = []
    candidates = [c for c in columns if c != COUNT and c not in by]
    chosen = _chosen_lists(raw, lists, by, candidates, notes)
    flags, all_flags, counts = _flags_and_counts(raw, chosen, candidates, lists is not None, has_count)
    cell = (flags.astype(np.int64) << np.arange(flags.shape[1])).sum(axis=1)
    tables = []
    for stratum, rows in _split_strata(raw, by):
        if has_count:
            _check_patterns_once(raw, stratum, rows, all_flags)
        table_counts = np.bincount(cell[rows], weights=counts[rows], minlength=n_cells(len(chosen)))
        set_aside = int(table_counts[0])
        table_counts[0] = 0
        table = ListTable(names=tuple(chosen), counts=table_counts.astype(np.int64), stratum=stratum)
        if table.observed > MAX_COUNT:
            raise DataError(f"{raw.source}: {table.observed:,} people observed"
                            + (f" in stratum {shown(table.label())}" if by else "")
                            + f"; {count_limit_text('people observed in one table')}")
        if table.observed == 0:
            where = table.label()
            raise DataError(
                f"{raw.source}: stratum {where} has nobody on any list; there is nothing to estimate from"
                if by
                else f"{raw.source}: every count is zero; there is nothing to estimate from"
            )
        if set_aside:
            notes.append(f"{table.label()}: {set_aside} records on none of the chosen lists were set aside")
        tables.append(table)
    return ListData(
        names=tuple(chosen), by=by, tables=tuple(tables), source=raw.source, notes=tuple(notes), sha256=raw.sha256
    )


def _chosen_lists(raw: RawTable, lists: Sequence[str] | None, by: tuple[str, ...], candidates: list[str],
                  notes: list[str]) -> list[str]:
    """The list columns: every 0/1 column (``lists`` None) or the ones named, checked; notes the
    0/1 columns left out."""
    if lists is None:
        binary = [c for c in candidates if _is_binary(raw, c)]
        unknown = [c for c in candidates if c not in binary]
        if unknown:
            column = unknown[0]
            values = raw.frame[column].tolist()
            bad_row = next(i for i, v in enumerate(values) if v not in ("0", "1", "0.0", "1.0"))
            raise raw.error(
                bad_row,
                column,
                f"'{shown(values[bad_row])}' is not 0 or 1, so '{column}' is not a list column; if it is a stratum "
                f"pass --by {column}, otherwise remove the column (list columns hold 0/1, counts go in 'count')",
            )
        chosen = binary
    else:
        chosen = [str(c).strip() for c in lists]
        if len(set(chosen)) != len(chosen):
            raise DataError(f"{raw.source}: a list is named twice in --lists ({', '.join(chosen)})")
        _check_columns(raw, chosen, "a list (--lists)")
        clash = [c for c in chosen if c == COUNT or c in by]
        if clash:
            raise DataError(f"{raw.source}: column '{clash[0]}' cannot be both a list and the count or a stratum")
        others = [c for c in candidates if c not in chosen]
        unknown = [c for c in others if not _is_binary(raw, c)]
        if unknown:
            raise DataError(
                f"{raw.source}: unknown column '{unknown[0]}' (not a chosen list, not 'count', not a --by stratum); "
                f"pass --by {unknown[0]} if it is a stratum, or remove it"
            )
        if others:
            notes.append(
                f"lists not analysed: {', '.join(others)} (records were summed over them; people found only "
                "on those lists count as unobserved)"
            )
    if len(chosen) < 2:
        found = f"only '{chosen[0]}'" if chosen else "none"
        raise DataError(
            f"{raw.source}: needs at least two list columns of 0/1 flags, found {found}; "
            "capture-recapture compares lists (for one source caught repeatedly use the nbcap,count format)"
        )
    if len(chosen) > MAX_LISTS:
        raise DataError(f"{raw.source}: {len(chosen)} lists; hiddenrate handles at most {MAX_LISTS}")
    return chosen


def _flags_and_counts(raw: RawTable, chosen: list[str], candidates: list[str], named: bool,
                      has_count: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flags of the chosen lists, flags of every list column (``named``: lists chosen by name) and
    each row's count (1 without a count column); no row may be on no list at all."""
    flags = np.column_stack([_parse_binary(raw, c) for c in chosen])
    all_flags = flags
    if named:
        extra = [c for c in candidates if c not in chosen]
        all_flags = np.column_stack([flags] + [_parse_binary(raw, c) for c in extra]) if extra else flags
    if has_count:
        counts = _parse_whole(raw, COUNT, what="counts must be whole numbers >= 0 (people with this pattern)")
    else:
        counts = np.ones(len(raw.frame), dtype=np.int64)

    nowhere = np.flatnonzero((all_flags.sum(axis=1) == 0) & (counts > 0))
    if nowhere.size:
        row = int(nowhere[0])
        raise raw.error(
            row,
            COUNT if has_count else None,
            f"{counts[row]} people with an all-zero pattern (on no list); nobody on no list can be observed, "
            "so remove this row (the all-zero count is what hiddenrate estimates)",
        )
    return flags, all_flags, counts


def _check_patterns_once(raw: RawTable, stratum: dict[str, str], rows: np.ndarray, all_flags: np.ndarray) -> None:
    """With a count column each capture pattern (over every list column) comes once per stratum."""
    full_cell = (all_flags[rows].astype(np.int64) << np.arange(all_flags.shape[1])).sum(axis=1)
    seen: dict[int, int] = {}
    for row, key in zip(rows, full_cell, strict=True):
        if key in seen:
            where = ", ".join(f"{c}={v}" for c, v in stratum.items())
            raise raw.error(
                int(row),
                None,
                f"the capture pattern of {raw.where(seen[key])} appears again"
                + (f" (stratum {where})" if where else "")
                + "; give each pattern once with its total count",
            )
        seen[key] = int(row)


def read_capture_counts(source: str | Path | pd.DataFrame, *, name: str | None = None) -> CaptureCountData:
    """Read number-of-captures data: columns ``nbcap`` (times caught, >= 1) and ``count`` (people).

    Raises
    ------
    DataError
        Missing or unknown columns, ``nbcap`` < 1 or fractional, negative or fractional counts,
        a repeated ``nbcap``.
    """
    raw = read_table(source, name=name)
    return _capture_counts_from_raw(raw)


def _capture_counts_from_raw(raw: RawTable) -> CaptureCountData:
    _check_columns(raw, [NBCAP, COUNT], "the number-of-captures format (nbcap,count)")
    extra = [c for c in raw.frame.columns if c not in (NBCAP, COUNT)]
    if extra:
        raise DataError(
            f"{raw.source}: unknown column '{extra[0]}'; the number-of-captures format has only 'nbcap' and 'count'"
        )
    times = _parse_whole(raw, NBCAP, minimum=1, what="nbcap is how many times a person was caught (1, 2, 3, ...)",
                         maximum=MAX_NBCAP, too_big=f"nbcap (times caught) must be at most {MAX_NBCAP:,}")
    counts = _parse_whole(raw, COUNT, what="counts must be whole numbers >= 0 (people caught nbcap times)")
    seen: dict[int, int] = {}
    for row, t in enumerate(times):
        if t in seen:
            raise raw.error(row, NBCAP, f"nbcap={t} already appears on {raw.where(seen[t])}; give each once")
        seen[int(t)] = row
    frequencies = np.zeros(int(times.max()) + 1, dtype=np.int64)
    frequencies[times] = counts
    data = CaptureCountData(frequencies=frequencies, source=raw.source, sha256=raw.sha256)
    if data.observed > MAX_COUNT:
        raise DataError(f"{raw.source}: {data.observed:,} people observed; {count_limit_text('people observed')}")
    if data.observed == 0:
        raise DataError(f"{raw.source}: every count is zero; there is nothing to estimate from")
    return data


def read_list_input(
    source: str | Path | pd.DataFrame,
    lists: Sequence[str] | None = None,
    by: Sequence[str] = (),
    *,
    name: str | None = None,
) -> ListData | CaptureCountData:
    """Read either format: ``nbcap,count`` data if there is an ``nbcap`` column, else list data."""
    raw = read_table(source, name=name)
    if NBCAP in raw.frame.columns:
        if lists or by:
            raise DataError(f"{raw.source}: --lists and --by do not apply to number-of-captures (nbcap) data")
        return _capture_counts_from_raw(raw)
    return _lists_from_raw(raw, lists, by)


__all__ = [
    "CaptureCountData",
    "ListData",
    "ListTable",
    "cell_index",
    "read_capture_counts",
    "read_list_input",
    "read_lists",
]

"""Read a CSV file (or take a DataFrame) as a table of strings, with errors that name the place.

Every value is kept as text so that the container modules can validate it and say exactly
which line and column is wrong. Nothing here modifies the input file.
"""

from __future__ import annotations

import csv
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hiddenrate.core.exceptions import DataError
from hiddenrate.core.limits import MAX_COLUMNS, MAX_LINE_CHARS, MAX_NAME_CHARS, max_input_bytes, shown, size_text

_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class RawTable:
    """A table of strings read from one source.

    ``line_of(i)`` gives what a person should look at for data row ``i`` (0-based):
    the file line (header = line 1) or, for a DataFrame, its index label.
    """

    frame: pd.DataFrame
    source: str
    is_file: bool
    sha256: str | None = None

    def where(self, row: int) -> str:
        """Human pointer to data row ``row`` (0-based), e.g. ``line 5`` or ``row 3``."""
        if self.is_file:
            return f"line {row + 2}"
        label = self.frame.index[row]
        label = label.item() if hasattr(label, "item") else label
        return f"row {label}"

    def error(self, row: int | None, column: str | None, what: str) -> DataError:
        """Build a DataError whose message starts with source, place and column."""
        parts = [self.source]
        if row is not None:
            parts.append(self.where(row))
        if column is not None:
            parts.append(f"column '{column}'")
        return DataError(": ".join([", ".join(parts), what]))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (recorded in reports as provenance, never the data itself)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_input_bytes(path: Path, label: str, *, what: str, limit: int | None | str = "default",
                     hint: str = "if it is the right file, raise the cap with --max-input-mb") -> bytes:
    """The bytes of the file at ``path``, refused before anything is read when it is not a regular
    file (a device such as /dev/zero or a FIFO would be endless or block) and, while reading,
    when it is longer than ``limit`` (default: :func:`~hiddenrate.core.limits.max_input_bytes`)."""
    cap = max_input_bytes() if limit == "default" else limit
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{label}: no such file") from None
    except OSError as err:
        raise DataError(f"{label}: cannot read it ({err.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{label}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{label}: is not a regular file (a device, pipe or socket); give a {what}")
    if isinstance(cap, int) and info.st_size > cap:
        raise _too_big(label, info.st_size, cap, hint)
    try:
        with open(path, "rb") as handle:
            data = handle.read() if not isinstance(cap, int) else handle.read(cap + 1)
    except OSError as err:
        raise DataError(f"{label}: cannot read it ({err.strerror})") from None
    if isinstance(cap, int) and len(data) > cap:
        raise _too_big(label, len(data), cap, hint)
    return data


def _too_big(label: str, size: int, cap: int, hint: str) -> DataError:
    return DataError(f"{label}: the file is {size_text(size)}, more than the {size_text(cap)} hiddenrate reads; {hint}")


def _check_lines(lines: list[str], label: str) -> None:
    """Refuse over-long lines (before the csv module, whose limit gives an unreadable error)."""
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise DataError(f"{label}, line {number}: the line is {len(line):,} characters long, more than the "
                            f"{MAX_LINE_CHARS:,} allowed; is this the right file?")


def _csv_rows(lines: list[str], label: str) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every row; a quoted value over several lines is refused."""
    reader = csv.reader(lines)
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for row in reader:
            if reader.line_num != last + 1:
                raise DataError(f"{label}, line {last + 1}: a quoted value runs over several lines (a line break "
                                "inside quotes); remove the line breaks from the value")
            last = reader.line_num
            rows.append((last, row))
    except csv.Error as err:
        raise DataError(f"{label}, line {reader.line_num}: not readable as CSV ({shown(err, 80)})") from None
    return rows


def _header(row: tuple[int, list[str]], label: str) -> list[str]:
    header_fields = [h.strip() for h in row[1]]
    if len(header_fields) > MAX_COLUMNS:
        raise DataError(f"{label}, line 1: {len(header_fields):,} columns, more than the {MAX_COLUMNS} allowed; "
                        "is this the right file?")
    if any(h == "" for h in header_fields):
        position = header_fields.index("") + 1
        raise DataError(f"{label}, line 1: column {position} has no name; every column needs a header")
    long_names = [i for i, h in enumerate(header_fields) if len(h) > MAX_NAME_CHARS or not h.isprintable()]
    if long_names:
        name = header_fields[long_names[0]]
        raise DataError(f"{label}, line 1: column {long_names[0] + 1} ('{shown(name)}') is not a column name "
                        f"(names are at most {MAX_NAME_CHARS} printable characters); is this the right file?")
    duplicated = sorted({h for h in header_fields if header_fields.count(h) > 1})
    if duplicated:
        raise DataError(f"{label}, line 1: column '{shown(duplicated[0])}' appears twice in the header")
    return header_fields


def read_table(source: str | Path | pd.DataFrame, name: str | None = None) -> RawTable:
    """Read ``source`` into a :class:`RawTable` of strings.

    Parameters
    ----------
    source
        Path to a comma-separated UTF-8 file with a header row, or a DataFrame.
    name
        How to refer to the source in messages (default: the path, or ``DataFrame``).

    Raises
    ------
    DataError
        Missing, empty, non-UTF-8, wrongly delimited or ragged files.
    """
    if isinstance(source, pd.DataFrame):
        if source.shape[1] == 0 or source.shape[0] == 0:
            raise DataError(f"{name or 'DataFrame'}: the table is empty; give one row per capture pattern")
        frame = source.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.astype(object).where(frame.notna(), "")
        frame = frame.map(lambda v: str(v).strip())
        return RawTable(frame=frame, source=name or "DataFrame", is_file=False)

    path = Path(source)
    label = name or str(source)
    raw = read_input_bytes(path, label, what="CSV file")
    if not raw.strip():
        raise DataError(f"{label}: the file is empty; it needs a header row and one row per capture pattern")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{label}, line {line}: the file is not UTF-8 (byte 0x{raw[err.start]:02x} cannot be decoded); "
            "re-save it as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    lines = text.splitlines()
    _check_lines(lines, label)
    header = lines[0]
    if "," not in header:
        for delimiter, plural in _OTHER_DELIMITERS.items():
            if delimiter in header:
                raise DataError(
                    f"{label}, line 1: the columns are separated by {plural}, not commas; "
                    "save the file as comma-separated values (CSV)"
                )
    rows = _csv_rows(lines, label)
    header_fields = _header(rows[0], label)
    body: list[list[str]] = []
    line_numbers: list[int] = []
    for offset, row in rows[1:]:
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines are harmless
        if len(row) != len(header_fields):
            raise DataError(
                f"{label}, line {offset}: {len(row)} values where the header has {len(header_fields)} columns; "
                "check for a missing or extra comma"
            )
        body.append([cell.strip() for cell in row])
        line_numbers.append(offset)
    if not body:
        raise DataError(f"{label}: the file has a header but no data rows")
    frame = pd.DataFrame(body, columns=header_fields)
    frame.index = pd.Index([n - 2 for n in line_numbers])  # where() adds 2 back
    table = RawTable(frame=frame, source=label, is_file=True, sha256=hashlib.sha256(raw).hexdigest())
    return _FileTable(frame=frame, source=label, is_file=True, sha256=table.sha256)


@dataclass(frozen=True)
class _FileTable(RawTable):
    """A RawTable from a file, whose index holds file line numbers minus two."""

    def where(self, row: int) -> str:
        return f"line {int(self.frame.index[row]) + 2}"

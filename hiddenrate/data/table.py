"""Read a CSV file (or take a DataFrame) as a table of strings, with errors that name the place.

Every value is kept as text so that the container modules can validate it and say exactly
which line and column is wrong. Nothing here modifies the input file.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hiddenrate.core.exceptions import DataError

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
    if not path.exists():
        raise DataError(f"{label}: no such file")
    if path.is_dir():
        raise DataError(f"{label}: is a directory, not a CSV file")
    raw = path.read_bytes()
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
    header = lines[0]
    if "," not in header:
        for delimiter, plural in _OTHER_DELIMITERS.items():
            if delimiter in header:
                raise DataError(
                    f"{label}, line 1: the columns are separated by {plural}, not commas; "
                    "save the file as comma-separated values (CSV)"
                )
    reader = csv.reader(io.StringIO(text))
    rows = [row for row in reader]
    header_fields = [h.strip() for h in rows[0]]
    if any(h == "" for h in header_fields):
        position = header_fields.index("") + 1
        raise DataError(f"{label}, line 1: column {position} has no name; every column needs a header")
    duplicated = sorted({h for h in header_fields if header_fields.count(h) > 1})
    if duplicated:
        raise DataError(f"{label}, line 1: column '{duplicated[0]}' appears twice in the header")
    body: list[list[str]] = []
    line_numbers: list[int] = []
    for offset, row in enumerate(rows[1:], start=2):
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

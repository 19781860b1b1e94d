"""Reading the sources' record files into one frame of normalised fields, validated.

Error messages name the file, row and column, and never the value: the values are names, birth
years and encodings (docs/linkage.md, "Privacy").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError
from hiddenrate.linkage.encode import TOKEN_HEX, encoded_columns, filter_bits
from hiddenrate.linkage.spec import FIELDS, LinkSpec, SourceSpec

_NOT_LETTERS = re.compile(r"[^a-z ]+")
_HEX = re.compile(rf"^[0-9a-f]{{{TOKEN_HEX}}}$")


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as strings (empty cells missing)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        first = str(err).splitlines()[0] if str(err) else "empty file"
        raise DataError(f"{path}: not a readable CSV ({first[:80]})") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None


def normalise_name(values: pd.Series) -> pd.Series:
    """Lower case, letters and single spaces only; empty -> missing."""
    cleaned = values.str.lower().str.replace(_NOT_LETTERS, "", regex=True).str.split().str.join(" ")
    return cleaned.where(cleaned.str.len() > 0).astype("string")


def normalise_fields(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The comparison fields, normalised: names and place lower-case letters, sex M/F/X, birth year a
    whole number 1900-2030 (else an error naming file, row and column), ID fragment digits and letters."""
    out = pd.DataFrame(index=frame.index)
    for name in ("first_name", "last_name", "place"):
        out[name] = normalise_name(frame[name].astype("string"))
    sex = frame["sex"].astype("string").str.strip().str.upper().str[:1]
    out["sex"] = sex.where(sex.isin(["M", "F", "X"]))
    dates = pd.to_datetime(frame["birth_date"], errors="coerce", format="%Y-%m-%d")
    bad_date = frame["birth_date"].notna() & dates.isna()
    if bad_date.any():
        row = int(np.flatnonzero(bad_date.to_numpy())[0]) + 2
        raise DataError(f"{path}: row {row}, column birth_date: not a date written YYYY-MM-DD "
                        f"({int(bad_date.sum())} such row(s))")
    out["birth_date"] = dates.dt.strftime("%Y-%m-%d").astype("string")
    given = frame["birth_year"].where(frame["birth_year"].notna(), dates.dt.year.astype("Int64").astype("string"))
    years = pd.to_numeric(given, errors="coerce")
    bad = given.notna() & (years.isna() | (years % 1 != 0) | (years < 1900) | (years > 2030))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"{path}: row {row}, column birth_year: not a year from 1900 to 2030 "
                        f"({int(bad.sum())} such row(s))")
    out["birth_year"] = years.astype("Int64").astype("string")
    fragment = frame["id_fragment"].astype("string").str.replace(r"[^0-9A-Za-z]", "", regex=True).str.upper()
    out["id_fragment"] = fragment.where(fragment.str.len() > 0)
    return out


def _ids(frame: pd.DataFrame, spec: SourceSpec) -> pd.Series:
    if spec.id is None:
        return pd.Series([str(i + 1) for i in range(len(frame))], index=frame.index)
    if spec.id not in frame:
        raise DataError(f"{spec.file}: no column '{spec.id}' (the record id named in [sources.{spec.name}])")
    ids = frame[spec.id]
    if ids.isna().any():
        raise DataError(f"{spec.file}: row {int(np.flatnonzero(ids.isna().to_numpy())[0]) + 2}, column {spec.id}: "
                        "empty record id")
    if ids.duplicated().any():
        row = int(np.flatnonzero(ids.duplicated().to_numpy())[0]) + 2
        raise DataError(f"{spec.file}: row {row}, column {spec.id}: record id repeated; ids must be unique")
    return ids.astype(str)


def read_plain(spec: SourceSpec) -> pd.DataFrame:
    """One source's records with normalised fields (a field the file lacks is missing)."""
    frame = read_csv(spec.file)
    renamed = {}
    for name in FIELDS:
        column = spec.columns.get(name, name)
        if column in frame:
            renamed[name] = frame[column]
        elif name in spec.columns:
            raise DataError(f"{spec.file}: no column '{column}' (mapped to {name} in [sources.{spec.name}.columns])")
        else:
            renamed[name] = pd.Series([None] * len(frame), index=frame.index, dtype="string")
    if all(renamed[name].isna().all() for name in FIELDS):
        raise DataError(f"{spec.file}: none of the fields {', '.join(FIELDS)} found; map them in "
                        f"[sources.{spec.name}.columns]")
    out = normalise_fields(pd.DataFrame(renamed), spec.file)
    out.insert(0, "record_id", _ids(frame, spec))
    return out


def read_encoded(spec: SourceSpec) -> pd.DataFrame:
    """One source's encoded file (written by ``hiddenrate link encode``), checked column by column;
    a Bloom filter becomes a string of 0s and 1s (DuckDB's BIT) and its count of set bits (``_n``)."""
    frame = read_csv(spec.file)
    missing = [c for c in encoded_columns() if c not in frame]
    if missing:
        raise DataError(f"{spec.file}: not an encoded file (no column {missing[0]}); write it with "
                        "`hiddenrate link encode`")
    out = pd.DataFrame({"record_id": _ids(frame, spec if spec.id else SourceSpec(spec.name, spec.file, "record_id"))})
    for column in encoded_columns():
        values = frame[column]
        if column.endswith("_tok"):
            ok = values.isna() | values.str.match(_HEX)
            out[column] = values
        else:
            parsed = [None if pd.isna(v) else filter_bits(v) for v in values]
            ok = pd.Series([missing or p is not None for missing, p in zip(values.isna(), parsed, strict=True)],
                           index=values.index)
            out[column] = [None if p is None else p[0] for p in parsed]
            out[f"{column}_n"] = pd.array([None if p is None else p[1] for p in parsed], dtype="Int64")
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0]) + 2
            raise DataError(f"{spec.file}: row {row}, column {column}: not a valid encoding")
    return out


def read_sources(spec: LinkSpec) -> pd.DataFrame:
    """Every source's records in one frame: ``source``, ``record_id``, ``unique_id`` and the fields."""
    frames = []
    for source in spec.sources:
        frame = read_encoded(source) if spec.encoded else read_plain(source)
        if frame.empty:
            raise DataError(f"{source.file}: no records")
        frame.insert(0, "source", source.name)
        frames.append(frame)
    records = pd.concat(frames, ignore_index=True)
    records.insert(0, "unique_id", records["source"] + "|" + records["record_id"])
    return records

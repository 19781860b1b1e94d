"""Keyed Bloom-filter encodings of identifiers, for linking without sharing names (docs/methods.md,
"Privacy-preserving linkage").

Each source encodes its own file with a secret the sources share and never send; the linkage is
then run on the encodings alone. Per field:

* a **Bloom filter** (Schnell, Bachteler & Reiher 2009): the value's character bigrams (padded with
  a space each side) are set in ``BITS`` bits, each bigram at ``HASHES`` positions from two keyed
  hashes (double hashing, ``h1 + i * h2 mod BITS``; HMAC-SHA256 under two keys derived from the
  secret and the field name). Similar names share bigrams, so their filters share bits, and the
  Dice coefficient ``2 |A & B| / (|A| + |B|)`` of two filters tracks the names' similarity.
  The birth year's filter holds the tokens ``y-1, y, y+1`` so that years one apart share 2 of 3.
* a **token**: HMAC-SHA256 of the normalised value under the field's key, 16 hex digits, for
  blocking and exact comparison.

Nothing in this module logs, prints or raises with a value from a record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError

BITS = 1024
HASHES = 15
TOKEN_HEX = 16
#: environment variable that may hold the shared secret (or a file named by --secret-file)
SECRET_ENV = "HIDDENRATE_LINK_SECRET"
#: fields with a Bloom filter (similarity) and a token; the others get a token only
FILTER_FIELDS = ("first_name", "last_name", "birth_year")
TOKEN_FIELDS = ("first_name", "last_name", "birth_date", "birth_year", "sex", "place", "id_fragment", "initials",
                "birth_monthday")
MIN_SECRET_BYTES = 16


def read_secret(secret_file: str | None) -> bytes:
    """The shared secret from ``secret_file`` or else the environment variable :data:`SECRET_ENV`."""
    if secret_file is not None:
        try:
            secret = Path(secret_file).read_bytes().strip()
        except OSError as err:
            raise DataError(f"{secret_file}: cannot read the secret ({err.strerror})") from None
        where = secret_file
    else:
        secret = os.environ.get(SECRET_ENV, "").strip().encode("utf-8")
        where = f"${SECRET_ENV}"
        if not secret:
            raise DataError(f"no secret: give --secret-file FILE or set {SECRET_ENV}")
    if len(secret) < MIN_SECRET_BYTES:
        raise DataError(f"{where}: the secret is shorter than {MIN_SECRET_BYTES} bytes; use a long random one "
                        "(e.g. `openssl rand -hex 32`)")
    return secret


def _key(secret: bytes, field: str, purpose: str) -> bytes:
    return hmac.new(secret, f"hiddenrate-link-v1|{field}|{purpose}".encode(), hashlib.sha256).digest()


def _family(field: str) -> str:
    """First and last names share keys, so that a name in the wrong field still compares."""
    return "name" if field in ("first_name", "last_name") else field


def bigrams(value: str) -> list[str]:
    """Character bigrams of `` value `` (padded so first and last letters count)."""
    padded = f" {value} "
    return [padded[i:i + 2] for i in range(len(padded) - 1)]


def bloom_filter(tokens: list[str], key1: bytes, key2: bytes) -> np.ndarray:
    """A ``BITS``-bit filter (bool array) with each token set at ``HASHES`` positions."""
    bits = np.zeros(BITS, dtype=bool)
    for token in tokens:
        raw = token.encode("utf-8")
        h1 = int.from_bytes(hmac.new(key1, raw, hashlib.sha256).digest()[:8], "big")
        h2 = int.from_bytes(hmac.new(key2, raw, hashlib.sha256).digest()[:8], "big")
        bits[[(h1 + i * h2) % BITS for i in range(HASHES)]] = True
    return bits


def filter_text(bits: np.ndarray) -> str:
    """Base64 of the packed filter (what the encoded CSV holds)."""
    return base64.b64encode(np.packbits(bits).tobytes()).decode("ascii")


def _unpacked(text: str) -> np.ndarray | None:
    """The ``BITS`` bits of a base64 filter; ``None`` for a malformed one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if len(raw) != BITS // 8:
        return None
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8))


def filter_positions(text: str) -> list[int] | None:
    """The set bit positions of a base64 filter; ``None`` for a malformed one."""
    bits = _unpacked(text)
    return None if bits is None else [int(i) for i in np.flatnonzero(bits)]


def _tokens(field: str, value: str) -> list[str]:
    if field == "birth_year":
        year = int(value)
        return [str(year - 1), str(year), str(year + 1)]
    return bigrams(value)


def encode_frame(records: pd.DataFrame, secret: bytes) -> pd.DataFrame:
    """Encode normalised records (columns ``record_id`` and the fields, strings or missing)."""
    out = pd.DataFrame({"record_id": records["record_id"].astype(str)})
    records = records.assign(initials=records["first_name"].str[:1] + records["last_name"].str[:1],
                             birth_monthday=records["birth_date"].str[5:])
    for field in TOKEN_FIELDS:
        values = records[field] if field in records else pd.Series([None] * len(records))
        key = _key(secret, _family(field), "token")
        out[f"{field}_tok"] = [None if pd.isna(v) else hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]
                               for v in values]
        if field in FILTER_FIELDS:
            k1, k2 = _key(secret, _family(field), "bloom-1"), _key(secret, _family(field), "bloom-2")
            out[f"{field}_bf"] = [None if pd.isna(v) else filter_text(bloom_filter(_tokens(field, str(v)), k1, k2))
                                  for v in values]
    return out


def encoded_columns() -> list[str]:
    """The columns of an encoded file, after ``record_id``."""
    cols = []
    for field in TOKEN_FIELDS:
        cols.append(f"{field}_tok")
        if field in FILTER_FIELDS:
            cols.append(f"{field}_bf")
    return cols


def filter_bits(text: str) -> tuple[str, int] | None:
    """A base64 filter as a string of ``BITS`` 0s and 1s and its number of set bits; ``None`` if malformed."""
    bits = _unpacked(text)
    if bits is None:
        return None
    return (bits + 48).astype(np.uint8).tobytes().decode("ascii"), int(bits.sum())


def dice(a: list[int], b: list[int]) -> float:
    """Dice coefficient of two filters given as set positions (the SQL in linkage.splink_run does the same)."""
    if not a and not b:
        return 0.0
    return 2 * len(set(a) & set(b)) / (len(a) + len(b))

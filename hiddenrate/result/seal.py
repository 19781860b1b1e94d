"""A checksum over a whole saved file, checked before HDF5 reads a byte of it.

A damaged netCDF (HDF5) file can do worse than fail: a mutated B-tree made HDF5 loop for ever in
one test. So :func:`seal` puts a 512-byte block in front of the file, "hiddenrate result" and
the SHA-256 of everything after it, and :func:`check` compares the two before the file is opened.
HDF5 itself allows this: it looks for its signature at byte 0, 512, 1024, ... and takes what
comes before as a "user block" it never reads (the same thing ``h5jam`` does), so the file
stays a netCDF file for every other reader too. Files saved before the seal existed start with
HDF5's signature and are read as before (their own checksum of the estimates still applies).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

__all__ = ["check", "seal"]

MAGIC = b"hiddenrate result\nsha256 "
BLOCK = 512
HDF5 = b"\x89HDF\r\n\x1a\n"


def seal(path: str | Path) -> None:
    """Rewrite ``path`` (a file just written, not yet in its final place) with the sealed block in front."""
    target = Path(path)
    body = target.read_bytes()
    head = (MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n").ljust(BLOCK, b"\0")
    with open(target, "wb") as out:
        out.write(head)
        out.write(body)
        out.flush()
        os.fsync(out.fileno())


def check(path: str | Path) -> str | None:
    """None if ``path`` is sealed and intact, or an unsealed (older) file; else why it is refused."""
    with open(path, "rb") as source:
        head = source.read(BLOCK)
        if not head.startswith(MAGIC):
            source.seek(BLOCK)
            if head[:len(HDF5)] != HDF5 and source.read(len(HDF5)) == HDF5:
                return "its checksum block is damaged"
            return None
        found = re.fullmatch(rb"([0-9a-f]{64})\n\0*", head[len(MAGIC):])
        if len(head) < BLOCK or found is None:
            return "its checksum block is damaged"
        digest = hashlib.file_digest(source, "sha256").hexdigest()
    if digest.encode() != found.group(1):
        return "the file's checksum does not match: it was damaged or edited after it was saved"
    return None

"""Limits on what hiddenrate reads and computes, and how input is quoted back in messages.

Files come from partners and may be damaged or hostile, so every reader checks, before it
parses anything, that the input is a regular file (not a device, a FIFO or a socket, which
could be endless or block for ever) no larger than :data:`DEFAULT_MAX_INPUT_BYTES` (lifted with
``--max-input-mb`` or :func:`input_size_limit`), with lines no longer than :data:`MAX_LINE_CHARS`.

Counts are limited to :data:`MAX_COUNT` (10^9). The models compute in 64-bit floats: the log
of a binomial coefficient or of a beta function at 10^13 is about 3 x 10^14, whose rounding
error (about 0.06 nats) already moves a posterior by several per cent; at 10^9 it is below
10^-4 nats (docs/methods.md#numerical-range). Population sizes may reach :data:`MAX_POPULATION`.

Messages quote what they read through :func:`shown`: at most :data:`EXCERPT_CHARS` characters,
non-printable ones escaped (a NUL byte is written ``\\x00``), so no error ever echoes a file's
content beyond a short printable excerpt.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

#: largest count (recorded, surveyed, reported, a list count, people observed in a stratum)
MAX_COUNT = 10**9
#: largest population size (the population route: more people than live on Earth is a typo)
MAX_POPULATION = 10**10
#: largest input file read unless the user lifts it (--max-input-mb)
DEFAULT_MAX_INPUT_BYTES = 100 * 2**20
#: largest combine spec (a spec is a few hundred bytes; its data live in CSV files)
MAX_SPEC_BYTES = 2**20
#: longest line of a CSV file (characters)
MAX_LINE_CHARS = 10_000
#: most columns of a CSV file
MAX_COLUMNS = 256
#: longest column name
MAX_NAME_CHARS = 100
#: longest excerpt of input quoted in a message
EXCERPT_CHARS = 40
#: most memory one fit may plan to use before it is refused with what to do instead
MAX_FIT_BYTES = 2 * 2**30
#: longest error message (a spec lists every problem at once; beyond this it is cut)
MAX_MESSAGE_CHARS = 4_000

_max_input_bytes: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "max_input_bytes", default=DEFAULT_MAX_INPUT_BYTES)


def max_input_bytes() -> int | None:
    """The input size cap in force (``None``: no cap)."""
    return _max_input_bytes.get()


@contextlib.contextmanager
def input_size_limit(limit: int | None) -> Iterator[None]:
    """Read inputs up to ``limit`` bytes (``None``: any size) inside the ``with`` block."""
    token = _max_input_bytes.set(limit)
    try:
        yield
    finally:
        _max_input_bytes.reset(token)


_outside_paths: contextvars.ContextVar[bool] = contextvars.ContextVar("outside_paths", default=False)


def outside_paths_allowed() -> bool:
    """True when a combine spec may name data files outside its own folder."""
    return _outside_paths.get()


@contextlib.contextmanager
def allow_outside_paths(allowed: bool = True) -> Iterator[None]:
    """Let combine specs read data files outside their folder inside the ``with`` block
    (``--allow-outside-paths``); by default a spec reads only files in its own folder tree."""
    token = _outside_paths.set(allowed)
    try:
        yield
    finally:
        _outside_paths.reset(token)


def size_text(n_bytes: float) -> str:
    """``100 MB``, ``1.5 GB``: a size for people (binary units, as the cap is given)."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes:.0f} bytes"


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x00``, ``\\n``, ``\\u200b``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def shown(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A value read from input as a message may quote it: printable and at most ``limit`` characters."""
    text = printable(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def columns_text(columns: object) -> str:
    """``police, ngo, count``: column names for a message, each :func:`shown`, at most twelve."""
    names = [shown(c, 30) for c in list(columns)[:13]]  # type: ignore[call-overload]
    return ", ".join(names[:12]) + (", …" if len(names) > 12 else "")


def count_limit_text(what: str = "counts") -> str:
    """The sentence every reader gives for a count above :data:`MAX_COUNT`."""
    return (f"{what} must be at most {MAX_COUNT:,} (10^9): beyond that the models' 64-bit arithmetic is no "
            "longer exact enough")


__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "EXCERPT_CHARS",
    "MAX_COLUMNS",
    "MAX_COUNT",
    "MAX_FIT_BYTES",
    "MAX_LINE_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_POPULATION",
    "MAX_SPEC_BYTES",
    "allow_outside_paths",
    "columns_text",
    "count_limit_text",
    "input_size_limit",
    "max_input_bytes",
    "outside_paths_allowed",
    "printable",
    "shown",
    "size_text",
]

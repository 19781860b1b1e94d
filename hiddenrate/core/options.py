"""One name per option: the Python option name and the command-line flag that sets it.

Models and the public ``fit_*`` functions take Python names (``log_odds_ratio``); users type
flags (``--dependence``). Every error message about an option names it through :func:`flag`, so
what the message says is a flag the user can type. Names not listed map to themselves with
dashes (``max_order`` -> ``--max-order``).
"""

from __future__ import annotations

from collections.abc import Iterable

#: Python option name -> its flag, where the flag is not the name with dashes
FLAGS: dict[str, str] = {
    "log_odds_ratio": "--dependence",
    "priors": "--prior",
    "levels": "--level",
    "claims": "--claim",
    "fmt": "--format",
    "default_changes": "--only-compare",
    "sampling": "--draws, --tune, --chains",
    "parallel": "--workers, --scheduler",
}


def flag(name: str) -> str:
    """The flag that sets the option ``name`` (``log_odds_ratio`` -> ``--dependence``)."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def flags(names: Iterable[str]) -> str:
    """``--dependence, --terms``: the flags of several options, in the order given."""
    return ", ".join(flag(name) for name in names)


__all__ = ["FLAGS", "flag", "flags"]

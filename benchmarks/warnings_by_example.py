"""How many warnings each bundled example prints, and which are notes: `python benchmarks/warnings_by_example.py`.

Runs every example of `hiddenrate examples` with `--format json` (the default model and seed, as a user
would) and prints one row each: the warnings (serious / warning) and the notes. With ``--before DIR`` it
compares with the JSON an older version wrote (``DIR/<example>.json``, e.g. from the tree before issue 23,
when every warning was a warning): how many there were, which became notes, which are gone and which are
new. ``--save DIR`` keeps this run's JSON for a later comparison; ``--from DIR`` reads a saved run instead of
running the examples (the sampled examples take minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hiddenrate.core.caveats import NOTE, SERIOUS, classify  # noqa: E402
from hiddenrate.data.examples import EXAMPLES  # noqa: E402


def run(name: str, command: str) -> dict[str, Any] | None:
    """One example's JSON (None when it gives no estimate or exits with an error)."""
    done = subprocess.run([sys.executable, "-m", "hiddenrate", command, "--example", name, "--format", "json", "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout) if done.returncode in (0, 1) and done.stdout.strip() else None


def load(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def texts(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(text, code, severity)`` of every warning and note, whether the file has codes or not."""
    if "caveats" in data:
        return [(c["message"], c["code"], c["severity"]) for c in data["caveats"]]
    out = [(w, *classify(w)) for w in data.get("warnings", [])]
    for stratum in data.get("strata", []):  # older files list per-stratum warnings there too, prefixed
        label = ", ".join(f"{k}={v}" for k, v in (stratum.get("stratum") or {}).items())
        out += [(f"[{label}] {w}", *classify(w)) for w in stratum.get("warnings", []) if f"[{label}] {w}" not in data.get("warnings", [])]
    return out


def codes(found: list[tuple[str, str, str]], severity: str | None = None, exclude: str | None = None) -> list[str]:
    return [code for _, code, level in found if (severity is None or level == severity) and level != exclude]


def row(name: str, after: dict[str, Any] | None, before: dict[str, Any] | None) -> list[str]:
    if after is None:
        return [name, "—", "no result", "", "", "", ""]
    now = texts(after)
    serious, notes = codes(now, SERIOUS), codes(now, NOTE)
    warnings = codes(now, exclude=NOTE)
    cells = [name]
    if before is not None:
        old = texts(before)
        cells.append(str(len(old)))
        now_notes = {text for text, _, level in now if level == NOTE}
        now_all = {text for text, _, _ in now}
        became = sorted({code for text, code, _ in old if text in now_notes})
        gone = sorted({code for text, code, _ in old if text not in now_all and code not in became})
        new = sorted({code for text, code, _ in now if text not in {t for t, _, _ in old}} - set(became) - set(gone))
    cells += [f"{len(warnings)} ({len(serious)} serious)", str(len(notes))]
    if before is not None:
        cells += [", ".join(became) or "—", ", ".join(gone) or "—", ", ".join(new) or "—"]
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a directory of <example>.json written by an older version")
    parser.add_argument("--from", dest="source", type=Path, help="read this run from a directory instead of running")
    parser.add_argument("--save", type=Path, help="keep this run's JSON here")
    args = parser.parse_args()
    columns = ["example", *(["before"] if args.before else []), "warnings now", "notes now",
               *(["became notes", "gone or reworded", "new"] if args.before else [])]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name, example in EXAMPLES.items():
        after = load(args.source, name) if args.source else run(name, example.command)
        if args.save and after is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{name}.json").write_text(json.dumps(after), encoding="utf-8")
        before = load(args.before, name) if args.before else None
        print("| " + " | ".join(row(name, after, before)) + " |")


if __name__ == "__main__":
    main()

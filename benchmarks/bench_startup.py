"""How long a user waits for the CLI to answer, against Python's own start-up: `python benchmarks/bench_startup.py`.

Targets (issue "One house"): `hiddenrate --help` at most 2x `python3 -c "import click"`; a
closed-form fit on 3 lists (`--model independence`) and the default model on 5 lists (exact model
averaging) each at most 2x `python3 -c "import pandas, scipy.special"`. Commands run side by side
(interleaved, so a noisy neighbour slows all alike) and the minimum of ``--runs`` is compared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LISTS = ROOT / "hiddenrate" / "data" / "examples" / "lists"

#: (label, command, reference label, target ratio)
COMMANDS = [
    ("import click", [PY, "-c", "import click"], None, None),
    ("import pandas, scipy.special", [PY, "-c", "import pandas, scipy.special"], None, None),
    ("hiddenrate --help", [PY, "-m", "hiddenrate", "--help"], "import click", 2.0),
    ("lists 3 lists --model independence",
     # --no-sensitivity-classes: independence misfits these data, so the heterogeneity check (issue 21)
     # would add the latent-class model (seconds of MCMC) to the table; this row times the closed form.
     [PY, "-m", "hiddenrate", "lists", str(LISTS / "spina_bifida_new_york.csv"), "--model", "independence", "--quiet",
      "--no-sensitivity-classes"],
     "import pandas, scipy.special", 2.0),
    ("lists 5 lists (default: model averaging)",
     [PY, "-m", "hiddenrate", "lists", str(LISTS / "congenital_anomaly_massachusetts.csv"), "--quiet"],
     "import pandas, scipy.special", 2.0),
]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the minimum is reported)")
    args = parser.parse_args()
    for _, command, _, _ in COMMANDS:  # warm the file cache once
        timed(command)
    times: dict[str, list[float]] = {label: [] for label, *_ in COMMANDS}
    for _ in range(args.runs):
        for label, command, _, _ in COMMANDS:
            times[label].append(timed(command))
    best = {label: min(values) for label, values in times.items()}
    print(f"{'command':<42} {'min s':>6} {'max s':>6} {'ratio':>6} {'target':>6}")
    failed = 0
    for label, _, reference, target in COMMANDS:
        ratio = best[label] / best[reference] if reference else None
        ok = ratio is None or target is None or ratio <= target
        failed += not ok
        print(f"{label:<42} {best[label]:6.2f} {max(times[label]):6.2f} "
              f"{'' if ratio is None else f'{ratio:.2f}':>6} {'' if target is None else f'<= {target:g}':>6}"
              f"{'' if ok else '  MISSED'}")
    print(f"(min of {args.runs} interleaved runs; ratio = min / min of the reference)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

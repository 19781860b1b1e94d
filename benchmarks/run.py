"""Run every benchmark in this folder and print their tables: `python benchmarks/run.py`.

Speed and memory targets live here, never in timed unit tests: the machines are shared and
noisy, so compare ratios within one run (each script prints its reference timings beside ours).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("bench_*.py"))
    failed = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

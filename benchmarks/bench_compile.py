"""Compile once per machine: building a sampled model in a first and in a second process.

Run as ``python benchmarks/bench_compile.py``. Each case runs twice in fresh subprocesses that
share empty cache folders (hiddenrate's compiled callbacks, numba's and PyTensor's caches all
under one temporary folder, so the first process is as cold as a new machine):

* ``reporting, 100 strata``: ``hiddenrate.models.reporting.pooled._compiled(100, DEFAULT_PRIORS)``
  (PyMC model, nutpie callbacks and the hand-written kernel), as ``reporting --model pooled``
  builds it;
* ``trend --example vancouver-trend`` and ``combine --example police-ngo-survey``: the command
  run whole; the time spent building models (inside ``compile_once``) is measured apart from the
  whole run.

PyMC, PyTensor, nutpie and numba are imported before any clock starts (about 3 s that no cache
can save); "run" is the whole child process after those imports.

Target (issue 25): the second process builds each in under 10% of the first's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import io, json, sys, time, warnings
warnings.simplefilter("ignore")
import numba, nutpie, pymc, pytensor.tensor  # imported before the clocks: loading libraries is not building
start = time.perf_counter()
from hiddenrate.models.sampling import nuts
spent = [0.0]
original = nuts.compile_once
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - t
nuts.compile_once = timed
case = sys.argv[1]
if case == "reporting":
    from hiddenrate.models.reporting.pooled import DEFAULT_PRIORS, _compiled
    t = time.perf_counter()
    _compiled(100, DEFAULT_PRIORS)
    spent[0] = time.perf_counter() - t
else:
    from hiddenrate.cli import cli
    import contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main(sys.argv[2:], standalone_mode=False)
        except SystemExit:
            pass
print(json.dumps({"build": spent[0], "total": time.perf_counter() - start}))
"""

CASES = {
    "reporting, 100 strata": ["reporting"],
    "trend --example vancouver-trend": ["cli", "trend", "--example", "vancouver-trend", "--quiet", "--format", "json"],
    "combine --example police-ngo-survey": ["cli", "combine", "--example", "police-ngo-survey", "--quiet", "--format",
                                            "json"],
}


def run(args: list[str], folder: str) -> dict:
    env = {**os.environ, "HIDDENRATE_CACHE_DIR": os.path.join(folder, "hiddenrate"),
           "NUMBA_CACHE_DIR": os.path.join(folder, "numba"),
           "PYTENSOR_FLAGS": f"compiledir={os.path.join(folder, 'pytensor')}"}
    env.pop("HIDDENRATE_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", choices=list(CASES), default=list(CASES))
    options = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}  ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    print(f"| {'case':<38} | first build s | second build s | second / first | first run s | second run s |")
    print(f"|{'-' * 40}|---------------|----------------|----------------|-------------|--------------|")
    for name in options.cases:
        with tempfile.TemporaryDirectory(prefix="hiddenrate-bench-compile-") as folder:
            first = run(CASES[name], folder)
            second = run(CASES[name], folder)
        ratio = second["build"] / first["build"] if first["build"] else float("nan")
        print(f"| {name:<38} | {first['build']:13.2f} | {second['build']:14.2f} | {ratio:14.3f} | "
              f"{first['total']:11.2f} | {second['total']:12.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""docs/ARCHITECTURE.md's worked example ("Adding a model") runs exactly as written.

The page holds two files, a model module and its test, each in a Python block after an
``<!-- example: NAME -->`` marker. They are written to a temporary folder and the example's
tests run there in a child pytest, so the page cannot drift from what works, and the example
really is "one module and one test": nothing inside hiddenrate is edited to add the model.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "ARCHITECTURE.md"
BLOCK = re.compile(r"<!-- example: (?P<name>[\w.]+) -->\s*```python\n(?P<code>.*?)```", re.S)


def test_the_worked_example_adds_a_model_in_two_files(tmp_path: Path) -> None:
    blocks = {m["name"]: m["code"] for m in BLOCK.finditer(PAGE.read_text(encoding="utf-8"))}
    assert set(blocks) == {"my_models.py", "test_my_models.py"}, "the page's example blocks changed"
    for name, code in blocks.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    # a clean child: no xdist worker variables inherited from this run, no benchmark plugin
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "XDIST_"))}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
                          "-p", "no:xdist", "-W", "error",
                          "-W", r"ignore:\s*ArviZ is undergoing a major refactor:FutureWarning",
                          "--rootdir", str(tmp_path), str(tmp_path / "test_my_models.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600,
                         env={**env, "PYTHONPATH": f"{tmp_path}:{ROOT}"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout

"""Size limits of the code (issue "One house"): no module over 600 lines, no function over 80.

Measured on the syntax tree: a function's length is ``end_lineno - lineno + 1`` (decorators not
counted, docstring and nested functions counted), and each nested function is measured on its own
as well. A function may be longer only when its ``def`` line or the first line of its docstring
says ``numba kernel:`` and why it is one function (a compiled loop that splitting would slow or
whose draws depend on the order of its calls; see models/sampling/latent_class_gibbs.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hiddenrate"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
MARK = "numba kernel:"

def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _marked(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    docstring = ast.get_docstring(node, clean=True) or ""
    return MARK in lines[node.lineno - 1] or docstring.strip().startswith(MARK)


def _long_functions() -> dict[str, int]:
    """``module::function`` -> length of every unmarked function over the limit."""
    found: dict[str, int] = {}
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _marked(node, lines):
                    found[f"{_name(path)}::{node.name}"] = length
    return found


def test_no_module_over_600_lines() -> None:
    long_modules = {}
    for path in _modules():
        with path.open(encoding="utf-8") as handle:
            count = sum(1 for _ in handle)
        if count > MAX_MODULE_LINES:
            long_modules[_name(path)] = count
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines (split along a seam): {long_modules}"


def test_no_function_over_80_lines() -> None:
    offenders = {name: length for name, length in _long_functions().items()}
    assert not offenders, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or say 'numba kernel:' and why on the def "
        f"line or the docstring's first line): {offenders}"
    )


def test_marked_functions_say_why() -> None:
    """A ``numba kernel:`` mark is followed by a reason, not left bare."""
    bare = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _marked(node, lines):
                docstring = ast.get_docstring(node, clean=True) or ""
                text = lines[node.lineno - 1] if MARK in lines[node.lineno - 1] else docstring
                if len(text.split(MARK, 1)[1].split()) < 4:
                    bare.append(f"{_name(path)}::{node.name}")
    assert not bare, f"'numba kernel:' without a reason: {bare}"

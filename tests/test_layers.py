"""The house's structure (docs/ARCHITECTURE.md), checked on every test run.

* The import-linter contracts in pyproject.toml hold: arrows only downward between the layers,
  model families over the sampling machinery, and PyMC / PyTensor / nutpie / ArviZ / numba
  nowhere outside the models and the result's save/load.
* No import cycle between modules (module-level imports: what runs when a module is loaded).
* No module outside the sampling machinery and the save/load code imports those libraries, or
  matplotlib or scipy.signal, when it is loaded: they cost seconds, and a closed-form fit needs none.
* ``import hiddenrate``, ``hiddenrate --help`` and a closed-form fit load none of them (measured in
  a fresh interpreter, as a user's shell would run them).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hiddenrate"
HEAVY = ("pymc", "pytensor", "nutpie", "arviz", "numba", "matplotlib", "scipy.signal")
#: modules allowed to import HEAVY at load time: none today (every such import is inside the function that samples)
HEAVY_AT_LOAD_ALLOWED: tuple[str, ...] = ()


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _load_time_imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules imported when ``name`` is loaded: top-level statements only (not inside functions or
    ``if TYPE_CHECKING:``), with ``from package import module`` resolved to the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules)

    visit(tree.body)
    return found


def test_import_linter_contracts_hold() -> None:
    """The contracts of pyproject.toml ([tool.importlinter]) are kept; the message names any broken import.

    In a child process: import-linter configures logging with ``dictConfig``, which disables every
    logger that exists already (hiddenrate's progress messages among them)."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_no_import_cycle_between_modules() -> None:
    """Loading any module never needs a module that (directly or not) needs it back."""
    modules = _modules()
    graph = {name: {m for m in _load_time_imports(name, path, modules) if m in modules and m != name}
             for name, path in modules.items()}
    # a package's __init__ re-exporting its children is not a cycle with them
    graph = {name: {m for m in deps if not name.startswith(m + ".")} for name, deps in graph.items()}
    cycles = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_heavy_libraries_are_imported_only_where_they_are_used() -> None:
    """No module imports PyMC, PyTensor, nutpie, ArviZ, numba, matplotlib or scipy.signal at load time."""
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        if name in HEAVY_AT_LOAD_ALLOWED:
            continue
        for imported in _load_time_imports(name, path, modules):
            if any(imported == h or imported.startswith(h + ".") for h in HEAVY):
                offenders.append(f"{name} imports {imported}")
    assert not offenders, offenders


_PROBE = """
import json, sys
sys.argv = ["hiddenrate", *{args!r}]
try:
    from hiddenrate.cli import main
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = {heavy!r}
print(json.dumps({{"code": code, "loaded": [m for m in heavy if m in sys.modules]}}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [
    ["--help"],
    # independence does not reproduce spina bifida's capture frequencies, so the heterogeneity check would add
    # the latent-class model (MCMC) to the sensitivity table; the closed-form fit itself is what is probed
    ["lists", "--example", "spina-bifida", "--model", "independence", "--no-sensitivity-classes", "--quiet"],
    ["lists", "--example", "congenital-anomaly", "--quiet"],
], ids=["help", "independence", "default-5-lists"])
def test_a_cold_start_loads_no_sampler_and_no_plotting(args: list[str]) -> None:
    """``hiddenrate --help``, a closed-form fit and the default model on 5 lists (exact model
    averaging) load none of the heavy libraries: they are why the CLI once took 4.6 s to say hello."""
    run = subprocess.run([sys.executable, "-c", _PROBE.format(args=args, heavy=HEAVY)], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    assert report["loaded"] == [], f"{' '.join(args)} loaded {report['loaded']}"


def test_import_hiddenrate_loads_no_sampler() -> None:
    """``import hiddenrate`` (the public API, loaded on first use) imports none of the heavy libraries."""
    code = f"import sys, hiddenrate; hiddenrate.__version__; print([m for m in {HEAVY!r} if m in sys.modules])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_every_public_name_loads() -> None:
    """Each name of ``hiddenrate.__all__`` resolves (the lazy table names real objects)."""
    import hiddenrate

    missing = [name for name in hiddenrate.__all__ if getattr(hiddenrate, name, None) is None]
    assert not missing


def test_the_help_line_of_each_command_is_its_own() -> None:
    """``hiddenrate --help`` lists each command with the line the lazy group keeps, which must be the
    start of the command's own help (so the two cannot drift apart)."""
    from hiddenrate.cli import COMMANDS, cli

    context = click.Context(cli)
    for name, (_, _, line) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert first.startswith(line.rstrip(".")), f"{name}: the group says {line!r}, the command {first!r}"

"""Every command the README and docs/*.md show runs, exits 0, and prints the numbers quoted beside it.

What is collected: each ```bash, ```sh or ```console block of README.md and docs/*.md (one
command a line; ``#`` comments dropped; ``A && B`` is two commands), and each ```text block that
is a terminal transcript (its first line starts with ``$ ``). Each ``hiddenrate`` command runs in
this process (click's runner; the compiled models are shared between commands) in one temporary
folder, in the order the documents give, so ``--save uk.nc`` in one block is there for
``hiddenrate report uk.nc`` in the next. Files a reader is assumed to have (``victims.csv``) are
bundled examples copied in (:data:`READER_FILES`). A pipe into ``jq`` keeps the left side; its
output must be JSON and the ``jq`` path must exist in it.

Lines that are not hiddenrate commands are skipped only when listed in :data:`NOT_RUN` with the
reason (installing, the whole test suite, the benchmarks); any other line fails the test, so a
new block cannot slip past it.

Numbers: in a transcript every number shown in the output (``12,315``, ``26,195``, ``78%``,
``4.4x``) must appear in the actual output; numbers quoted in prose next to a command are listed
in :data:`QUOTED` (the README sentence, the command, and the numbers), and both the sentence and
the numbers are checked.

Time: every command documented but one is a closed-form fit or a re-render (model averaging, the
stepwise bootstrap, reports and claims); the one that samples is the README's ``crimes.csv``
(the pooled reporting model, NUTS, default draws and seed: it must converge as a reader runs it).
No draws are reduced. See the closing note of the branch for the measured time.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hiddenrate.cli import cli
from hiddenrate.data.examples import get_example

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: lines that are not run, with why (matched at the start of the line)
NOT_RUN = {
    "pip install .": "installs the package (the test runs the installed code already)",
    "python3 -m pip install": "installs the package and the test dependencies",
    "python3 -m pytest": "the whole test suite",
    "python benchmarks/run.py": "the benchmarks (timings, benchmarks/README.md)",
    "spark-submit": "needs a Spark cluster (docs/linkage.md); tests/test_linkage_spark.py runs the same spec on a "
                    "local Spark where pyspark and Java are installed",
    "openssl rand": "makes the reader's secret key (docs/linkage.md); the linkage tests make their own",
    "hiddenrate link encode police.csv": "encodes the reader's own police.csv with that key; tests/test_linkage.py "
                                         "runs link encode on simulated records",
}

#: files a reader is assumed to have: name -> the bundled example copied in its place
READER_FILES = {"victims.csv": "uk-2013"}
#: files the README shows in full (a ```csv block) and then uses by name: name -> the block's first line
README_FILES = {"crimes.csv": "area,recorded,surveyed,reported"}

#: numbers quoted in prose beside a command: (a fragment of the sentence, the command, the numbers)
QUOTED = [
    ("on New Orleans' 8 lists 1,184 [676, 1,659]", "hiddenrate lists --example new-orleans",
     ["1,184", "676", "1,659"]),
    ("Western U.S. [1,185, 3,698]", "hiddenrate lists --example western-us --model stepwise",
     ["2,483", "1,185", "3,698"]),
    ("one survey (195 of 711) and 100 recorded incidents give 363 [296, 446]", "hiddenrate reporting --example vancouver",
     ["363", "296", "446"]),
    ("Rcapture's Chao lower bound 9,267 [8,088, 10,704] reproduced", "hiddenrate lists --example dutch-immigrants",
     ["9,267", "8,088", "10,704"]),
]

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:%|x)?")


def blocks(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """(kind, command lines, transcript output lines) of every runnable block of ``path``."""
    out = []
    for match in re.finditer(r"```(\w+)\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.DOTALL):
        kind, body = match.group(1), match.group(2).splitlines()
        if kind in ("bash", "sh", "console"):
            lines = [line.lstrip("$ ").strip() for line in body if line.strip() and not line.startswith("#")]
            commands = [part.strip() for line in lines for part in _code(line).split("&&") if part.strip()]
            out.append((kind, commands, []))
        elif kind == "text" and body and body[0].startswith("$ "):
            out.append(("transcript", [body[0][2:].strip()], body[1:]))
    return out


def _code(line: str) -> str:
    """The line without a trailing ``# comment`` (outside quotes)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&")
    lexer.whitespace_split, lexer.commenters = True, "#"
    return shlex.join(list(lexer)).replace("'|'", "|").replace("'&&'", "&&")


def run(command: str, folder: Path) -> str:
    """Run one ``hiddenrate`` command line in ``folder``; returns stdout (checked: exit 0; jq pipes)."""
    left, _, pipe = command.partition("|")
    words = shlex.split(left)
    environment = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):  # VAR=value before the command
        name, _, value = words.pop(0).partition("=")
        environment[name] = value
    assert words[:1] == ["hiddenrate"], f"not a hiddenrate command and not in NOT_RUN: {command}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name, value in environment.items():
            patch.setenv(name, value)
        result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
    assert result.exit_code == 0, f"{command}\nexit {result.exit_code}\n{result.stderr}"
    assert "DID NOT CONVERGE" not in result.stdout and "did not converge" not in result.stderr, command
    if pipe.strip():
        jq = shlex.split(pipe)
        assert jq[0] == "jq", command
        value = json.loads(result.stdout)
        for key in jq[1].strip(".").split("."):
            assert key in value, f"{command}: no {key} in the JSON"
            value = value[key]
    return str(result.stdout)


def numbers(lines: list[str]) -> set[str]:
    return {n for line in lines if line.strip() not in ("...", "…") for n in NUMBER.findall(line)}


def test_every_block_is_collected() -> None:
    """The README's own blocks are found (a parser that found none would pass everything)."""
    found = blocks(ROOT / "README.md")
    assert ("transcript", ["hiddenrate lists --example uk-2013"]) in [(k, c) for k, c, _ in found]
    assert sum(len(c) for _, c, _ in found) >= 8


@pytest.mark.slow
def test_every_documented_command_runs_and_prints_its_numbers(tmp_path: Path) -> None:
    for name, example in READER_FILES.items():
        shutil.copy(get_example(example).path(), tmp_path / name)
    readme_text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, header in README_FILES.items():
        block = re.search(r"```csv\n(" + re.escape(header) + r"\n.*?)```", readme_text, flags=re.DOTALL)
        assert block is not None, f"README no longer shows {name}"
        (tmp_path / name).write_text(block.group(1), encoding="utf-8")
    ran = 0
    for document in DOCUMENTS:
        for kind, commands, shown in blocks(document):
            for command in commands:
                if any(command.startswith(prefix) for prefix in NOT_RUN):
                    continue
                output = run(command, tmp_path)
                ran += 1
                if kind == "transcript":
                    missing = sorted(numbers(shown) - set(NUMBER.findall(output)))
                    assert not missing, f"{document.name}: `{command}` no longer prints {missing}"
    assert ran >= 10
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    flat = " ".join(readme.split())
    for sentence, command, quoted in QUOTED:
        assert sentence in flat, f"README no longer says: {sentence}"
        printed = set(NUMBER.findall(run(command, tmp_path)))
        assert set(quoted) <= printed, f"`{command}` prints none of {sorted(set(quoted) - printed)}"

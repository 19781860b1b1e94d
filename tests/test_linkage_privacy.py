"""Privacy-preserving linkage: no name, birth date or encoding from the input appears in any output
file, in any report format, in a saved result, on stdout or stderr, or in an error message
(docs/linkage.md, "Privacy")."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hiddenrate.linkage.simulate import simulate_records

SECRET = "a shared secret of thirty-two characters"


def _sensitive(sources: dict[str, pd.DataFrame], encoded: list[pd.DataFrame]) -> set[str]:
    values: set[str] = set()
    for frame in sources.values():
        for column in ("first_name", "last_name"):
            values.update(v.lower() for v in frame[column].dropna() if len(v) >= 5)
        values.update(frame["birth_date"].dropna())
    for frame in encoded:
        for column in frame.columns[1:]:
            values.update(str(v).lower() for v in frame[column].dropna())
    return values


def _leaks(text: str, values: set[str]) -> list[str]:
    lowered = text.lower()
    return sorted(v for v in values if v in lowered)


@pytest.mark.slow
def test_no_identifier_in_any_output(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HIDDENRATE_LINK_SECRET", SECRET)
    sources, _ = simulate_records(300, [0.5, 0.5, 0.5], seed=5)
    spec = ["[link]", "encoded = true", "draws = 5", ""]
    for name, frame in sources.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        result = run_cli("link", "encode", tmp_path / f"{name}.csv", "--id", "record_id", "-o", tmp_path / f"{name}.enc.csv")
        assert result.exit_code == 0, result.stderr
        spec += [f"[sources.{name}]", f'file = "{name}.enc.csv"', 'id = "record_id"', ""]
    (tmp_path / "spec.toml").write_text("\n".join(spec), encoding="utf-8")
    encoded = [pd.read_csv(tmp_path / f"{name}.enc.csv", dtype=str) for name in sources]
    sensitive = _sensitive(sources, encoded)
    out = tmp_path / "out"
    texts = []
    result = run_cli("link", tmp_path / "spec.toml", "-d", out, "--estimate", "--save", tmp_path / "r_saved.nc")
    assert result.exit_code == 0, result.stderr
    texts += [result.stdout, result.stderr]
    for fmt in ("json", "markdown", "html", "csv"):   # every format, re-rendered from the saved result
        result = run_cli("report", tmp_path / "r_saved.nc", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        texts += [result.stdout, result.stderr]
    report = run_cli("link", tmp_path / "spec.toml", "-d", out, "--format", "json")
    texts += [report.stdout, report.stderr]
    files = [*out.iterdir(), *tmp_path.glob("r_*.nc")]
    assert {p.name for p in out.iterdir()} >= {"lists.csv", "pairs.csv", "review.csv", "clusters.csv", "link_report.json"}
    texts += [p.read_bytes().decode("latin-1") for p in files]
    # error messages: a corrupted encoding and a bad birth date name the row and column, not the value
    bad = encoded[0].copy()
    bad.loc[3, "first_name_bf"] = bad.loc[3, "first_name_bf"][:-8] + "!!!!!!!!"
    bad.to_csv(tmp_path / "source1.enc.csv", index=False)
    error = run_cli("link", tmp_path / "spec.toml", "-d", out, "-q")
    assert error.exit_code == 2 and "row 5, column first_name_bf" in error.stderr
    texts.append(error.stderr)
    plain = sources["source1"].copy()
    plain.loc[0, "birth_date"] = plain.loc[0, "birth_date"].replace("-", "/")
    plain.to_csv(tmp_path / "bad.csv", index=False)
    error = run_cli("link", "encode", tmp_path / "bad.csv", "-o", tmp_path / "bad.enc.csv", "-q")
    assert error.exit_code == 2 and "row 2, column birth_date" in error.stderr
    texts.append(error.stderr)
    # the scan finds what it looks for: the input files are full of it
    assert _leaks((tmp_path / "source1.csv").read_text(), sensitive)
    assert _leaks((tmp_path / "source2.enc.csv").read_text(), sensitive)
    leaks = {i: _leaks(text, sensitive) for i, text in enumerate(texts)}
    assert not any(leaks.values()), {i: v[:5] for i, v in leaks.items() if v}


def test_the_secret_never_comes_from_the_command_line(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HIDDENRATE_LINK_SECRET", raising=False)
    sources, _ = simulate_records(20, [0.5, 0.5], seed=1)
    sources["source1"].to_csv(tmp_path / "a.csv", index=False)
    result = run_cli("link", "encode", tmp_path / "a.csv", "-o", tmp_path / "a.enc.csv", "-q")
    assert result.exit_code == 2 and "--secret-file FILE or set HIDDENRATE_LINK_SECRET" in result.stderr
    assert not re.search(r"--secret\b(?!-file)", result.stderr)
    (tmp_path / "short").write_text("tooshort")
    result = run_cli("link", "encode", tmp_path / "a.csv", "-o", tmp_path / "a.enc.csv", "--secret-file",
                     tmp_path / "short", "-q")
    assert result.exit_code == 2 and "tooshort" not in result.stderr
    assert not Path(tmp_path / "a.enc.csv").exists()

"""The same link spec on splink's Spark backend (slow; issue 24; docs/linkage.md, "Large sources: Spark").

Runs only where pyspark and a Java runtime are installed (`pip install 'hiddenrate[spark]'`, Debian's
openjdk-17-jre-headless); CI does not install them (a local Spark starts a JVM and runs each of
splink's ~300 queries as a Spark job: minutes for a few hundred records). The command runs in its
own process, as a user would run it, so the JVM ends with it.

Why the comparison holds: both engines fit the same Fellegi-Sunter model on the same records with
the same blocking rules, so they score the same candidate pairs; they differ only in the random
pairs that estimate the u probabilities (each engine's own sampler), which moves a match
probability by little: at most 0.023 on this data (measured 2026-12-07), 0.05 allowed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hiddenrate.linkage.clusters import pairwise_scores

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]


def _hiddenrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hiddenrate", *args], check=False, cwd=cwd, capture_output=True, text=True,
                          timeout=1800, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _scores(folder: Path, truth: pd.DataFrame) -> dict[str, float]:
    clusters = pd.read_csv(folder / "clusters.csv").merge(truth, on=["source", "record_id"])
    codes = clusters.iloc[:, 2].astype("category").cat.codes.to_numpy()
    return pairwise_scores(codes, clusters["person_id"].to_numpy())


def test_spark_backend_links_as_duckdb_does(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    done = _hiddenrate("simulate", "records", "--total", "300", "--capture", "0.5,0.4,0.45", "--seed", "1",
                       "-d", "rec", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    spec = (tmp_path / "rec" / "spec.toml").read_text()
    (tmp_path / "rec" / "spark.toml").write_text(spec.replace("[link]\n", '[link]\nbackend = "spark"\n'))
    for name, spec_file in (("duck", "spec.toml"), ("spark", "spark.toml")):
        done = _hiddenrate("link", f"rec/{spec_file}", "-d", name, "--quiet", cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
    # nothing written beside the user's files (Spark's ./spark-warehouse, DuckDB's ./.tmp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["duck", "rec", "spark"]

    keys = ["source_l", "record_id_l", "source_r", "record_id_r"]
    duck, spark = (pd.read_csv(tmp_path / name / "pairs.csv") for name in ("duck", "spark"))
    both = duck.merge(spark, on=keys, suffixes=("_duck", "_spark"), how="outer", indicator=True)
    assert (both["_merge"] == "both").all()  # the same candidate pairs
    gap = np.abs(both["match_probability_duck"] - both["match_probability_spark"]).max()
    assert gap < 0.05

    # as good as DuckDB against the truth (DuckDB's own level is tested on 2,000 people in test_linkage.py;
    # 300 people are few enough for the small-file training fallback: precision 1.0, recall 0.92 here)
    truth = pd.read_csv(tmp_path / "rec" / "truth.csv")
    duck_scores, spark_scores = (_scores(tmp_path / name, truth) for name in ("duck", "spark"))
    for measure in ("precision", "recall"):
        assert spark_scores[measure] >= duck_scores[measure] - 0.01, (measure, duck_scores, spark_scores)

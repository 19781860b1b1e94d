"""Number-of-captures data end to end: the Dutch illegal-immigrant data against Rcapture."""

from __future__ import annotations

import json

import pytest


def test_dutch_data_match_rcapture_lower_bound(run_cli):
    # Rcapture: closedpCI.0(X, dfreq=TRUE, dtype="nbcap", t=Inf, m="Mh", h="LB")
    # -> abundance 9,267 with profile 95% interval [8,088, 10,704] (shared/data/README.md).
    result = run_cli("lists", "--example", "dutch-immigrants", "--format", "json", "--quiet")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["model"] == "chao-loglinear"
    assert payload["observed"] == 1880
    assert payload["total"]["median"] == pytest.approx(9267, rel=0.005)
    lower, upper = payload["total"]["intervals"]["0.95"]
    assert lower == pytest.approx(8088, rel=0.01) and upper == pytest.approx(10704, rel=0.01)
    assert any("lower bound" in w for w in payload["warnings"])


def test_list_models_are_refused_for_capture_counts(run_cli):
    result = run_cli("lists", "--example", "dutch-immigrants", "--model", "bma")
    assert result.exit_code == 2
    assert "number-of-captures data take" in result.stderr


def test_everyone_caught_once_gives_no_estimate(run_cli, write_csv):
    path = write_csv("nbcap,count\n1,50\n")
    result = run_cli("lists", path, "--quiet", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["estimated"] is False

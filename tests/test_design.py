"""``hiddenrate design``: the design answers against closed forms, the calibration of "detected",
and the same numbers in this process, on a local Dask cluster and on a real distributed one.

Reference values and why they are right:
* The exact reporting model's posterior for 100 recorded and 195 of 711 reported is 363 [296, 446]
  (docs/methods.md#thinning; scipy.stats.betanbinom in tests/test_reporting_models.py).
* The exact expectation over the data (docs/methods.md#design) is a sum over every (y, r) with its
  Poisson x Binomial probability, with no Monte Carlo error: a simulation of the same design must
  agree with it within its Monte Carlo error.
* With no change in incidence, "detected" is a two-sided rule at level 95%: it must fire in 5% of
  replicates, up to binomial error.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import betanbinom, binom

from hiddenrate.analysis.design.reporting import (
    ReportingPlan,
    design_reporting,
    prob_incidence_fall,
    simulate,
)
from hiddenrate.analysis.design.reporting_exact import _BnbTable, exact_expectation
from hiddenrate.core.parallel import Parallel, chunk_ranges, item_seed

ROOT = Path(__file__).resolve().parents[1]


def test_item_seeds_are_the_spawned_children() -> None:
    children = np.random.SeedSequence(7).spawn(5)
    for i, child in enumerate(children):
        assert item_seed(7, i).generate_state(4).tolist() == child.generate_state(4).tolist()
    assert [len(r) for r in chunk_ranges(10, 3)] == [3, 4, 3]
    assert sum(len(r) for r in chunk_ranges(7, 20)) == 7


def test_bnb_quantiles_reproduce_the_reference_and_scipy() -> None:
    table = _BnbTable(np.array([196.0, 20.0]), np.array([517.0, 693.0]), 20000)
    quantiles = table.quantiles(100, (0.025, 0.5, 0.975))
    assert quantiles is not None
    assert quantiles[0].tolist() == [296.0, 363.0, 446.0]
    # the second row: smallest value whose beta-negative-binomial cdf reaches q (scipy's definition)
    for value, q in zip(quantiles[1] - 100, (0.025, 0.5, 0.975), strict=True):
        assert betanbinom.cdf(value, 100, 20.0, 693.0) >= q > betanbinom.cdf(value - 1, 100, 20.0, 693.0)


def test_incidence_comparison_is_a_probability_of_the_right_thing() -> None:
    first, second = (100, 30, 100), (70, 25, 100)
    fall = prob_incidence_fall(first, second)
    # the two orders add to one (continuous incidences), and more nodes change it by under 0.001
    assert fall + prob_incidence_fall(second, first) == pytest.approx(1.0, abs=2e-3)
    assert fall == pytest.approx(prob_incidence_fall(first, second, nodes=1500), abs=1e-3)
    # Monte Carlo from the definition: lambda = Gamma(y, 1) / Beta(1 + r, 1 + m - r)
    rng = np.random.default_rng(3)
    draws = 400_000
    lam = [rng.gamma(y, size=draws) / rng.beta(1 + r, 1 + m - r, size=draws) for y, r, m in (first, second)]
    share = float(np.mean(lam[1] < lam[0]))
    assert abs(fall - share) < 4 * np.sqrt(share * (1 - share) / draws) + 1e-3


@pytest.mark.slow
def test_expected_width_matches_the_exact_expectation_within_monte_carlo_error() -> None:
    plan = ReportingPlan(recorded=60, rate=0.4, surveys=(50, 150, 400), within=0.3, replicates=400, seed=11)
    study = design_reporting(plan, exact=True)
    for candidate in study.candidates:
        m = candidate.settings["surveyed"]
        exact = exact_expectation(60, 0.4, m, 0.95, 0.3)
        assert exact is not None
        for key, value in (("width", exact.width), ("relative_width", exact.relative_width)):
            simulated = candidate.simulated[key]
            assert abs(simulated.value - value) < 3 * simulated.se, (m, key, simulated, value)
        met = candidate.simulated["target_met"]
        assert abs(met.value - exact.target_met) <= 3 * np.sqrt(exact.target_met * (1 - exact.target_met) / 400) + 1e-9
    widths = [c.closed_form["exact_width"] for c in study.candidates]
    assert widths == sorted(widths, reverse=True)  # a larger survey never widens the expected interval


@pytest.mark.slow
def test_detected_fires_at_its_stated_false_positive_rate_when_nothing_changes() -> None:
    replicates = 500
    plan = ReportingPlan(recorded=100, rate=0.3, surveys=(100, 400, 800), change=0.0, replicates=replicates, seed=1)
    study = design_reporting(plan, exact=False)
    assert study.target["false_positive_rate"] == pytest.approx(0.05)
    low, high = binom.ppf(0.005, replicates, 0.05) / replicates, binom.isf(0.005, replicates, 0.05) / replicates
    for candidate in study.candidates:  # each inside the 99% binomial range around 5% (about 2.6% to 7.6%)
        assert low <= candidate.simulated["detected"].value <= high, candidate


@pytest.mark.slow
def test_local_cluster_gives_the_serial_numbers() -> None:
    plan = ReportingPlan(recorded=80, rate=0.3, surveys=(100, 300), change=-0.3, replicates=24, seed=5)
    serial = simulate(plan)
    clustered = simulate(plan, Parallel(workers=2))
    for name, values in serial.items():
        np.testing.assert_array_equal(values, clustered[name])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_real_distributed_run_gives_the_serial_answer(tmp_path: Path, run_cli) -> None:
    """A scheduler and two workers as separate processes on 127.0.0.1, the study sent through them."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard"], env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        args = ["design", "reporting", "--recorded", "80", "--rate", "0.3", "--survey", "100,300", "--change", "-0.3",
                "--replicates", "24", "--seed", "5", "--no-exact", "--format", "json", "--quiet"]
        distributed = run_cli(*args, "--scheduler", address, "--save", tmp_path / "d.json")
        serial = run_cli(*args, "--workers", "0", "--save", tmp_path / "s.json")
        assert distributed.exit_code == 0 and serial.exit_code == 0, distributed.stderr + serial.stderr
        saved = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("d", "s")]
        assert saved[0]["replicates"] == saved[1]["replicates"]
        assert saved[0]["candidates"] == saved[1]["candidates"]
        assert "on the Dask scheduler at" in saved[0]["run"]["where"]
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_design_reporting_cli_prints_the_table(run_cli) -> None:
    result = run_cli("design", "reporting", "--recorded", "50", "--rate", "0.4", "--survey", "100,300", "--within", "0.3",
                     "--replicates", "10", "--workers", "0", "--no-exact", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "survey of 100" in result.stdout and "survey of 300" in result.stdout
    assert "within ±30%" in result.stdout and "delta method" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["--survey", "100,0"], "give whole numbers >= 1"),
    (["--survey", "100", "--change", "-1.5"], "--change -1.5"),
    (["--survey", "100", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], None),
])
def test_design_reporting_bad_input_is_one_line(run_cli, monkeypatch, args, message) -> None:
    monkeypatch.setattr("hiddenrate.core.parallel.CONNECT_TIMEOUT", "2s")
    result = run_cli("design", "reporting", "--recorded", "50", "--rate", "0.4", "--replicates", "4", "--quiet", *args)
    if message is None:  # a scheduler overrides --workers; nobody listens on port 1
        assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.stderr
        return
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_design_lists_cli_compares_list_sets(run_cli) -> None:
    result = run_cli("design", "lists", "--total", "800", "--capture", "0.3,0.25,0.2", "--names", "police,ngo,shelter",
                     "--within", "0.3", "--replicates", "6", "--workers", "0", "--quiet", "--format", "json")
    assert result.exit_code == 0, result.stderr
    study = json.loads(result.stdout)
    assert [c["label"] for c in study["candidates"]] == ["police + ngo", "police + ngo + shelter"]
    assert [c["settings"]["model"] for c in study["candidates"]] == ["bayes-2list", "bma"]
    # Darroch's independence-model width: a third list always narrows it
    widths = [c["closed_form"]["independence_relative_width"] for c in study["candidates"]]
    assert widths[1] < widths[0]


def test_darroch_variance_is_lincoln_petersen_for_two_lists() -> None:
    from scipy.stats import norm

    from hiddenrate.analysis.design.lists import independence_relative_width

    # two lists: var N-hat = N q1 q2 / (p1 p2) (Lincoln-Petersen); 1000 * 0.7 * 0.8 / (0.3 * 0.2) = 9333.3
    z = norm.ppf(0.975)
    expected = 2 * np.sinh(z * np.sqrt(1000 * 0.7 * 0.8 / (0.3 * 0.2)) / 1000)
    assert independence_relative_width(1000, (0.3, 0.2), 0.95) == pytest.approx(expected)


@pytest.fixture(scope="module")
def cluster_address():
    """One local cluster of two worker processes for the --by tests (started once: it costs seconds)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_lists_by_strata_on_a_cluster_gives_the_serial_result(tmp_path: Path, run_cli, cluster_address) -> None:
    rng = np.random.default_rng(6)
    rows = [f"d{d},{a},{b},{c},{rng.poisson(25 if a + b + c == 1 else 6)}" for d in range(4)
            for a in (0, 1) for b in (0, 1) for c in (0, 1) if a + b + c]
    data = tmp_path / "lists.csv"
    data.write_text("district,A,B,C,count\n" + "\n".join(rows) + "\n")
    outputs = []
    for where in (["--workers", "0"], ["--scheduler", cluster_address]):
        result = run_cli("lists", data, "--by", "district", "--model", "independence", *where, "--format", "json",
                         "--quiet")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        document["provenance"].pop("created", None)
        outputs.append(document)
    assert outputs[0] == outputs[1]


@pytest.mark.slow
def test_reporting_by_strata_on_a_local_cluster_gives_the_serial_result(tmp_path: Path, run_cli,
                                                                         cluster_address) -> None:
    """``reporting --by`` with the exact model sends strata through the same path, each with its own seed."""
    rng = np.random.default_rng(4)
    rows = [f"d{i},{rng.poisson(40)},150,{rng.binomial(150, 0.3)}" for i in range(12)]
    data = tmp_path / "districts.csv"
    data.write_text("district,recorded,surveyed,reported\n" + "\n".join(rows) + "\n")
    outputs = []
    for where in (["--workers", "0"], ["--scheduler", cluster_address]):
        result = run_cli("reporting", data, "--unit", "incidents", "--by", "district", "--model", "exact",
                         *where, "--format", "json", "--quiet")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        document["provenance"].pop("created", None)
        outputs.append(document)
    assert outputs[0] == outputs[1]


def test_parallel_options_apply_to_the_exact_model_only(run_cli) -> None:
    result = run_cli("reporting", "--example", "vancouver", "--model", "pooled", "--workers", "2", "--quiet")
    assert result.exit_code == 2
    assert "--workers, --scheduler apply to --model exact" in result.stderr


@pytest.mark.slow
def test_design_trend_compiles_once_and_swaps_the_data() -> None:
    """Every replicate and schedule reuses one compiled trend model (keyed by its structure)."""
    from hiddenrate.analysis.design.trend import TrendPlan, design_trend
    from hiddenrate.models.trend import core

    plan = TrendPlan(recorded=80, rate=0.3, periods=4, surveyed=150, schedules=((0, 3), (0, 1, 2, 3)), change=-0.3,
                     replicates=2, seed=2, draws=150, tune=150, chains=1)
    before = set(core._COMPILED)
    study = design_trend(plan)
    assert len(set(core._COMPILED) - before) <= 1  # at most the one structure this study needs
    assert len(study.candidates) == 2 and study.replicates["ratio_median"].shape == (2, 2)
    assert np.all(np.isfinite(study.replicates["ratio_median"]))
    # replicate 1 alone (as a worker given only it would run it) gives the study's numbers
    from hiddenrate.analysis.design.trend import MEASURES, trend_chunk

    alone = trend_chunk(plan, [1])[0]
    np.testing.assert_array_equal(alone[:, MEASURES.index("ratio_median")], study.replicates["ratio_median"][1])


def test_a_wrong_figure_type_is_refused_before_the_study_runs(run_cli) -> None:
    result = run_cli("design", "reporting", "--recorded", "50", "--rate", "0.4", "--survey", "100", "--replicates", "4",
                     "--workers", "0", "--plot", "figure.txt", "--quiet")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--plot writes .png, .svg or .pdf" in result.stderr

"""No dead ends: every example `hiddenrate examples` offers runs and converges; 7 or more lists get a
default that accounts for model uncertainty; a divergent NUTS fit tries the usual remedy itself; a
fit that still fails prints the command to try.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hiddenrate import fit_lists
from hiddenrate.cli import cli
from hiddenrate.cli.common import rerun_command
from hiddenrate.data.examples import EXAMPLES
from hiddenrate.models.lists.registry import auto_model
from hiddenrate.models.sampling.nuts import remedy_target_accept


def test_seven_or_more_lists_default_to_the_selection_aware_stepwise_bootstrap() -> None:
    """New Orleans, 8 lists: auto = stepwise, whose BCa interval re-runs the selection in every
    replicate. Reference: Chan, Silverman & Vincent (2021, JASA), SparseMSE stepwise D:E, 1,184
    with BCa 95% [717, 1,657]; the point estimate is the MLE of the same model (exact), the
    interval a bootstrap at another seed (within 10% at each end, as README states for SparseMSE)."""
    assert [auto_model(k) for k in (2, 3, 6, 7, 8, 12)] == ["bayes-2list", "bma", "bma", "stepwise", "stepwise", "stepwise"]
    result = fit_lists(EXAMPLES["new-orleans"].path())
    assert result.model == "stepwise"
    assert "Chosen by --model auto for 8 lists" in result.description
    assert round(result.overall.total.median()) == 1184
    lower, upper = result.interval(0.95)
    assert abs(lower / 717 - 1) < 0.10 and abs(upper / 1657 - 1) < 0.10
    explicit = fit_lists(EXAMPLES["new-orleans"].path(), "stepwise")
    assert "Chosen by" not in explicit.description  # said only when auto chose it


def test_the_remedy_raises_the_target_acceptance_tenfold_closer_to_one() -> None:
    """0.8 (nutpie's default) -> 0.98, 0.9 -> 0.99, 0.99 -> 0.999, never above 0.999 nor below the current."""
    assert remedy_target_accept(None) == pytest.approx(0.98)
    assert remedy_target_accept(0.9) == pytest.approx(0.99)
    assert remedy_target_accept(0.99) == pytest.approx(0.999)
    assert remedy_target_accept(0.9995) == pytest.approx(0.9995)


def test_the_command_to_try_doubles_draws_and_tuning() -> None:
    assert rerun_command(["trend", "--example", "vancouver-trend"]) == \
        "hiddenrate trend --example vancouver-trend --draws 2000 --tune 4000"
    assert rerun_command(["reporting", "my data.csv", "--draws", "3000", "--tune=2500", "--by", "area"]) == \
        "hiddenrate reporting 'my data.csv' --by area --draws 6000 --tune 5000"


def test_examples_lists_only_commands_that_exist() -> None:
    run = CliRunner().invoke(cli, ["examples"], catch_exceptions=False)
    assert run.exit_code == 0
    for example in EXAMPLES.values():
        assert f"(hiddenrate {example.command} --example {example.name})" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_bundled_example_runs_and_converges(name: str) -> None:
    """The command `hiddenrate examples` prints for each example, at its defaults (seed 1, 4 x 1,000
    draws): exit 0, an estimate, diagnostics that passed. In one process, so the trend and the joint
    model compile once."""
    example = EXAMPLES[name]
    run = CliRunner().invoke(cli, [example.command, "--example", name, "--format", "json", "--quiet"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["estimated"] and payload["diagnostics"]["converged"], payload["diagnostics"]
    assert np.isfinite(payload["total"]["median"])


def test_report_refuses_html_on_a_terminal_without_output(tmp_path, monkeypatch) -> None:
    """70 KB of HTML on a terminal is a dead end: one line, exit 2, the -o to use; a pipe still gets it."""
    from hiddenrate.cli import report

    saved = tmp_path / "sb.nc"
    fit_lists(EXAMPLES["spina-bifida"].path()).save(saved)
    monkeypatch.setattr(report, "stdout_is_terminal", lambda: True)
    run = CliRunner().invoke(cli, ["report", str(saved)])
    assert run.exit_code == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "-o report.html" in run.stderr
    assert CliRunner().invoke(cli, ["report", str(saved), "--format", "text"]).exit_code == 0
    monkeypatch.setattr(report, "stdout_is_terminal", lambda: False)
    assert CliRunner().invoke(cli, ["report", str(saved)]).stdout.startswith("<!DOCTYPE html>")


def test_help_names_every_prior_on_n_and_the_readme_table_exists() -> None:
    from hiddenrate.models.lists.bma_core import PRIOR_N_CHOICES

    text = " ".join(CliRunner().invoke(cli, ["lists", "--help"]).stdout.split())
    for choice in PRIOR_N_CHOICES:
        assert choice in text
    run = CliRunner().invoke(cli, ["lists", "--example", "spina-bifida", "--format", "csv", "--table", "model sensitivity"])
    assert run.exit_code == 0 and run.stdout.startswith("model,estimate")

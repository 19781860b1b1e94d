"""One name per option: an option that does not apply names the flag the user typed, and every flag
an error names exists on that command (hiddenrate.core.options)."""

from __future__ import annotations

import re

import click
import pytest

from hiddenrate.cli import COMMANDS, cli
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.options import FLAGS, flag
from hiddenrate.models.lists.registry import LIST_MODELS, REPORT_OPTIONS, list_model_class, make_list_model

#: every model option of `hiddenrate lists`, by its Python name (cli/lists.py), with a value to give
LIST_OPTIONS = {"terms": "A:B", "max_order": 2, "criterion": "bic", "delta": 1.0, "prior_n": "uniform", "n_max": 10,
                "log_odds_ratio": (0.7, 0.35), "priors": {"main": [0.0, 5.0]}, "classes": 3, "bootstrap": 200,
                "pthresh": 0.02}


def command_flags(name: str) -> set[str]:
    """Every flag of ``hiddenrate NAME`` (both sides of --x/--no-x)."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return {opt for param in command.params if isinstance(param, click.Option)
            for opt in (*param.opts, *param.secondary_opts)}


def named_flags(message: str) -> set[str]:
    return set(re.findall(r"--[a-z][a-z0-9-]*", message))


def test_every_mapped_flag_exists_on_some_command() -> None:
    every = set().union(*(command_flags(name) for name in COMMANDS))
    for name in FLAGS:
        assert named_flags(flag(name)) <= every, name


def test_every_list_option_is_a_flag_of_lists() -> None:
    flags = command_flags("lists")
    for name in [*LIST_OPTIONS, *REPORT_OPTIONS]:
        assert flag(name) in flags, name


@pytest.mark.parametrize("model", list(LIST_MODELS))
def test_an_option_a_list_model_does_not_take_names_its_flag(model: str) -> None:
    accepted = set(list_model_class(model).option_names)
    flags = command_flags("lists")
    for name, value in LIST_OPTIONS.items():
        if name in accepted:
            continue
        with pytest.raises(ModelError) as error:
            make_list_model(model, 3, {name: value})
        message = str(error.value)
        assert message == f"{flag(name)} does not apply to --model {model}"
        assert named_flags(message) <= flags


@pytest.mark.parametrize("args, expected", [
    (["--dependence", "0.7,0.35"], "hiddenrate: error: --dependence does not apply to --model bma\n"),
    (["--prior", "main=0,5"], "hiddenrate: error: --prior does not apply to --model bma\n"),
    (["--terms", "PF:NGO", "--dependence", "0,1"], "hiddenrate: error: --dependence, --terms does not apply to --model bma\n"),
])
def test_lists_cli_names_the_real_flag(run_cli, args, expected) -> None:
    result = run_cli("lists", "--example", "uk-2013", "--quiet", *args)
    assert result.exit_code == 2
    assert result.stderr == expected


def test_capture_counts_name_the_real_flag(run_cli) -> None:
    result = run_cli("lists", "--example", "dutch-immigrants", "--quiet", "--dependence", "0,1")
    assert result.exit_code == 2
    assert result.stderr == "hiddenrate: error: --dependence does not apply to number-of-captures data\n"


def test_reporting_cli_names_the_real_flag(run_cli) -> None:
    result = run_cli("reporting", "--example", "vancouver", "--model", "multiplier", "--prior", "reporting_rate=1,1",
                     "--quiet")
    assert result.exit_code == 2
    message = result.stderr
    assert "--prior does not apply to --model multiplier" in message
    assert named_flags(message) <= command_flags("reporting")


def test_trend_cli_names_the_real_flag(run_cli) -> None:
    result = run_cli("trend", "--example", "vancouver-trend", "--terms", "A:B", "--quiet")
    assert result.exit_code == 2
    message = result.stderr
    assert "list options (--terms) apply to list data" in message
    assert named_flags(message) <= command_flags("trend")


def test_trend_spec_names_real_flags(run_cli, tmp_path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('by = ["year"]\n[sources.police]\ncount = 1\n', encoding="utf-8")
    result = run_cli("trend", spec, "--unit", "victims", "--quiet")
    assert result.exit_code == 2
    message = result.stderr
    assert "--unit: set these in the combine spec" in message
    assert named_flags(message) <= command_flags("trend")

"""No dead ends: every example `hiddenrate examples` offers runs and converges; 7 or more lists get a
default that accounts for model uncertainty; a NUTS fit that fails its checks tries the usual remedy
itself (divergences: a higher target acceptance; R-hat or ESS alone, at the default draws or more:
twice the draws and tuning); a fit that still fails prints the settings and the command to try.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hiddenrate import fit_lists
from hiddenrate.cli import cli
from hiddenrate.cli.common import rerun_command
from hiddenrate.core.diagnostics import Diagnostics
from hiddenrate.core.settings import DEFAULT_DRAWS, DEFAULT_TUNE, longer_sampling
from hiddenrate.data.examples import EXAMPLES
from hiddenrate.models.lists.registry import auto_model
from hiddenrate.models.sampling import nuts
from hiddenrate.models.sampling.diagnostics import mcmc, mixing_failures
from hiddenrate.models.sampling.nuts import remedy_target_accept
from hiddenrate.render import render
from hiddenrate.render.words import next_sampling, rerun_words


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
    """Twice the draws and tuning of the run kept, at least 2,000 and 4,000 (4 x 1,000 tuning steps:
    warm-up is what a slow-mixing run lacks first); 4 chains when one ran, as R-hat needs two. The
    command line keeps everything but the settings it replaces, in either spelling (``--tune=2500``)."""
    assert longer_sampling(1000, 1000, 4) == {"draws": 2000, "tune": 4000}
    assert longer_sampling(2000, 2000, 4) == {"draws": 4000, "tune": 4000}  # after the sampler's own remedy
    assert longer_sampling(3000, 2500, 1) == {"draws": 6000, "tune": 5000, "chains": 4}
    assert rerun_command(["trend", "--example", "vancouver-trend"], {"draws": 2000, "tune": 4000}) == \
        "hiddenrate trend --example vancouver-trend --draws 2000 --tune 4000"
    assert rerun_command(["reporting", "my data.csv", "--draws", "3000", "--tune=2500", "--by", "area"],
                         {"draws": 6000, "tune": 5000}) == \
        "hiddenrate reporting 'my data.csv' --by area --draws 6000 --tune 5000"


# ----------------------------------------------------------------------------- R-hat / ESS remedy


def _fake_run(centres: list[float], draws: int, diverging: int = 0) -> Any:
    """An InferenceData like nutpie's: ``x`` in 4 chains of ``draws`` independent N(centre, 1) draws
    (seeded), and ``diverging`` divergent transitions in the first chain."""
    import arviz as az

    rng = np.random.default_rng(7)
    x = np.stack([rng.normal(centre, 1.0, draws) for centre in centres])
    flags = np.zeros((len(centres), draws), dtype=bool)
    flags[0, :diverging] = True
    return az.from_dict(posterior={"x": x}, sample_stats={"diverging": flags})


def _scripted(monkeypatch: pytest.MonkeyPatch, *runs: list[float], diverging: int = 0) -> list[tuple[int, int, Any, int]]:
    """Make ``sample_nuts``'s nutpie runs return chains centred at ``runs[0]``, then ``runs[1]``, ...
    (the first with ``diverging`` divergences); returns the (draws, tune, target acceptance, seed
    stream) of each run asked for."""
    calls: list[tuple[int, int, Any, int]] = []

    def fake(compiled, draws, tune, chains, seed, target_accept, progress, options, stream=0):
        calls.append((int(draws), int(tune), target_accept, stream))
        return _fake_run(runs[len(calls) - 1], int(draws), diverging if len(calls) == 1 else 0)

    monkeypatch.setattr(nuts, "_run", fake)
    return calls


AGREE, DISAGREE = [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0]


def test_chains_that_disagree_at_default_draws_are_sampled_again_with_twice_the_draws(monkeypatch) -> None:
    """No divergence, but one chain of four sits 3 sd away: R-hat about 1.5 (far above 1.01). At the
    default 1,000 draws the sampler runs once more with 2,000 draws and 2,000 tuning steps (same
    target acceptance, the seed's second stream for new starting points), keeps that run, and says so
    in the attrs and in the method text the report prints; the diagnostics are those of the run kept."""
    calls = _scripted(monkeypatch, DISAGREE, AGREE)
    idata = nuts.sample_nuts(None, draws=DEFAULT_DRAWS, tune=DEFAULT_TUNE, chains=4,
                             seed=np.random.SeedSequence(1), target_accept=0.9, remedy=True)
    assert calls == [(1000, 1000, 0.9, 0), (2000, 2000, 0.9, 1)]
    note = idata.sample_stats.attrs["remedy"]
    assert note.startswith("sampled again with 2,000 draws and 2,000 tuning steps per chain after R-hat 1.")
    assert "(above 1.01)" in note
    diagnostics = mcmc(idata, ["x"], "NUTS (nutpie), 4 chains x 1000 draws after 1000 tuning")
    assert diagnostics.method.endswith("; " + note) and diagnostics.converged
    assert (diagnostics.draws, diagnostics.tune) == (2000, 2000)


def _autocorrelated(draws: int, phi: float = 0.75, chains: int = 2, seed: int = 0) -> Any:
    """Chains that agree but mix slowly: a stationary AR(1) process with coefficient ``phi`` in each
    chain, so the effective draws are about ``chains * draws * (1 - phi) / (1 + phi)``."""
    import arviz as az

    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(chains, draws)) * np.sqrt(1 - phi**2)
    x = np.zeros((chains, draws))
    x[:, 0] = rng.normal(size=chains)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return az.from_dict(posterior={"x": x}, sample_stats={"diverging": np.zeros((chains, draws), dtype=bool)})


def test_too_few_effective_draws_alone_take_the_remedy_too(monkeypatch) -> None:
    """Two chains that agree (R-hat at most 1.01) but mix slowly, AR(1) with coefficient 0.75: about
    2,000 x 0.25 / 1.75 = 286 effective draws, below 400 (measured: bulk ESS 283). Twice the draws
    of the same process give about 570, and the second run passes."""
    calls = []

    def fake(compiled, draws, tune, chains, seed, target_accept, progress, options, stream=0):
        calls.append(int(draws))
        return _autocorrelated(int(draws))

    monkeypatch.setattr(nuts, "_run", fake)
    idata = nuts.sample_nuts(None, draws=1000, tune=1000, chains=2, seed=np.random.SeedSequence(1), remedy=True)
    assert calls == [1000, 2000]
    assert idata.sample_stats.attrs["remedy"] == ("sampled again with 2,000 draws and 2,000 tuning steps per chain "
                                                  "after bulk ESS 283 (below 400)")
    assert mcmc(idata, ["x"], "NUTS").converged


def test_the_model_names_what_decides_the_remedy() -> None:
    """By default the model's own variables decide (internal ``_`` ones left out); a model whose
    reported rates are made from internal variables names those (``monitor``), and names the
    posterior does not have are passed over. Here ``a`` agrees and ``_b`` disagrees (R-hat about 1.5)."""
    import arviz as az

    disagree = _fake_run(DISAGREE, 1000).posterior["x"].values
    agree = _fake_run(AGREE, 1000).posterior["x"].values
    idata = az.from_dict(posterior={"a": agree, "_b": disagree}, sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)})
    assert mixing_failures(idata) == ""
    assert mixing_failures(idata, ("_b", "not_sampled")).startswith("R-hat 1.4")


def test_a_deliberately_short_run_is_not_doubled(monkeypatch) -> None:
    """500 draws (fewer than the default 1,000) were asked for on purpose, e.g. a quick look or a test:
    the same disagreeing chains are kept as they are (the diagnostics then fail and say so), with one
    run's cost. Nor without ``remedy``, nor when the model says twice the draws would not fit in memory."""
    calls = _scripted(monkeypatch, DISAGREE, AGREE)
    idata = nuts.sample_nuts(None, draws=500, tune=500, chains=4, seed=np.random.SeedSequence(1), remedy=True)
    assert calls == [(500, 500, None, 0)]
    assert "remedy" not in idata.sample_stats.attrs and idata.sample_stats.attrs["tuning_steps"] == 500
    assert not mcmc(idata, ["x"], "NUTS").converged
    for settings in ({"remedy": False}, {"remedy": True, "max_draws": 1999}):
        calls = _scripted(monkeypatch, DISAGREE, AGREE)
        nuts.sample_nuts(None, draws=1000, tune=1000, chains=4, seed=np.random.SeedSequence(1), **settings)
        assert calls == [(1000, 1000, None, 0)]


def test_divergences_keep_their_remedy_and_there_is_no_third_run(monkeypatch) -> None:
    """Divergences first: the second run is at target acceptance 0.99 (from 0.9) with twice the tuning
    and the same draws. If its chains then disagree, that is reported, not sampled a third time."""
    calls = _scripted(monkeypatch, AGREE, DISAGREE, AGREE, diverging=5)
    idata = nuts.sample_nuts(None, draws=1000, tune=1000, chains=4, seed=np.random.SeedSequence(1),
                             target_accept=0.9, remedy=True)
    assert calls == [(1000, 1000, 0.9, 0), (1000, 2000, pytest.approx(0.99), 0)]
    assert idata.sample_stats.attrs["remedy"] == ("sampled again at target acceptance 0.99 with 2,000 tuning steps "
                                                  "after 5 divergent transitions")
    assert not mcmc(idata, ["x"], "NUTS").converged


def test_the_second_stream_is_another_seed_and_the_same_every_time(monkeypatch) -> None:
    """The first run's seed is the one it always was (word 0 of the state: numbers already published
    do not move); the remedy's is word 1, so the chains start elsewhere, and the same seed gives it again."""
    import nutpie

    seeds: list[int] = []
    monkeypatch.setattr(nutpie, "sample", lambda *args, seed, **kwargs: seeds.append(seed))
    for stream in (0, 1, 1):
        nuts._run(None, 10, 10, 2, np.random.SeedSequence(5), None, False, {}, stream=stream)
    assert seeds[0] == int(np.random.SeedSequence(5).generate_state(1, dtype=np.uint64)[0])
    assert seeds[1] == seeds[2] != seeds[0]


def test_a_report_that_did_not_converge_prints_the_settings_to_try(tmp_path) -> None:
    """A sampled fit whose run kept (2,000 draws after 2,000 tuning: the sampler's own remedy) still
    failed: every format says to run it again with twice those, --draws 4000 --tune 4000, and a saved
    result says the same when re-rendered (the tuning is saved with the diagnostics). One chain adds
    --chains 4. A failure longer chains would not mend (no draws: the fit did not sample) suggests nothing."""
    base = fit_lists(pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [100, 200, 50]}), "chapman")
    failed = Diagnostics(method="NUTS (nutpie), 4 chains x 1000 draws after 1000 tuning; sampled again with 2,000 "
                                "draws and 2,000 tuning steps per chain after R-hat 1.050 (above 1.01)",
                         converged=False, rhat_max=1.05, chains=4, draws=2000, tune=2000,
                         messages=("chains disagree: R-hat 1.050 is above 1.01 (run longer or check the model)",))
    result = replace(base, overall=replace(base.overall, diagnostics=failed))
    expected = "--draws 4000 --tune 4000"
    text = render(result, "text")
    block = text[text.index("THE FIT DID NOT CONVERGE"):text.index("!" * 78, text.index("THE FIT DID NOT CONVERGE"))]
    assert "Try longer chains: run the fit again with --draws 4000 --tune" in " ".join(block.replace("!!", "").split())
    assert 'sampling={"draws": 4000, "tune": 4000}' in " ".join(block.replace("!!", "").split())
    for fmt in ("markdown", "html"):
        assert expected in render(result, fmt)
    saved = tmp_path / "failed.nc"
    result.save(str(saved))
    run = CliRunner().invoke(cli, ["report", str(saved), "--format", "markdown"])
    assert expected in run.stdout
    # `report` re-renders and has no --draws: stderr gives the settings for the fit, not a `report` command with them
    assert f"Try longer chains: run the fit again with {expected}" in run.stderr and "hiddenrate report" not in run.stderr
    one_chain = replace(failed, chains=1, tune=None)  # tuning not recorded: the result's own (1,000 by default)
    assert next_sampling(replace(result, overall=replace(base.overall, diagnostics=one_chain))) == \
        {"draws": 4000, "tune": 4000, "chains": 4}
    not_sampled = Diagnostics(method="NUTS", converged=False, messages=("the posterior of N is unbounded",))
    assert next_sampling(replace(result, overall=replace(base.overall, diagnostics=not_sampled))) is None
    assert rerun_words(replace(result, overall=replace(base.overall, diagnostics=not_sampled))) is None


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
    assert run.exit_code == 0 and run.stdout.startswith("model,in words,estimate")

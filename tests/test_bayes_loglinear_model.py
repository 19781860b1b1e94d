"""The Bayesian log-linear model through the public API and the CLI: diagnostics recorded,
numbers consistent with the classical independence fit, reproducible with a seed."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_cli_reports_mcmc_diagnostics_and_matches_mt(run_cli):
    # Independence on the spina bifida data: Rcapture Mt (closedpCI.t, mX = ~.) gives
    # 762.6 [726.1, 807.0]; with the flat intercept (p(N) ∝ 1/N) the posterior is close to it.
    result = run_cli("lists", "--example", "spina-bifida", "--model", "bayes-loglinear", "--format", "json", "--quiet")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    diagnostics = payload["diagnostics"]
    assert diagnostics["converged"] is True
    assert diagnostics["rhat_max"] <= 1.01 and diagnostics["ess_bulk_min"] >= 400 and diagnostics["divergences"] == 0
    assert "nutpie" in diagnostics["method"]
    assert payload["total"]["median"] == pytest.approx(762.6, rel=0.01)
    lower, upper = payload["total"]["intervals"]["0.95"]
    assert lower == pytest.approx(726.1, rel=0.015) and upper == pytest.approx(807.0, rel=0.015)
    assert payload["priors"]["intercept"]["dist"] == "flat"
    # same seed, same numbers
    again = json.loads(run_cli("lists", "--example", "spina-bifida", "--model", "bayes-loglinear",
                               "--format", "json", "--quiet").stdout)
    assert again["total"] == payload["total"]


@pytest.mark.slow
def test_saved_bayesian_result_keeps_the_posterior(tmp_path):
    import hiddenrate

    result = hiddenrate.fit_lists(hiddenrate.example_path("spina-bifida"), "bayes-loglinear",
                                  terms="L1:L2", sampling={"draws": 300, "tune": 300, "chains": 2})
    path = tmp_path / "fit.nc"
    result.save(str(path))
    loaded = hiddenrate.load_result(str(path))
    assert "posterior" in loaded.overall.idata.groups()
    assert "interaction" in loaded.overall.idata.posterior
    assert loaded.to_dict()["total"] == result.to_dict()["total"]

"""Tests of the Bayesian Poisson log-linear sampler (hiddenrate.models.lists.bayes_loglinear_core).

Compiling a nutpie model takes several seconds, so compiled samplers are module-scoped
fixtures and every sampling test swaps data into them; sampling uses few draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import arviz
import numpy as np
import pandas as pd
import pytest

from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.models.lists.bayes_loglinear_core import (
    DEFAULT_PRIORS,
    LoglinearSampler,
    _compiled_model,
    loglinear_priors,
)
from hiddenrate.core.design import cell_index

LISTS = Path(__file__).resolve().parents[1] / "hiddenrate" / "data" / "examples" / "lists"
# Spina bifida, New York (Hook et al. 1980): cells in hiddenrate order (list j is bit j).
SPINA_BIFIDA = np.array([0, 247, 49, 142, 60, 112, 4, 12])
FEW = {"draws": 300, "tune": 300, "chains": 2}


@pytest.fixture(scope="module")
def independence3() -> LoglinearSampler:
    return LoglinearSampler(3)


@pytest.fixture(scope="module")
def dependence2() -> LoglinearSampler:
    # Two lists with their (unidentified) log odds ratio given an informative prior. The main
    # effects get nearly flat priors so that the posterior of the log odds ratio is exactly its
    # prior (the main effects' priors also act on the unidentified direction; with the default
    # Normal(0, 5) the effective prior here would be Normal(0.486, 0.299); module docstring).
    return LoglinearSampler(
        2, [(0, 1)], priors={"main": {"sigma": 100.0}, "interaction:0,1": {"mu": 0.5, "sigma": 0.3}}
    )


# ----------------------------------------------------------------------------- priors


def test_default_priors_are_visible_and_json_serialisable() -> None:
    merged = loglinear_priors(3)
    assert merged == DEFAULT_PRIORS
    assert merged is not DEFAULT_PRIORS
    assert json.loads(json.dumps(merged)) == merged
    assert DEFAULT_PRIORS["intercept"] == {"dist": "flat"}
    assert DEFAULT_PRIORS["main"]["sigma"] == 5.0
    assert DEFAULT_PRIORS["interaction"]["sigma"] == 2.0


def test_overrides_merge_onto_groups_and_terms() -> None:
    merged = loglinear_priors(
        3,
        ((0, 1), (0, 2)),
        {"interaction": {"sigma": 1.0}, "interaction:2,0": {"mu": 0.5}, "main:1": {"sigma": 0}},
    )
    assert merged["interaction"] == {"dist": "normal", "mu": 0.0, "sigma": 1.0}
    # per-term keys are canonicalised and take missing fields from the (overridden) group
    assert merged["interaction:0,2"] == {"dist": "normal", "mu": 0.5, "sigma": 1.0}
    assert merged["main:1"] == {"dist": "normal", "mu": 0.0, "sigma": 0.0}
    assert loglinear_priors(2, (), {"intercept": {"mu": 6, "sigma": 3}})["intercept"] == {
        "dist": "normal", "mu": 6.0, "sigma": 3.0
    }


def test_unknown_prior_name_lists_valid_names() -> None:
    with pytest.raises(ModelError) as info:
        loglinear_priors(3, ((0, 1),), {"interaction:1,2": {"sigma": 1}, "slope": {}})
    message = str(info.value)
    assert "'interaction:1,2'" in message and "'slope'" in message
    for name in ("intercept", "main", "interaction", "main:0", "main:2", "interaction:0,1"):
        assert name in message


def test_all_prior_errors_reported_at_once() -> None:
    with pytest.raises(ModelError) as info:
        loglinear_priors(3, (), {"main": {"sigma": -1}, "main:0": {"dist": "flat"}, "intercept": {"sigma": 0, "mu": 1},
                             "main:2": {"mu": "a", "scale": 2}})
    message = str(info.value)
    assert "sigma must be finite and >= 0" in message
    assert "only the intercept may have a flat prior" in message
    assert "would fix the size of the hidden population" in message
    assert "mu must be a number" in message
    assert "unknown field(s) ['scale']" in message


def test_sampler_priors_property_is_a_copy() -> None:
    sampler = LoglinearSampler(2, priors={"main": {"sigma": 3}})
    sampler.priors["main"]["sigma"] = 99
    assert sampler.priors["main"]["sigma"] == 3.0


# ----------------------------------------------------------------------------- model checks


@pytest.mark.parametrize(
    ("k", "terms", "message"),
    [
        (1, (), "at least 2 lists"),
        (3, ((0, 3),), "outside 0..2"),
        (3, ((0, 1, 2),), "not hierarchical"),
    ],
)
def test_invalid_models(k: int, terms: tuple, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        LoglinearSampler(k, terms)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (np.array([0, 1, 2, 3]), "length 2\\*\\*3 = 8"),
        (np.array([0, 1, 2, 3, -1, 5, 6, 7]), "cell 4 is -1"),
        (np.array([0, 1, 2.5, 3, 4, 5, 6, 7]), "cell 2 is 2.5"),
        (np.zeros(8, dtype=int), "all observed counts are 0"),
    ],
)
def test_invalid_counts_rejected_before_compiling(counts: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        LoglinearSampler(3, priors={"main": {"sigma": 4.5}}).sample(counts)


# ----------------------------------------------------------------------------- sampling


def test_result_structure(independence3: LoglinearSampler) -> None:
    idata = independence3.sample(SPINA_BIFIDA, seed=3, **FEW)
    posterior = idata.posterior
    assert set(posterior.data_vars) == {"intercept", "main_effect", "hidden_mean", "hidden", "total"}
    assert posterior["main_effect"].dims == ("chain", "draw", "list")
    assert posterior["main_effect"].coords["list"].values.tolist() == [0, 1, 2]
    for name in ("hidden", "total"):
        assert posterior[name].dims == ("chain", "draw")
        assert posterior[name].dtype == np.int64
    assert posterior["total"].shape == (2, 300)
    n_observed = int(SPINA_BIFIDA.sum())
    np.testing.assert_array_equal(posterior["total"].values, posterior["hidden"].values + n_observed)
    np.testing.assert_allclose(posterior["hidden_mean"].values, np.exp(posterior["intercept"].values))
    assert idata.sample_stats["diverging"].dtype == bool
    np.testing.assert_array_equal(idata.observed_data["counts"].values, SPINA_BIFIDA[1:])
    assert idata.observed_data["counts"].coords["cell"].values.tolist() == list(range(1, 8))
    assert json.loads(posterior.attrs["priors"]) == independence3.priors
    assert posterior.attrs["seed"] == 3


def test_same_seed_same_draws_and_entry_zero_ignored(independence3: LoglinearSampler) -> None:
    first = independence3.sample(SPINA_BIFIDA, seed=11, **FEW)
    with_truth = SPINA_BIFIDA.copy()
    with_truth[0] = 999  # a simulated table carries the true hidden count; it must not be used
    second = independence3.sample(with_truth, seed=11, **FEW)
    other = independence3.sample(SPINA_BIFIDA, seed=12, **FEW)
    for name in ("intercept", "main_effect", "hidden", "total"):
        np.testing.assert_array_equal(first.posterior[name].values, second.posterior[name].values)
    assert not np.array_equal(first.posterior["intercept"].values, other.posterior["intercept"].values)
    assert not np.array_equal(first.posterior["hidden"].values, other.posterior["hidden"].values)


def test_compiled_once_per_specification(independence3: LoglinearSampler) -> None:
    again = LoglinearSampler(3, priors={"main": {"mu": 0.0}})  # same merged priors
    assert again.priors == independence3.priors
    # the PyTensor model is compiled once; the kernel (installed on a copy) is built once too
    assert _compiled_model(3, (), again.priors, kernel=False) is _compiled_model(3, (), independence3.priors, kernel=False)
    assert _compiled_model(3, (), again.priors).compiled_logp_func is _compiled_model(3, (), independence3.priors).compiled_logp_func


def test_arviz_diagnostics_run_quietly(independence3: LoglinearSampler) -> None:
    # filterwarnings = error: ArviZ must not warn on our posterior (no constant variables)
    idata = independence3.sample(SPINA_BIFIDA, seed=5, **FEW)
    summary = arviz.summary(idata)
    assert {"intercept", "total"} <= set(summary.index)
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_two_list_dependence_posterior_equals_prior(dependence2: LoglinearSampler) -> None:
    # Three observed cells identify three of the four parameters; with a flat intercept the
    # log odds ratio between the lists is not informed by the data at all: posterior = prior,
    # Normal(0.5, 0.3). That is intended -- the prior on dependence is the user's assumption.
    idata = dependence2.sample(np.array([0, 300, 200, 60]), seed=2, draws=1000, tune=500, chains=4)
    # (arviz.mcse(method="sd") fails under numba with this ArviZ/numpy; summary() does not)
    row = arviz.summary(idata, var_names=["interaction"], round_to="none").iloc[0]
    assert abs(row["mean"] - 0.5) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - 0.3) < 4 * row["mcse_sd"]
    assert row["mcse_mean"] < 0.02 and row["mcse_sd"] < 0.02


def test_two_lists_fixed_dependence_matches_closed_form() -> None:
    # With the log odds ratio fixed at gamma the expected hidden count is
    # n10 * n01 * exp(gamma) / n11 (Lincoln-Petersen when gamma = 0).
    sampler = LoglinearSampler(2, [(0, 1)], priors={"interaction": {"mu": 0.5, "sigma": 0}})
    idata = sampler.sample(np.array([0, 300, 200, 60]), seed=4, draws=1000, tune=500)
    assert "interaction" not in idata.posterior  # fixed terms are not parameters
    expected = 300 * 200 * np.exp(0.5) / 60
    assert float(idata.posterior["hidden_mean"].median()) == pytest.approx(expected, rel=0.03)


@pytest.mark.slow
def test_spina_bifida_independence_matches_rcapture(independence3: LoglinearSampler) -> None:
    # Reference: Rcapture::closedp.t(spina_bifida, dfreq = TRUE), model Mt (independence):
    # abundance 762.6, profile-likelihood 95% CI [726.1, 807.0] (Poisson MLE).
    frame = pd.read_csv(LISTS / "spina_bifida_new_york.csv")
    counts = np.zeros(8, dtype=np.int64)
    for row in frame.itertuples(index=False):
        counts[cell_index(row[:3])] = row[3]
    np.testing.assert_array_equal(counts, SPINA_BIFIDA)
    idata = independence3.sample(counts, seed=1)
    total = idata.posterior["total"].values.ravel()
    low, median, high = np.quantile(total, [0.025, 0.5, 0.975])
    assert median == pytest.approx(762.6, rel=0.01)
    assert low == pytest.approx(726.1, rel=0.015)
    assert high == pytest.approx(807.0, rel=0.015)


def test_unbounded_hidden_count_is_an_error() -> None:
    # Two lists with practically flat priors on their dependence and on the main effects:
    # exp(intercept) is unbounded, and the sampler says so instead of returning nonsense.
    sampler = LoglinearSampler(2, [(0, 1)], priors={"main": {"sigma": 1e4}, "interaction": {"sigma": 1e4}})
    with pytest.raises(EstimationError, match="unbounded"):
        sampler.sample(np.array([0, 30, 20, 6]), seed=1, **FEW)

"""Latent-class model (hiddenrate.models.latent_class[_core]): priors, identities, and one exact check.

The exact check: with one class the model is the independence model with Beta(1, 1) capture
probabilities and p(N) ∝ 1/N, whose posterior of N is one-dimensional and known in closed form,

    p(N | data) ∝ (1/N) · N! / (N - n)! · Π_k B(n_k + 1, N - n_k + 1),

(n_k = people on list k). Both samplers must reproduce its quantiles within Monte Carlo error:
NUTS on the conditional likelihood (then the negative-binomial draw of the hidden count), and
Gibbs-HMC, whose two moves are checked apart: Gibbs sweeps alone (``leapfrog=0``: the hidden
count, the classes of the people and the Beta draws of the capture probabilities) and with the
HMC move on the marginal posterior (default). A wrong conditional or a wrong acceptance ratio in
either would move the quantiles by far more than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import betaln, gammaln

from hiddenrate.exceptions import DataError, ModelError
from hiddenrate.models.design import patterns
from hiddenrate.models.latent_class import LatentClassModel, class_table
from hiddenrate.models.latent_class_core import (
    DEFAULT_PRIORS,
    LatentClassSampler,
    merge_priors,
    prior_log_odds_unseen,
)

COUNTS = np.array([0, 247, 49, 142, 60, 112, 4, 12])  # spina bifida, New York (3 lists)


def test_default_priors_are_lcmcr() -> None:
    assert merge_priors() == DEFAULT_PRIORS
    assert DEFAULT_PRIORS == {"alpha": {"shape": 0.25, "rate": 0.25}, "capture": {"a": 1.0, "b": 1.0}}


def test_prior_overrides_and_cli_pairs() -> None:
    merged = merge_priors({"alpha": {"shape": 1.0}, "capture": {"mu": 2.0, "sigma": 3.0}})
    assert merged["alpha"] == {"shape": 1.0, "rate": 0.25}
    assert merged["capture"] == {"a": 2.0, "b": 3.0}


def test_prior_errors_are_listed_together() -> None:
    with pytest.raises(ModelError) as error:
        merge_priors({"beta": {"a": 1}, "alpha": {"shape": -1, "scale": 2}})
    text = str(error.value)
    assert "unknown prior 'beta'" in text and "unknown field(s) ['scale']" in text and "shape must be" in text


@pytest.mark.parametrize("stick_sum", [0.01, 0.7, 5.0, 40.0])
def test_concentration_integrates_out_in_closed_form(stick_sum: float) -> None:
    """∫ α^(K-1) e^(-α S) Gamma(α; a, b) dα = b^a Γ(a+K-1) / (Γ(a) (b+S)^(a+K-1))."""
    a, b, classes = 0.25, 0.25, 10

    def integrand(alpha: float) -> float:
        log_gamma_pdf = a * np.log(b) - gammaln(a) + (a - 1) * np.log(alpha) - b * alpha
        return float(np.exp((classes - 1) * np.log(alpha) - alpha * stick_sum + log_gamma_pdf))

    numeric, _ = integrate.quad(integrand, 0, np.inf, limit=200)
    closed = np.exp(a * np.log(b) + gammaln(a + classes - 1) - gammaln(a) - (a + classes - 1) * np.log(b + stick_sum))
    assert numeric == pytest.approx(closed, rel=1e-6)


def test_prior_draws_of_the_unseen_share() -> None:
    # one class, Beta(1, 1) captures: pi_0 = prod(1 - lambda_k) has mean 2^-k
    rng = np.random.default_rng(1)
    draws = prior_log_odds_unseen(3, 1, DEFAULT_PRIORS, rng, size=40_000)
    share = 1 / (1 + np.exp(-draws))
    assert share.mean() == pytest.approx(1 / 8, abs=0.004)


def test_bad_input() -> None:
    with pytest.raises(ModelError):
        LatentClassSampler(1)
    with pytest.raises(ModelError):
        LatentClassSampler(3, classes=0)
    with pytest.raises(ModelError):
        LatentClassModel(classes=0)
    with pytest.raises(DataError):
        LatentClassSampler(3).sample(np.zeros(8))
    with pytest.raises(DataError):
        LatentClassSampler(3).sample(np.ones(4))


def _exact_posterior(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n = int(counts[1:].sum())
    sizes = patterns(k)[1:].T @ counts[1:]
    totals = np.arange(n, 20 * n)
    log_post = -np.log(totals) + gammaln(totals + 1) - gammaln(totals - n + 1)
    for size in sizes:
        log_post = log_post + betaln(size + 1, totals - size + 1)
    pmf = np.exp(log_post - log_post.max())
    return totals, pmf / pmf.sum()


SETTINGS = {"nuts": {"sampler": "nuts"}, "gibbs": {"sampler": "gibbs-hmc", "leapfrog": 0},
            "gibbs-hmc": {"sampler": "gibbs-hmc"}}


@pytest.fixture(scope="module", params=sorted(SETTINGS))
def one_class_fit(request):
    sampler = LatentClassSampler(3, classes=1)
    idata = sampler.sample(COUNTS, draws=1000, tune=500, chains=4, seed=11, **SETTINGS[request.param])
    return request.param, idata


def test_one_class_reproduces_the_exact_posterior(one_class_fit) -> None:
    name, idata = one_class_fit
    totals, pmf = _exact_posterior(COUNTS, 3)
    cdf = np.cumsum(pmf)
    draws = idata.posterior["total"].values.ravel()
    for q in (0.025, 0.5, 0.975):
        exact = totals[np.searchsorted(cdf, q)]
        # Monte Carlo error of a quantile from ~4,000 draws: well under 1% here
        assert np.quantile(draws, q) == pytest.approx(exact, rel=0.01), name


def test_output_structure_and_seeding(one_class_fit) -> None:
    name, idata = one_class_fit
    posterior = idata.posterior
    for variable in ("log_odds_unseen", "class_weight", "capture", "alpha", "hidden", "total"):
        assert variable in posterior
    assert not any(str(v).startswith("_") for v in posterior.data_vars)
    assert "diverging" in idata.sample_stats
    if name != "nuts":  # the Gibbs sweeps record how many classes hold anybody (LCMCR's k*)
        assert np.all(posterior["occupied_classes"].values == 1)
    np.testing.assert_array_equal(posterior["total"].values, posterior["hidden"].values + COUNTS[1:].sum())
    assert "log_odds_unseen" in idata.prior
    again = LatentClassSampler(3, classes=1).sample(COUNTS, draws=1000, tune=500, chains=4, seed=11, **SETTINGS[name])
    np.testing.assert_array_equal(again.posterior["total"].values, posterior["total"].values)
    table = class_table(idata, ("birth", "death", "rehab"))
    assert table["rows"][0][1] == pytest.approx(1.0)


def test_gibbs_hmc_chains_do_not_depend_on_threads() -> None:
    """Chains run in parallel threads, each seeding numba's generator of its own thread: the draws
    are the same run on one thread or on four."""
    from hiddenrate.models.latent_class_gibbs import run_chains

    priors = merge_priors(None)
    runs = [run_chains(COUNTS[1:], 3, 4, priors, tune=50, draws=40, thin=2, seeds=[5, 6, 7], max_hidden_mean=1e15,
                       leapfrog=5, threads=threads) for threads in (1, 4)]
    for one, many in zip(*runs):
        np.testing.assert_array_equal(one["hidden"], many["hidden"])
        np.testing.assert_array_equal(one["capture"], many["capture"])


def test_unknown_sampler_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown sampler"):
        LatentClassSampler(3).sample(COUNTS, sampler="metropolis")
    with pytest.raises(ModelError, match="unknown sampler"):
        LatentClassModel(sampler="metropolis")


def test_default_classes_are_raised_while_the_last_class_binds() -> None:
    """The truncation at K is an approximation of the Dirichlet process; when its last class holds
    more than 2% of the population (the stick-breaking remainder it absorbs), the default doubles K.

    Data: independent lists (N = 1,000, capture 0.3, 0.25, 0.35), data set 44 of the fragility
    pilot (SeedSequence([11, 44])), chosen because with K = 10 the concentration wanders to about 1
    (classes with the same capture probabilities are free to split the population) and the last
    class holds about 6%. With K = 20 the prior's tail beyond class 19 is about 0.5^19: the last class
    holds well under 2%, so the "bound" warning the fixed K = 10 gets is a false alarm the default
    avoids. N does not depend on how identical classes split the people: the two medians agree.
    """
    from hiddenrate import fragility
    from hiddenrate.data.lists import ListTable
    from hiddenrate.simulate import simulate_list_counts

    counts = simulate_list_counts(1000, [0.3, 0.25, 0.35], rng=np.random.default_rng(np.random.SeedSequence([11, 44])))
    counts[0] = 0
    table = ListTable(names=("A", "B", "C"), counts=counts)
    fixed = LatentClassModel(classes=10).fit_table(table, levels=(0.95,), seed=44, interval_kind="equal-tailed")
    assert any("last of the 10 latent classes" in f.message for f in fragility.check(fixed, table))
    auto = LatentClassModel().fit_table(table, levels=(0.95,), seed=44, interval_kind="equal-tailed")
    assert auto.details["classes"] == 20 and auto.details["classes_tried"] == [10]
    assert "K raised from 10 to 20" in auto.details["tables"][0]["note"]
    assert fragility.last_class_share(auto.idata) < fragility.LAST_CLASS_WEIGHT
    assert not [f for f in fragility.check(auto, table) if f.check == "bound"]
    assert auto.total.median() == pytest.approx(fixed.total.median(), rel=0.03)

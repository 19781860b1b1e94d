"""Two-list estimators: closed forms (Seber 1982), zero overlap, the dependence prior, coverage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from hiddenrate import fit_lists, read_lists
from hiddenrate.models.lists.two_list import BayesTwoList, Chapman, LincolnPetersen

# n1 = 150 on list 1, n2 = 250 on list 2, 50 on both
FRAME = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [100, 200, 50]})


def test_lincoln_petersen_closed_form():
    # N = n1 n2 / m = 150*250/50; Var = n1 n2 (n1-m)(n2-m)/m^3 = 150*250*100*200/125000 = 6000
    result = LincolnPetersen().fit(FRAME)
    assert result.overall.total.median() == pytest.approx(750.0)
    assert result.overall.details["standard_error"] == pytest.approx(np.sqrt(6000.0))
    # Chao (1987) log-normal interval: n + f0/C, n + f0*C with C = exp(z sqrt(log(1 + var/f0^2)))
    f0, z = 750.0 - 350, norm.ppf(0.975)
    c = np.exp(z * np.sqrt(np.log(1 + 6000 / f0**2)))
    assert result.interval(0.95) == pytest.approx((350 + f0 / c, 350 + f0 * c))


def test_chapman_closed_form():
    # N = (n1+1)(n2+1)/(m+1) - 1 = 151*251/51 - 1
    # Var = (n1+1)(n2+1)(n1-m)(n2-m)/((m+1)^2 (m+2)) = 151*251*100*200/(51^2*52)
    result = Chapman().fit(FRAME)
    assert result.overall.total.median() == pytest.approx(151 * 251 / 51 - 1)
    assert result.overall.details["standard_error"] ** 2 == pytest.approx(151 * 251 * 100 * 200 / (51**2 * 52))
    lower, upper = result.interval(0.95)
    assert 350 < lower < 742.16 < upper


@pytest.mark.parametrize("model", ["chapman", "lincoln-petersen", "bayes-2list"])
def test_zero_overlap_is_a_clear_answer_not_a_number(model, run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,40\n0,1,30\n")
    result = run_cli("lists", path, "--model", model, "--format", "json", "--quiet")
    assert result.exit_code == 1  # no estimate could be produced
    payload = json.loads(result.stdout)
    assert payload["estimated"] is False
    assert payload["total"] is None
    assert "no upper bound without an assumption" in payload["reason"]
    text = " ".join(run_cli("lists", path, "--model", model, "--quiet").stdout.split())  # unwrap lines
    assert "No estimate of the total" in text and "no upper bound without an assumption" in text
    assert "inf" not in text.lower().replace("information", "")


def test_bayes_two_list_independence_matches_lincoln_petersen():
    # Under independence the posterior of the hidden count is centred on the LP value
    # n10 n01 / n11 = 100*200/50 = 400 (Gamma posteriors of the cell means; Poisson noise).
    result = BayesTwoList(draws=40_000).fit(FRAME, seed=3)
    hidden = result.overall.quantity("hidden")
    assert hidden.median() == pytest.approx(400, rel=0.03)
    lp = LincolnPetersen().fit(FRAME)
    # the Bayesian interval is at least as wide as the classical one (it adds the count's noise)
    (bl, bu), (cl, cu) = result.interval(0.95), lp.interval(0.95)
    assert bu - bl >= 0.95 * (cu - cl)


def test_dependence_prior_moves_the_estimate_as_the_identity_says():
    # E[n00] = e^gamma n10 n01 / n11: fixing the odds ratio at 2 doubles the hidden count.
    base = BayesTwoList().fit(FRAME, seed=5).overall.quantity("hidden").median()
    doubled = BayesTwoList(log_odds_ratio=(np.log(2), 0.0)).fit(FRAME, seed=5).overall.quantity("hidden").median()
    assert doubled / base == pytest.approx(2, rel=0.03)
    # an uncertain odds ratio widens the interval and says so
    uncertain = BayesTwoList(log_odds_ratio=(np.log(2), 0.4)).fit(FRAME, seed=5)
    fixed = BayesTwoList(log_odds_ratio=(np.log(2), 0.0)).fit(FRAME, seed=5)
    width = lambda r: r.interval(0.95)[1] - r.interval(0.95)[0]  # noqa: E731
    assert width(uncertain) > 1.5 * width(fixed)
    assert any("dependence prior" in w for w in uncertain.all_warnings())


def test_same_seed_same_numbers_other_seed_other_draws():
    a = fit_lists(FRAME, "bayes-2list", seed=11).to_dict()
    b = fit_lists(FRAME, "bayes-2list", seed=11).to_dict()
    c = fit_lists(FRAME, "bayes-2list", seed=12).to_dict()
    for payload in (a, b, c):
        payload["provenance"].pop("created")
    assert a == b
    assert a["total"]["mean"] != c["total"]["mean"]


def test_list_inside_another_is_flagged():
    frame = pd.DataFrame({"police": [1, 1], "ngo": [1, 0], "count": [30, 40]})
    result = BayesTwoList().fit(frame)
    assert result.overall.total.median() == 70
    assert any("drawn from" in w for w in result.all_warnings())


@pytest.mark.slow
def test_bayes_two_list_coverage_under_independence():
    """200 simulated two-list data sets, N = 1000, p = (0.3, 0.4), independent: the 95% interval
    covers N in 92-98% of them. Seeds fixed before looking at results."""
    from hiddenrate.data.simulate import counts_to_frame, simulate_list_counts

    seeds = np.random.SeedSequence(20261123).spawn(200)
    covered = 0
    model = BayesTwoList(draws=10_000)
    for child in seeds:
        rng = np.random.default_rng(child)
        table = simulate_list_counts(1000, [0.3, 0.4], rng=rng)
        data = read_lists(counts_to_frame(table, ["A", "B"]))
        lower, upper = model.fit(data, seed=int(child.generate_state(1)[0])).interval(0.95)
        covered += lower <= 1000 <= upper
    assert 0.92 <= covered / 200 <= 0.98, covered

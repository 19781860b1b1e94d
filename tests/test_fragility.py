"""Fragility checks (hiddenrate.analysis.fragility): each check on constructed estimates, then on simulated data."""

from __future__ import annotations

from collections import Counter

import arviz
import numpy as np
import pytest

from hiddenrate.core import diagnostics as diag
from hiddenrate.analysis import fragility
from hiddenrate.data.lists import ListTable
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, PointEstimate
from hiddenrate.models.lists.bma import BMAModel
from hiddenrate.result.value import StratumEstimate
from hiddenrate.data.simulate import cell_probabilities, simulate_list_counts


def _estimate(total, observed: int = 300, diagnostics: diag.Diagnostics | None = None, idata=None,
              warnings: tuple[str, ...] = ()) -> StratumEstimate:
    return StratumEstimate(stratum={}, observed=observed, total=total, diagnostics=diagnostics or diag.exact("test"),
                           idata=idata, warnings=warnings)


def _checks(estimate: StratumEstimate, table: ListTable | None = None) -> list[str]:
    return [finding.check for finding in fragility.check(estimate, table)]


def _lognormal(rng: np.random.Generator, median: float, sdlog: float, size: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sdlog, size))


def test_well_behaved_draws_raise_nothing() -> None:
    rng = np.random.default_rng(1)
    assert _checks(_estimate(DrawsDistribution(_lognormal(rng, 1000, 0.1, 4000)))) == []


def test_zero_overlap_pairs() -> None:
    counts = np.array([0, 40, 30, 0, 20, 5, 6, 0])  # A and B never together
    table = ListTable(names=("A", "B", "C"), counts=counts)
    findings = fragility.check(_estimate(None), table)
    assert [f.check for f in findings] == ["zero-overlap"]
    assert "A-B" in findings[0].message


def test_annotate_does_not_repeat_a_model_warning() -> None:
    counts = np.array([0, 40, 30, 0, 20, 5, 6, 0])
    table = ListTable(names=("A", "B", "C"), counts=counts)
    rng = np.random.default_rng(2)
    estimate = _estimate(DrawsDistribution(_lognormal(rng, 400, 0.1, 2000)), observed=101,
                         warnings=("1 pair(s) of lists never overlap (A-B): estimates are fragile",))
    annotated = fragility.annotate(estimate, table)
    assert annotated.warnings == estimate.warnings
    assert [f["check"] for f in annotated.details["fragility"]] == ["zero-overlap"]


def test_two_separated_modes_are_found() -> None:
    rng = np.random.default_rng(3)
    draws = np.concatenate([_lognormal(rng, 12_500, 0.08, 1500), _lognormal(rng, 21_000, 0.15, 2500)])
    findings = fragility.check(_estimate(DrawsDistribution(draws), observed=2744))
    assert "multimodal" in [f.check for f in findings]
    message = next(f.message for f in findings if f.check == "multimodal")
    assert "2 separate modes" in message


def test_a_small_bump_in_the_tail_is_not_a_mode() -> None:
    rng = np.random.default_rng(4)
    draws = np.concatenate([_lognormal(rng, 1000, 0.1, 3960), _lognormal(rng, 1600, 0.03, 40)])  # 1% bump
    assert "multimodal" not in _checks(_estimate(DrawsDistribution(draws)))


def test_bimodal_exact_posterior() -> None:
    values = np.arange(500, 5001)
    pmf = np.exp(-0.5 * ((values - 900) / 60.0) ** 2) + 0.8 * np.exp(-0.5 * ((values - 2500) / 200.0) ** 2)
    assert "multimodal" in _checks(_estimate(GridDistribution(values, pmf)))


def test_heavy_upper_tail_is_prior_dominated() -> None:
    rng = np.random.default_rng(5)
    hidden = 100.0 / rng.uniform(0.0005, 1.0, 4000)  # Pareto-like tail, as p(N) ∝ 1/N leaves it
    findings = _checks(_estimate(DrawsDistribution(300 + hidden)))
    assert "prior-dominated" in findings


def test_posterior_contraction_from_prior_draws() -> None:
    rng = np.random.default_rng(6)
    idata = arviz.from_dict(posterior={"log_odds_unseen": rng.normal(0, 0.9, (4, 500))},
                            prior={"log_odds_unseen": rng.normal(0, 1.0, (1, 4000))})
    contraction = fragility.posterior_contraction(idata)
    assert contraction == pytest.approx(1 - 0.81, abs=0.05)
    estimate = _estimate(DrawsDistribution(_lognormal(rng, 1000, 0.1, 2000)), idata=idata)
    assert "prior-dominated" in _checks(estimate)


# Two classes, 70% captured with probabilities 0.2-0.3 and 30% with 0.6-0.7: the design of the
# three-list coverage test (tests/test_latent_class_coverage.py)
TWO_CLASSES_3 = (0.7, np.array([[0.2, 0.25, 0.3], [0.6, 0.7, 0.65]]))


def _cell_probabilities(weight: float, capture: np.ndarray) -> np.ndarray:
    """Probabilities of the 2^J capture patterns under two latent classes (the simulator's, kept off 0 and 1)."""
    capture = np.clip(capture, 1e-12, 1 - 1e-12)
    weight = float(np.clip(weight, 1e-12, 1 - 1e-12))
    return cell_probabilities(None, classes=[(weight, capture[0]), (1 - weight, capture[1])])


def test_three_lists_do_not_identify_the_total_under_two_classes() -> None:
    """Why the latent-class check on 3 lists exists: on the *exact* expected table of two classes
    (N = 2,000, no sampling noise at all) the profile likelihood of N is a ridge.

    Two classes have 8 unknowns (weight, 6 capture probabilities, N) against 7 observed counts, so
    a one-dimensional family of parameters reproduces the table. Measured: the profile
    log-likelihood is within 0.6 of its maximum from N = 1,800 to 6,000 (a 95% likelihood interval
    would need a drop of 1.92), and the maximum is not at the true 2,000. An interval for N on such
    data comes from the priors, whatever its coverage.
    """
    from scipy.optimize import minimize
    from scipy.special import expit, gammaln

    expected = 2000 * _cell_probabilities(*TWO_CLASSES_3)
    seen = expected[1:]
    observed = seen.sum()

    def profile(total: float) -> float:
        def negative(theta: np.ndarray) -> float:
            # floored so that a logit far out (a probability rounded to 0) keeps the objective finite
            probabilities = np.maximum(_cell_probabilities(expit(theta[0]), expit(theta[1:].reshape(2, 3))), 1e-300)
            return -(gammaln(total + 1) - gammaln(total - observed + 1) + (total - observed) * np.log(probabilities[0])
                     + np.sum(seen * np.log(probabilities[1:])))

        starts = np.random.default_rng(1).normal(0.0, 1.5, (20, 7))
        return -min(minimize(negative, start, method="BFGS").fun for start in starts)

    ridge = {total: profile(total) for total in (1800.0, 2000.0, 3000.0, 6000.0)}
    best = max(ridge.values())
    assert all(best - value < 1.0 for value in ridge.values())  # flat from 1,800 to 6,000
    assert ridge[2000.0] < best  # and the truth is not even the maximum
    assert best - profile(1500.0) > 10  # while too small a total is ruled out: the ridge has a lower end


def _latent_class_idata(weight: float, capture: np.ndarray, surveys: str = "[]") -> arviz.InferenceData:
    """Posterior draws all at two classes with the given weight and capture probabilities."""
    rng = np.random.default_rng(9)
    classes, lists = capture.shape
    weights = np.broadcast_to(np.array([weight, 1 - weight]), (2, 100, classes)).copy()
    draws = np.broadcast_to(capture, (2, 100, classes, lists)).copy()
    idata = arviz.from_dict(posterior={"class_weight": weights, "capture": draws,
                                       "total": _lognormal(rng, 1800, 0.1, 200).reshape(2, 100)},
                            dims={"class_weight": ["class"], "capture": ["class", "list"]})
    idata.posterior.attrs["surveys"] = surveys
    return idata


def test_latent_class_lift_is_zero_for_one_class_and_exact_for_two() -> None:
    """The lift of the two-class design is logit(0.3066) - logit(0.68 x 0.615 x 0.595) = 0.2888 (odds 33% higher): classes
    with capture rates 0.32, 0.385, 0.405 leave 30.7% on no list, independent lists would leave 24.9%."""
    weight, capture = TWO_CLASSES_3
    lift, lists = fragility.class_lift(_latent_class_idata(weight, capture))
    assert lists == 3
    assert np.median(lift) == pytest.approx(0.2888, abs=1e-4)
    same = np.array([[0.3, 0.25, 0.35], [0.3, 0.25, 0.35]])
    assert np.median(fragility.class_lift(_latent_class_idata(weight, same))[0]) == pytest.approx(0.0, abs=1e-12)


def test_latent_class_on_three_lists_is_flagged_as_prior_driven() -> None:
    weight, capture = TWO_CLASSES_3
    idata = _latent_class_idata(weight, capture)
    estimate = _estimate(DrawsDistribution(idata.posterior["total"].values), observed=1390, idata=idata)
    message = next(f.message for f in fragility.check(estimate) if f.check == "prior-dominated")
    assert "3 lists" in message and "8 unknowns against 7 counts" in message and "by 33%" in message
    # classes that pull lists 1 and 2 apart (negative dependence) lower the odds of being on no list:
    # logit(0.192) - logit(0.6^3) = -0.148, 14% lower; the data cannot fix that either
    apart = _latent_class_idata(0.5, np.array([[0.6, 0.2, 0.4], [0.2, 0.6, 0.4]]))
    message = next(f.message for f in fragility.check(_estimate(DrawsDistribution(apart.posterior["total"].values), 1390,
                                                                idata=apart)) if f.check == "prior-dominated")
    assert "lower the odds of being on no list by 14%" in message
    # one class: nothing to flag
    one = _latent_class_idata(weight, np.array([[0.3, 0.25, 0.35], [0.3, 0.25, 0.35]]))
    assert "prior-dominated" not in _checks(_estimate(DrawsDistribution(one.posterior["total"].values), 1390, idata=one))
    # five lists identify two classes (12 unknowns, 31 counts); a survey of a capture rate identifies three
    five = _latent_class_idata(weight, np.array([[0.2, 0.25, 0.2, 0.3, 0.22], [0.6, 0.7, 0.65, 0.55, 0.6]]))
    surveyed = _latent_class_idata(weight, capture, surveys="[[0, 40, 120]]")
    for idata in (five, surveyed):
        estimate = _estimate(DrawsDistribution(idata.posterior["total"].values), observed=1390, idata=idata)
        assert "prior-dominated" not in _checks(estimate)


def test_bounds() -> None:
    grid = GridDistribution(np.arange(100, 200), np.ones(100), tail_mass=0.01)
    assert "bound" in _checks(_estimate(grid, observed=100))
    at_observed = DrawsDistribution(np.r_[np.full(500, 300.0), np.linspace(301, 400, 500)])
    assert "bound" in _checks(_estimate(at_observed, observed=300))
    no_upper = PointEstimate(900.0, {0.95: (500.0, None)})
    assert "bound" in _checks(_estimate(no_upper, observed=300))
    fine = PointEstimate(900.0, {0.95: (700.0, 1200.0)})
    assert _checks(_estimate(fine, observed=300)) == []


def test_last_latent_class_holding_weight_is_a_cap() -> None:
    rng = np.random.default_rng(7)
    weights = rng.dirichlet([5, 3, 2], size=(4, 250))  # last class ~20%
    total = _lognormal(rng, 1000, 0.1, 1000).reshape(4, 250)
    idata = arviz.from_dict(posterior={"class_weight": weights, "total": total})
    estimate = _estimate(DrawsDistribution(total), idata=idata)
    messages = [f.message for f in fragility.check(estimate) if f.check == "bound"]
    assert messages and "latent classes" in messages[0]


def test_mcmc_checks() -> None:
    rng = np.random.default_rng(8)
    total = np.stack([_lognormal(rng, 1000, 0.05, 500), _lognormal(rng, 1300, 0.05, 500)])
    idata = arviz.from_dict(posterior={"total": total})
    diagnostics = diag.Diagnostics(method="NUTS", converged=False, rhat_max=1.2, ess_bulk_min=50.0,
                                   ess_tail_min=60.0, divergences=3)
    checks = _checks(_estimate(DrawsDistribution(total), diagnostics=diagnostics, idata=idata))
    for name in ("chains-disagree", "rhat", "ess", "divergences"):
        assert name in checks


@pytest.mark.slow
def test_simulated_non_identifiable_and_well_behaved_data() -> None:
    """Structurally disjoint lists (never identifiable without an assumption) are flagged every time;
    independent lists with moderate capture almost never (default model: exact model averaging).

    Design fixed before running: 100 data sets each, N = 1000, seeds SeedSequence([11, rep]).
    Disjoint: two groups of 500; list A reaches only the first (p = 0.3), list B only the
    second (p = 0.3), list C everyone (p = 0.25). Well behaved: independent lists with capture
    probabilities (0.3, 0.25, 0.35) and, for five lists, (0.3, 0.25, 0.35, 0.2, 0.3).
    """
    flagged: Counter[str] = Counter()
    reps = 100
    for rep in range(reps):
        rng = np.random.default_rng(np.random.SeedSequence([11, rep]))
        group = rng.random(1000) < 0.5
        cell = ((group & (rng.random(1000) < 0.3)).astype(int) + 2 * (~group & (rng.random(1000) < 0.3))
                + 4 * (rng.random(1000) < 0.25))
        designs = {
            "disjoint": np.bincount(cell, minlength=8),
            "independent-3": simulate_list_counts(1000, [0.3, 0.25, 0.35], rng=rng),
            "independent-5": simulate_list_counts(1000, [0.3, 0.25, 0.35, 0.2, 0.3], rng=rng),
        }
        for name, counts in designs.items():
            counts = counts.copy()
            counts[0] = 0
            k = int(np.log2(counts.size))
            table = ListTable(names=tuple("ABCDE"[:k]), counts=counts)
            estimate = BMAModel().fit_table(table, levels=(0.95,), seed=rep, interval_kind="equal-tailed")
            flagged[name] += bool(fragility.check(estimate, table))
    assert flagged["disjoint"] == reps
    assert flagged["independent-3"] < 0.10 * reps
    assert flagged["independent-5"] < 0.10 * reps


@pytest.mark.slow
@pytest.mark.parametrize("capture", [[0.3, 0.25, 0.35], [0.3, 0.25, 0.35, 0.2, 0.3]], ids=["3-lists", "5-lists"])
def test_latent_class_rarely_warns_on_well_behaved_data(capture: list[float]) -> None:
    """The latent-class model (defaults) on independent lists: a warning in under 10% of fits.

    Design fixed before the first run: 100 data sets, N = 1000, the capture probabilities of the
    test above, data and sampler seeds SeedSequence([11, rep]) and rep. With K fixed at 10,
    13 of 100 three-list fits were flagged (12 by the last class holding over 2%: the
    concentration wanders up when classes with equal capture probabilities split the people
    freely); with the default K raised while the last class binds, 3 of 100 (R-hat 1.01-1.02),
    and 1 of 100 with five lists; with the sampler's relabelling move, tempering rule and HMC
    acceptance 0.95, 2 of 100 (R-hat) and 0 of 100. The check of a latent-class answer on 3 lists
    that the data cannot fix (classes moving the odds of being on no list by more than 5%) fired on
    none of these: independent lists give the classes nothing to move.
    """
    from hiddenrate.models.lists.latent_class import LatentClassModel

    model = LatentClassModel()
    flagged: Counter[str] = Counter()
    reps = 100
    for rep in range(reps):
        counts = simulate_list_counts(1000, capture, rng=np.random.default_rng(np.random.SeedSequence([11, rep])))
        counts[0] = 0
        table = ListTable(names=tuple("ABCDE"[:len(capture)]), counts=counts)
        estimate = model.fit_table(table, levels=(0.95,), seed=rep, interval_kind="equal-tailed")
        findings = fragility.check(estimate, table)
        flagged["any"] += bool(findings)
        flagged.update(f.check for f in findings)
    print(dict(flagged))
    assert flagged["any"] < 0.10 * reps


def test_uk_model_averaging_posterior_is_flagged_bimodal() -> None:
    """UK 2013, 6 lists, default model: about 19% of the posterior sits in a second mode near
    22,000 (the main one is near 12,000); a single median hides that, so it must be said."""
    from hiddenrate.api import example_path
    from hiddenrate.data import read_lists

    table = read_lists(example_path("uk-2013")).tables[0]
    estimate = BMAModel().fit_table(table, levels=(0.95,), seed=1, interval_kind="equal-tailed")
    message = next(f.message for f in fragility.check(estimate, table) if f.check == "multimodal")
    assert "2 separate modes" in message and "12," in message and "22," in message

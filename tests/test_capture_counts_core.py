"""Tests of the single-source capture-count estimators (hiddenrate.models.capture_counts.core).

Reference data: illegal immigrants in four Dutch cities, 1995 (van der Heijden et al. 2003;
``ill`` in Rcapture; /work/shared/data/lists/illegal_immigrants_capture_counts.csv).
Rcapture numbers are from the package's own example output (tests/Examples/Rcapture-Ex.Rout.save,
Rcapture on CRAN), and the "Mh LB" row agrees with reference_results.csv (Rcapture 1.4-4):

    closedp.0(ill, dtype="nbcap", dfreq=TRUE, t=Inf)
        M0            7079.9  stderr 365.8  deviance 61.811  df 4  AIC 95.971
        Mh Chao (LB)  9273.5  stderr 662.6  deviance  1.534  df 1  AIC 41.695
    closedpCI.0(ill, dtype="nbcap", dfreq=TRUE, t=Inf, m="Mh", h="LB")
        multinomial   9267.5  95% profile CI [8088.2, 10704]
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import gammaln
from scipy.stats import chi2, norm

from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.models.capture_counts.core import (
    CAPTURE_COUNT_METHODS,
    CaptureCountEstimate,
    capture_frequencies,
    estimate_capture_counts,
)

DUTCH = {1: 1645, 2: 183, 3: 37, 4: 13, 5: 1, 6: 1}
N_OBSERVED = 1880


def lognormal_interval(n: float, hidden: float, variance: float, level: float) -> tuple[float, float]:
    """Chao (1987): C = exp(z sqrt(log(1 + var / f0^2))), interval [n + f0 / C, n + f0 C]."""
    c = math.exp(norm.ppf(0.5 + level / 2) * math.sqrt(math.log(1 + variance / hidden**2)))
    return n + hidden / c, n + hidden * c


# --- the Dutch data set, each method against a hand computation or Rcapture -----------------


def test_chao_dutch_matches_formula_and_rcapture_stderr() -> None:
    est = estimate_capture_counts(DUTCH, "chao", levels=(0.95, 0.8))
    f1, f2 = 1645, 183
    hidden = f1**2 / (2 * f2)  # Chao: f0 = f1^2 / (2 f2) = 7393.51...
    r = f1 / f2
    variance = f2 * (r**2 / 2 + r**3 + r**4 / 4)  # Chao (1989)
    assert est.total == pytest.approx(N_OBSERVED + hidden, rel=1e-12)
    assert est.total == pytest.approx(9273.5, abs=0.05)  # Rcapture "Mh Chao (LB)" Poisson estimate
    assert est.hidden == pytest.approx(hidden, rel=1e-12)
    assert est.standard_error == pytest.approx(math.sqrt(variance), rel=1e-12)
    assert est.standard_error == pytest.approx(662.6, abs=0.05)  # Rcapture stderr
    for level in (0.95, 0.8):
        assert est.intervals[level] == pytest.approx(lognormal_interval(N_OBSERVED, hidden, variance, level))
    lower, upper = est.intervals[0.95]
    assert (lower, upper) == pytest.approx((8084.69, 10690.10), abs=0.01)
    assert est.is_lower_bound
    assert est.method == "chao"
    assert "Chao 1987" in est.interval_method


def test_chao_loglinear_reproduces_rcapture() -> None:
    est = estimate_capture_counts(DUTCH, "chao-loglinear")
    # closedpCI.0(ill, dtype="nbcap", dfreq=TRUE, t=Inf, m="Mh", h="LB"), multinomial profile
    assert est.total == pytest.approx(9267.5, abs=0.05)
    lower, upper = est.intervals[0.95]
    assert lower == pytest.approx(8088.2, abs=0.05)
    assert upper == pytest.approx(10704.0, abs=0.05)
    # its Poisson fit: closedp.0(..., t=Inf) row "Mh Chao (LB)"
    assert est.details["poisson_total"] == pytest.approx(1880 + 1645**2 / (2 * 183), rel=1e-9)
    assert est.standard_error == pytest.approx(662.6, abs=0.05)
    assert est.details["deviance"] == pytest.approx(1.534, abs=5e-4)
    assert est.details["df"] == 1
    assert est.details["aic"] == pytest.approx(41.695, abs=5e-4)
    assert est.is_lower_bound
    assert est.hidden == pytest.approx(est.total - N_OBSERVED)


def test_ztpoisson_against_closed_forms_and_rcapture_m0() -> None:
    est = estimate_capture_counts(DUTCH, "ztpoisson", levels=(0.95, 0.5))
    n = N_OBSERVED
    s = sum(k * f for k, f in DUTCH.items())  # 2185 captures

    # Conditional MLE: lambda / (1 - exp(-lambda)) = S / n, N = n / (1 - exp(-lambda)).
    lam = brentq(lambda x: x / -math.expm1(-x) - s / n, 1e-9, 50)
    assert est.details["conditional_total"] == pytest.approx(n / -math.expm1(-lam), rel=1e-9)
    # Rcapture closedp.0(ill, dtype="nbcap", dfreq=TRUE, t=Inf), row M0: 7079.9, stderr 365.8,
    # deviance 61.811 on 4 df. Rcapture's M0 has no counts above 6, so it agrees to ~0.05 only,
    # and its deviance is over k = 1..6 where ours pools k >= 6.
    assert est.details["conditional_total"] == pytest.approx(7079.9, abs=0.1)
    assert est.standard_error == pytest.approx(365.8, abs=0.1)
    assert est.details["deviance"] == pytest.approx(61.811, abs=0.2)
    assert est.details["df"] == 4

    # Full-likelihood profile (lambda-hat = S / N): l(N) = lgamma(N+1) - lgamma(N-n+1) - S log N.
    def profile(total: np.ndarray) -> np.ndarray:
        return gammaln(total + 1) - gammaln(total - n + 1) - s * np.log(total)

    grid = np.linspace(5000, 10000, 500_001)  # brute force, step 0.01
    values = profile(grid)
    assert est.total == pytest.approx(grid[np.argmax(values)], abs=0.02)
    for level in (0.95, 0.5):
        inside = grid[values >= values.max() - chi2.ppf(level, 1) / 2]
        assert est.intervals[level] == pytest.approx((inside[0], inside[-1]), abs=0.02)
    assert est.details["lambda"] == pytest.approx(s / est.total)
    assert not est.is_lower_bound


def test_zelterman_dutch_matches_formula() -> None:
    est = estimate_capture_counts(DUTCH, "zelterman")
    n, f1, f2 = N_OBSERVED, 1645, 183
    lam = 2 * f2 / f1  # Zelterman: lambda = 2 f2 / f1
    p = 1 - math.exp(-lam)
    total = n / p  # N = n / (1 - exp(-lambda)) = 9424.56
    g = n * math.exp(-lam) / p**2
    variance = g + g**2 * lam**2 * (1 / f1 + 1 / f2)  # conditioning on n + delta method
    assert est.total == pytest.approx(total, rel=1e-12)
    assert est.total == pytest.approx(9424.56, abs=0.01)
    assert est.standard_error == pytest.approx(math.sqrt(variance), rel=1e-12)
    assert est.intervals[0.95] == pytest.approx(lognormal_interval(n, total - n, variance, 0.95))
    assert est.details["lambda"] == pytest.approx(lam)
    assert not est.is_lower_bound


def test_chao_bias_corrected_forms() -> None:
    # bias_corrected=True: f0 = f1 (f1 - 1) / (2 (f2 + 1)); EstimateS variance
    est = estimate_capture_counts(DUTCH, "chao", bias_corrected=True)
    f1, f2 = 1645, 183
    hidden = f1 * (f1 - 1) / (2 * (f2 + 1))
    variance = (
        f1 * (f1 - 1) / (2 * (f2 + 1))
        + f1 * (2 * f1 - 1) ** 2 / (4 * (f2 + 1) ** 2)
        + f1**2 * f2 * (f1 - 1) ** 2 / (4 * (f2 + 1) ** 4)
    )
    assert est.total == pytest.approx(N_OBSERVED + hidden)
    assert est.standard_error == pytest.approx(math.sqrt(variance))
    assert est.details["bias_corrected"] == 1.0

    # f2 = 0, default: n + f1 (f1 - 1) / 2, variance f1(f1-1)/2 + f1(2f1-1)^2/4 - f1^4/(4 N)
    est = estimate_capture_counts({1: 10, 3: 2}, "chao")
    hidden = 10 * 9 / 2
    total = 12 + hidden
    variance = 10 * 9 / 2 + 10 * 19**2 / 4 - 10**4 / (4 * total)
    assert est.total == pytest.approx(total)
    assert est.intervals[0.95] == pytest.approx(lognormal_interval(12, hidden, variance, 0.95))
    assert "f2 = 0" in est.message


def test_chao_loglinear_with_largest_count_two_is_poisson_on_f1_f2() -> None:
    # With t = 2 the lower-bound model has no eta terms: f_k proportional to lambda^k / k!, k <= 2,
    # so the multinomial profile over (f0, f1, f2) is, with lambda-hat(N) maximised numerically,
    # l(N) = log N! - log(N-n)! + f1 log p1 + f2 log p2 + (N-n) log p0, p_k = lambda^k/k! / sum_j.
    f1, f2, n = 40, 9, 49
    chao = estimate_capture_counts({1: f1, 2: f2}, "chao-loglinear")
    assert chao.details["poisson_total"] == pytest.approx(n + f1**2 / (2 * f2), rel=1e-9)

    def profile(total: float) -> float:
        lams = np.linspace(0.01, 3, 30_001)
        norm_ = 1 + lams + lams**2 / 2
        ll = f1 * np.log(lams / norm_) + f2 * np.log(lams**2 / 2 / norm_) - (total - n) * np.log(norm_)
        return float(gammaln(total + 1) - gammaln(total - n + 1) + ll.max())

    grid = np.linspace(60, 400, 3401)
    values = np.array([profile(x) for x in grid])
    assert chao.total == pytest.approx(grid[np.argmax(values)], abs=0.15)
    inside = grid[values >= values.max() - chi2.ppf(0.95, 1) / 2]
    assert chao.intervals[0.95] == pytest.approx((inside[0], inside[-1]), abs=0.15)


def test_array_input_equals_mapping_and_index_zero_is_ignored() -> None:
    from_array = estimate_capture_counts(np.array([999, 1645, 183, 37, 13, 1, 1]), "chao")
    from_dict = estimate_capture_counts(DUTCH, "chao")
    assert from_array == from_dict
    assert list(capture_frequencies({1: 5, 2: 3, 4: 0})) == [0, 5, 3]
    assert list(capture_frequencies([0, 5.0, 3, 0, 1])) == [0, 5, 3, 0, 1]


# --- results are always finite numbers or None ------------------------------------------------

SMALL_DATA = [
    {1: 50, 2: 10, 3: 0, 4: 2},
    {1: 5, 2: 3},
    {1: 3, 2: 1, 3: 1},
    {1: 1, 2: 1},
    {1: 2, 2: 8, 3: 10, 4: 6},
    {1: 100, 2: 1},
    {1: 20, 2: 20, 3: 20, 4: 20, 5: 20},
    {1: 30, 2: 10, 3: 5, 6: 1},
]


@pytest.mark.parametrize("method", CAPTURE_COUNT_METHODS)
@pytest.mark.parametrize("frequencies", SMALL_DATA)
def test_outputs_are_finite_and_consistent(method: str, frequencies: dict[int, int]) -> None:
    est = estimate_capture_counts(frequencies, method, levels=(0.5, 0.95))
    n = sum(frequencies.values())
    assert isinstance(est, CaptureCountEstimate)
    assert est.total is not None and est.hidden is not None
    assert math.isfinite(est.total) and est.total >= n
    assert est.hidden == pytest.approx(est.total - n)
    assert est.standard_error is not None and math.isfinite(est.standard_error)
    for lower, upper in est.intervals.values():
        assert lower is not None and upper is not None
        assert n <= lower <= est.total <= upper and math.isfinite(upper)
    (lo50, hi50), (lo95, hi95) = est.intervals[0.5], est.intervals[0.95]
    assert lo95 <= lo50 and hi50 <= hi95
    assert all(math.isfinite(value) for value in est.details.values())
    assert est.message.endswith(".") and est.message.count(". ") == 0


def test_profile_maximum_on_the_boundary_reports_nobody_hidden() -> None:
    est = estimate_capture_counts({1: 1, 2: 1}, "ztpoisson")
    assert est.total == 2.0 and est.hidden == 0.0
    assert est.intervals[0.95][0] == 2.0


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequencies", "fragment"),
    [
        ({1: 10, 2: -3}, "k=2 is -3"),
        ({1: 10, 2: 2.5}, "whole numbers"),
        ({1: 10, 2: float("nan")}, "whole numbers"),
        ({1: 10, 2: float("inf")}, "whole numbers"),
        ({1: 10, 2: "3"}, "whole numbers"),
        ({1.5: 10}, "keys must be whole numbers"),
        ({-1: 10}, "negative"),
        ({0: 4, 1: 10, 2: 3}, "k=0"),
        (np.array([0, 10, -1]), "k=2"),
        (np.array([0, 10, 0.5]), "whole numbers"),
        (np.array([[0, 10, 3]]), "1-D"),
        ({1: 0, 2: 0}, "nobody was caught"),
        ({}, "nobody was caught"),
    ],
)
def test_bad_frequencies_raise_data_error(frequencies: object, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        estimate_capture_counts(frequencies, "chao")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", CAPTURE_COUNT_METHODS)
def test_everybody_caught_once_has_no_estimate(method: str) -> None:
    with pytest.raises(EstimationError, match="caught exactly once: with no recaptures"):
        estimate_capture_counts({1: 25}, method)


@pytest.mark.parametrize("method", ["zelterman", "chao-loglinear"])
def test_nobody_caught_twice_has_no_estimate(method: str) -> None:
    with pytest.raises(EstimationError, match=r"f2 = 0"):
        estimate_capture_counts({1: 10, 3: 2}, method)


def test_chao_without_bias_correction_needs_f2() -> None:
    with pytest.raises(EstimationError, match="bias_corrected=True"):
        estimate_capture_counts({1: 10, 3: 2}, "chao", bias_corrected=False)


def test_chao_bias_corrected_with_one_singleton_and_no_doubleton() -> None:
    with pytest.raises(EstimationError, match="hidden count at 0"):
        estimate_capture_counts({1: 1, 3: 1}, "chao")


@pytest.mark.parametrize("method", ["chao", "zelterman", "chao-loglinear"])
def test_nobody_caught_once_points_to_ztpoisson(method: str) -> None:
    with pytest.raises(EstimationError, match=r"f1 = 0.*ztpoisson"):
        estimate_capture_counts({2: 5, 3: 2}, method)
    assert estimate_capture_counts({2: 5, 3: 2}, "ztpoisson").total == pytest.approx(7.0, abs=0.5)


def test_bad_options_raise_model_error() -> None:
    with pytest.raises(ModelError, match="valid methods are chao, chao-loglinear, zelterman, ztpoisson"):
        estimate_capture_counts(DUTCH, "jackknife")
    for level in (0.0, 1.0, 95, -0.1):
        with pytest.raises(ModelError, match="outside"):
            estimate_capture_counts(DUTCH, "chao", levels=(level,))
    with pytest.raises(ModelError, match="not a number"):
        estimate_capture_counts(DUTCH, "chao", levels=("0.95",))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="'chao' only"):
        estimate_capture_counts(DUTCH, "zelterman", bias_corrected=True)


# --- statistical check ------------------------------------------------------------------------


@pytest.mark.slow
def test_coverage_under_homogeneous_poisson_captures() -> None:
    """Homogeneous Poisson(0.5) captures, N = 2000: every method targets N, 95% coverage ~0.95."""
    rng = np.random.default_rng(20240611)
    true_total, replicates = 2000, 200
    covered = dict.fromkeys(CAPTURE_COUNT_METHODS, 0)
    for _ in range(replicates):
        captures = rng.poisson(0.5, size=true_total)
        frequencies = np.bincount(captures)
        for method in CAPTURE_COUNT_METHODS:
            lower, upper = estimate_capture_counts(frequencies, method).intervals[0.95]
            assert lower is not None and upper is not None
            covered[method] += lower <= true_total <= upper
    for method, hits in covered.items():
        assert 0.89 <= hits / replicates <= 0.995, (method, hits)

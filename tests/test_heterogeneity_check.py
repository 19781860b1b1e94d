"""The heterogeneity check (hiddenrate.analysis.heterogeneity): its numbers, and where its warning shows.

Reference values: Chao's bound and variance from their formulas (docs/methods.md, "Heterogeneity
check"); the capture frequencies counted by hand. The simulation study (how often the check fires on
data with and without a hidden class) is tests/test_heterogeneity_study.py (slow).
"""

from __future__ import annotations

import json
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from hiddenrate.analysis import heterogeneity as het
from hiddenrate.data.simulate import cell_probabilities, counts_to_frame

#: a barely visible majority: 60% of 5,000 people on each of 5 lists with probability 0.04, 40% with 0.38
HIDDEN_CLASS = [(0.6, [0.04] * 5), (0.4, [0.38] * 5)]


def expected_table(n_total: int, **design: object) -> np.ndarray:
    """The expected table of a design, rounded to whole people, with the unobserved cell emptied."""
    counts = np.rint(n_total * cell_probabilities(None if "classes" in design else design.pop("capture_probs"),
                                                  **design)).astype(np.int64)  # type: ignore[arg-type]
    counts[0] = 0
    return counts


def hidden_class_frame() -> pd.DataFrame:
    return counts_to_frame(expected_table(5000, classes=HIDDEN_CLASS), ["A", "B", "C", "D", "E"])


def test_capture_frequencies_count_people_by_how_many_lists_they_are_on() -> None:
    # cells 1..7 of three lists: A, B, AB, C, AC, BC, ABC
    counts = np.array([99, 5, 4, 3, 2, 1, 1, 1])
    assert het.capture_frequencies(counts, 3).tolist() == [5 + 4 + 2, 3 + 1 + 1, 1]


def test_chao_bound_and_interval_follow_the_formula() -> None:
    f = [100, 20, 5, 1, 0]  # J = 5, A = 4/5
    bound = het.chao_lower_bound(f, 5, (0.95,))
    assert bound is not None and not bound.bias_corrected
    n, a, r = 126, 0.8, 5.0
    hidden = a * 100**2 / 40  # 200
    assert bound.total == pytest.approx(n + hidden)
    variance = 20 * (a / 2 * r**2 + a**2 * r**3 + a**2 / 4 * r**4)
    spread = np.exp(NormalDist().inv_cdf(0.975) * np.sqrt(np.log1p(variance / hidden**2)))
    assert bound.intervals[0.95] == pytest.approx((n + hidden / spread, n + hidden * spread))


def test_chao_bound_is_exact_for_lists_with_one_capture_probability() -> None:
    # with every person on each of J lists with probability p, E f0 = N (1-p)^J and
    # (J-1)/J f1^2 / (2 f2) equals it exactly: the binomial form is the sharp bound (Chao 1987)
    p, k, n_total = 0.2, 4, 10_000
    probabilities = cell_probabilities([p] * k)
    frequencies = het.capture_frequencies(n_total * probabilities, k)
    bound = het.chao_lower_bound(frequencies, k, (0.95,))
    assert bound is not None
    assert bound.total == pytest.approx(n_total, rel=1e-12)


def test_bias_corrected_form_when_nobody_is_on_exactly_two_lists() -> None:
    bound = het.chao_lower_bound([10, 0, 2], 3, (0.95,))
    assert bound is not None and bound.bias_corrected
    assert bound.total == pytest.approx(12 + (2 / 3) * 10 * 9 / 2)
    assert het.chao_lower_bound([0, 5, 2], 3, (0.95,)) is None  # nobody on one list: no bound beyond n


def test_p_value_is_one_when_the_fit_reproduces_the_frequencies_and_tiny_when_it_cannot() -> None:
    counts = expected_table(5000, classes=HIDDEN_CLASS)
    rng = np.random.default_rng(1)
    p_same, _ = het.frequency_p_value(counts, 5, counts.astype(float), rng, replicates=200)
    assert p_same == 1.0  # T = 0, every replicate is at least as far
    independent = het.fitted_counts(counts, 5, ())
    p_independent, expected = het.frequency_p_value(counts, 5, independent, rng, replicates=200)
    assert expected.sum() == pytest.approx(counts.sum())
    assert p_independent == pytest.approx(1 / 201)  # no replicate as far as the observed table


def test_fitted_counts_of_independence_keep_the_list_sizes() -> None:
    # the Poisson likelihood equations of a main effect: fitted and observed list sizes agree
    counts = expected_table(5000, classes=HIDDEN_CLASS)
    fitted = het.fitted_counts(counts, 5, ())
    cells = np.arange(32)
    for j in range(5):
        on = (cells >> j) & 1 == 1
        assert fitted[on].sum() == pytest.approx(counts[on].sum(), rel=1e-8)


def test_check_is_silent_on_independent_lists() -> None:
    from hiddenrate.api import fit_lists

    frame = counts_to_frame(expected_table(2000, capture_probs=[0.2, 0.3, 0.25, 0.15, 0.35]), list("ABCDE"))
    result = fit_lists(frame, sensitivity=False)
    found = result.overall.details["heterogeneity"]
    assert not found["fired"] and found["p_value"] > 0.5 and found["policy"] is None
    assert not any("differ in how likely" in w for w in result.all_warnings())


@pytest.fixture(scope="module")
def hidden_result():  # type: ignore[no-untyped-def]
    from hiddenrate.api import fit_lists

    return fit_lists(hidden_class_frame(), sensitivity=False)


def test_hidden_class_fires_and_the_warning_comes_first(hidden_result) -> None:  # type: ignore[no-untyped-def]
    found = hidden_result.overall.details["heterogeneity"]
    assert found["fired"] and found["misfit"] and found["code"] == "heterogeneity"
    assert found["reference"] == het.REFERENCE_BMA
    assert hidden_result.overall.warnings[0].startswith("people differ in how likely they are to be recorded")
    assert {"check": "heterogeneity", "message": hidden_result.overall.warnings[0], "severity": "serious"} in \
        hidden_result.overall.details["fragility"]
    assert hidden_result.overall.warnings[0].code == "heterogeneity"  # a Caveat: JSON "caveats" carries the code
    # the true total is 5,000; the model's whole interval lies far below it, Chao's bound is closer
    upper = found["headline"][1]
    assert upper < 5000 and found["chao"]["total"] > upper


def test_every_format_leads_with_the_warning_and_the_at_least_policy(hidden_result) -> None:  # type: ignore[no-untyped-def]
    from hiddenrate.render import render

    bound = hidden_result.overall.details["heterogeneity"]["policy"]["lower"]["0.95"]
    shown = f"{bound:,.0f}"
    text = render(hidden_result, "text")
    top = text.split("Model:")[0]
    assert "people differ in how likely they are to be recorded" in top
    assert f"at least {shown} in all" in top and "--model latent-class" in top and "hiddenrate combine" in top
    assert "We estimate" not in top  # the headline does not state the model's total as the answer
    markdown = render(hidden_result, "markdown")
    assert markdown.index("people differ in how likely") < markdown.index("Observed (people")
    payload = json.loads(render(hidden_result, "json"))
    assert next(iter(payload)) == "alerts"
    assert payload["alerts"][0]["code"] == "heterogeneity" and payload["alerts"][0]["at_least"] == pytest.approx(bound)
    csv = render(hidden_result, "csv").splitlines()
    header = csv[0].split(",")
    assert header[2:4] == ["warning", "at_least"]


@pytest.mark.slow
def test_the_latent_class_model_joins_the_sensitivity_table_when_the_check_fires() -> None:
    # MCMC (seconds once compiled): slow. On independent lists it stays out (next test).
    from hiddenrate.api import fit_lists
    from hiddenrate.render import render

    result = fit_lists(hidden_class_frame())
    rows = result.overall.details["model_sensitivity"]
    latent = [r for r in rows if r["model"].startswith("latent classes")]
    assert len(latent) == 1 and latent[0]["estimate"] is not None
    found = result.overall.details["heterogeneity"]
    assert found["latent_class"]["estimate"] == latent[0]["estimate"]
    assert "the latent-class model, which allows for some, gives" in render(result, "text").split("Model:")[0]


def test_the_latent_class_model_stays_out_when_the_check_is_silent() -> None:
    from hiddenrate.api import fit_lists

    frame = counts_to_frame(expected_table(2000, capture_probs=[0.2, 0.3, 0.25, 0.15, 0.35]), list("ABCDE"))
    result = fit_lists(frame)
    assert not any(r["model"].startswith("latent classes") for r in result.overall.details["model_sensitivity"])


def test_fitted_counts_reach_the_extended_maximum_likelihood_fit_on_a_sparse_table() -> None:
    # Western U.S. (5 lists, many empty cells): for each of three models the deviance of our fitted
    # counts equals that of hiddenrate's log-linear fit, which finds the facial set by linear
    # programming first (docs/methods.md#existence)
    from hiddenrate.data.examples import get_example
    from hiddenrate.data.lists import ListData, read_list_input
    from hiddenrate.models.lists.loglinear_core import fit_loglinear

    data = read_list_input(get_example("western-us").path())
    assert isinstance(data, ListData)
    counts = data.tables[0].counts
    assert (counts[1:] == 0).sum() > 5
    for terms in [(), ((0, 1),), ((0, 1), (0, 2), (1, 2), (0, 1, 2), (3, 4))]:
        fitted = het.fitted_counts(counts, 5, terms)[1:]
        y = counts[1:].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = 2 * float(np.sum(np.where(y > 0, y * np.log(y / fitted), 0.0) - (y - fitted)))
        assert deviance == pytest.approx(fit_loglinear(counts, 5, terms).deviance, abs=1e-5)

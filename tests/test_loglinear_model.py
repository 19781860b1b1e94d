"""Classical log-linear models through the CLI: Rcapture's numbers, sparse tables flagged,
model selection reported with its caveat."""

from __future__ import annotations

import json

import pytest


def _json(run_cli, *args):
    result = run_cli("lists", *args, "--format", "json", "--quiet")
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("example", "model_args", "reference"),
    [
        # Rcapture closedpCI.t(X, dfreq=TRUE, mX=~.)  (Mt)
        ("uk-2013", ["--model", "independence"], (12208.57, 10983.85, 13648.21)),
        ("western-us", ["--model", "independence"], (2000.005, 1430.773, 2964.607)),
        # Rcapture closedpCI.t(X, dfreq=TRUE, mX=~.^2)  (M2way)
        ("hiv-rome", ["--model", "loglinear", "--terms", "c1:c2,c1:c3,c1:c4,c2:c3,c2:c4,c3:c4"], (23269.77, 10027.55, 50046.26)),
        ("spina-bifida", ["--model", "loglinear", "--terms", "[12,13,23]"], (742.2568, 660.8221, 1065.226)),
    ],
)
def test_cli_matches_rcapture(example, model_args, reference, run_cli):
    code, payload = _json(run_cli, "--example", example, *model_args)
    assert code == 0
    point, lower, upper = reference
    assert payload["total"]["median"] == pytest.approx(point, rel=0.005)
    got_lower, got_upper = payload["total"]["intervals"]["0.95"]
    assert got_lower == pytest.approx(lower, rel=0.01) and got_upper == pytest.approx(upper, rel=0.01)
    assert payload["estimate_type"] == "maximum-likelihood estimate"


def test_sparse_table_models_without_mle_are_refused(run_cli):
    # Rcapture prints 4.9e13 for the all-two-way model on the artificial table; we refuse it.
    code, payload = _json(run_cli, "--example", "artificial-sparse", "--model", "loglinear", "--terms", "A:B,A:C,B:C")
    assert code == 1 and payload["estimated"] is False and payload["total"] is None
    assert "not identifiable" in payload["reason"]
    code, payload = _json(run_cli, "--example", "artificial-sparse", "--model", "loglinear", "--terms", "A:B")
    assert code == 1 and "does not exist" in payload["reason"]


def test_extended_mle_names_the_infinite_terms(run_cli):
    code, payload = _json(run_cli, "--example", "artificial-sparse", "--model", "loglinear", "--terms", "A:C")
    assert code == 0
    assert payload["details"]["status"] == "extended"
    assert payload["details"]["infinite_terms"] == ["A:C"]
    assert any("A:C term is -infinity" in w for w in payload["warnings"])


def test_ranking_reports_selection_caveat_and_spread(run_cli):
    # Western: the best model by BIC is A:E, N = 2,483 (SparseMSE stepwise, Chan et al. 2021);
    # Rcapture's closedpMS.t profile estimate for it is 2,474.1 [1,680.6, 3,928.1].
    code, payload = _json(run_cli, "--example", "western-us", "--model", "loglinear")
    assert code == 0
    assert payload["details"]["terms"] == "A:E"
    assert payload["total"]["median"] == pytest.approx(2474.089, rel=0.005)
    assert payload["details"]["models_ranked"] == 1024
    warnings = " ".join(payload["warnings"])
    assert "ignores the model choice" in warnings
    assert "within 2 BIC units" in warnings


def test_ranking_flags_the_artificial_models_without_estimates(run_cli):
    code, payload = _json(run_cli, "--example", "artificial-sparse", "--model", "loglinear")
    excluded = next(t for t in payload["details"]["tables"] if t["title"].startswith("Models excluded"))
    statuses = {row[0]: row[1] for row in excluded["rows"]}
    assert statuses == {"A:B": "no-mle", "A:B + A:C": "no-mle", "A:B + B:C": "no-mle",
                        "A:B + A:C + B:C": "not-identifiable"}


def test_eight_lists_use_stepwise_search(run_cli):
    # New Orleans (8 lists): 2^28 models; stepwise BIC picks D:E, N = 1,184 (SparseMSE, Chan et al. 2021).
    code, payload = _json(run_cli, "--example", "new-orleans", "--model", "loglinear")
    assert code == 0
    assert payload["details"]["terms"] == "D:E"
    assert "stepwise" in payload["details"]["selection"]


def test_terms_with_unknown_list_is_a_clear_error(run_cli):
    result = run_cli("lists", "--example", "western-us", "--model", "loglinear", "--terms", "A:Z")
    assert result.exit_code == 2
    assert "unknown list 'Z'" in result.stderr and "A, B, C, D, E" in result.stderr


def test_stratified_classical_total_has_the_profile_interval_of_the_sum(tmp_path, run_cli):
    """The total over two strata: its profile likelihood is max over N_a + N_b = T of
    l_a(N_a) + l_b(N_b). Brute force: for each T on a grid, maximise over the split with a
    bounded scalar search, and find where 2[l(T_hat) - l(T)] crosses chi2_1(0.95)."""
    import numpy as np
    import pandas as pd
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import chi2

    from hiddenrate.api import example_path
    from hiddenrate.data import read_lists
    from hiddenrate.models.lists.loglinear_profile import profile_curve

    frame = pd.read_csv(example_path("spina-bifida"))
    other = frame.copy()
    other["count"] = (other["count"] * 0.6).round().astype(int)
    pd.concat([frame.assign(site="a"), other.assign(site="b")]).to_csv(tmp_path / "s.csv", index=False)
    code, payload = _json(run_cli, tmp_path / "s.csv", "--by", "site", "--model", "independence")
    assert code == 0
    lower, upper = payload["total"]["intervals"]["0.95"]
    assert payload["total"]["median"] == pytest.approx(sum(s["total"]["median"] for s in payload["strata"]))

    tables = read_lists(tmp_path / "s.csv", by=["site"]).tables
    observed = sum(t.observed for t in tables)

    def loglik(table, hidden):
        return float(profile_curve(table.counts, 3, (), np.array([hidden]))[0])

    def total_profile(hidden_total):
        result = minimize_scalar(lambda h: -(loglik(tables[0], h) + loglik(tables[1], hidden_total - h)),
                                 bounds=(0.0, hidden_total), method="bounded", options={"xatol": 1e-3})
        return -result.fun

    hidden_hat = payload["total"]["median"] - observed
    top = total_profile(hidden_hat)
    cut = chi2.ppf(0.95, 1)
    brute_lower = observed + brentq(lambda h: 2 * (top - total_profile(h)) - cut, 1.0, hidden_hat)
    brute_upper = observed + brentq(lambda h: 2 * (top - total_profile(h)) - cut, hidden_hat, 5 * hidden_hat)
    assert lower == pytest.approx(brute_lower, rel=0.002)
    assert upper == pytest.approx(brute_upper, rel=0.002)

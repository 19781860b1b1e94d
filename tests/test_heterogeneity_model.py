"""Rcapture's heterogeneity models as list models: --model, the ranking by --criterion, the
sensitivity table, strata, and an upper end that does not exist.

Reference numbers are Rcapture 1.4-4 rows of tests/reference/reference_results.csv
(``closedpCI.t(X, dfreq = TRUE, m = "Mh" | "Mth", h = ...)``; see test_heterogeneity_reference.py).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists
from hiddenrate.analysis.sensitivity import model_rows
from hiddenrate.core.distributions import PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.data.lists import ListTable
from hiddenrate.models.lists import heterogeneity
from hiddenrate.models.lists.heterogeneity import (
    fit_heterogeneity_model,
    rank_heterogeneity_models,
)
from hiddenrate.models.lists.heterogeneity_core import (
    HETEROGENEITY_MODELS,
    HeterogeneityEstimate,
)
from hiddenrate.models.lists.registry import LIST_MODELS


def _json(run_cli, *args):
    result = run_cli("lists", *args, "--format", "json", "--quiet", "--no-sensitivity")
    return result.exit_code, json.loads(result.stdout)


def _table(counts: list[int], names: tuple[str, ...] = ("A", "B", "C")) -> ListTable:
    return ListTable(names=names, counts=np.array([0, *counts]))


def test_every_model_is_a_choice_of_the_model_flag():
    assert set(HETEROGENEITY_MODELS) <= set(LIST_MODELS)


@pytest.mark.parametrize(
    ("example", "model", "reference"),
    [
        # Rcapture closedpCI.t(lesbian, dfreq=TRUE, m="Mth", h="Darroch")
        ("lesbian-allegheny", "mth-darroch", (6949.856, 5826.413, 8397.64)),
        # Rcapture closedpCI.t(X, dfreq=TRUE, m="Mh", h="Chao")
        ("uk-2013", "mh-chao", (13671.51, 12263.42, 15331.0)),
    ],
)
def test_cli_matches_rcapture(example, model, reference, run_cli):
    code, payload = _json(run_cli, "--example", example, "--model", model)
    assert code == 0 and payload["model"] == model
    point, lower, upper = reference
    assert payload["total"]["median"] == pytest.approx(point, rel=0.005)
    got_lower, got_upper = payload["total"]["intervals"]["0.95"]
    assert got_lower == pytest.approx(lower, rel=0.005) and got_upper == pytest.approx(upper, rel=0.005)


def test_chao_model_says_it_is_a_lower_bound(run_cli):
    code, payload = _json(run_cli, "--example", "hiv-rome", "--model", "mth-chao")
    assert code == 0
    assert any("lower bound" in warning for warning in payload["warnings"])
    assert payload["details"]["eta_set_to_zero"] == ["eta4"]  # negative, set to 0 as Rcapture does


def test_upper_end_beyond_rcapture_search_is_a_number(run_cli):
    # Rcapture: Mh Gamma3.5 on HIV Rome 28,834 [8,436, >87,607] (its search stops at 3 x the
    # Poisson estimate). The profile crosses the cut-off further out; that end is reported.
    code, payload = _json(run_cli, "--example", "hiv-rome", "--model", "mh-gamma3.5")
    assert code == 0
    lower, upper = payload["total"]["intervals"]["0.95"]
    assert payload["total"]["median"] == pytest.approx(28834.48, rel=0.005)
    assert lower == pytest.approx(8435.644, rel=0.005) and upper > 87606.9


def test_missing_upper_end_is_said_not_printed(monkeypatch, run_cli):
    # When the profile never falls below the cut-off (no upper end), the result holds None and
    # every format says so in words.
    real = heterogeneity.heterogeneity_profile

    def unbounded(counts, k, name, levels=(0.95,)):
        result = real(counts, k, name, levels)
        return HeterogeneityEstimate(result.fit, result.total,
                                     {level: (lower, None) for level, (lower, _) in result.intervals.items()})

    monkeypatch.setattr(heterogeneity, "heterogeneity_profile", unbounded)
    code, payload = _json(run_cli, "--example", "western-us", "--model", "mh-darroch")
    assert code == 0 and payload["total"]["intervals"]["0.95"][1] is None
    assert any("no upper end" in warning for warning in payload["warnings"])
    text = run_cli("lists", "--example", "western-us", "--model", "mh-darroch", "--quiet", "--no-sensitivity").stdout
    assert "no upper bound" in text


def test_public_function_gives_point_and_both_ends():
    # Rcapture closedpCI.t(spina_bifida, dfreq=TRUE, m="Mth", h="Poisson"): 672.96 [651.39, 704.75]
    table = _table([247, 49, 142, 60, 112, 4, 12], ("birth", "death", "rehab"))
    result = fit_heterogeneity_model(table, "mth-poisson2")
    assert result.total == pytest.approx(672.9584, rel=0.005)
    assert result.lower == pytest.approx(651.387, rel=0.005) and result.upper == pytest.approx(704.7473, rel=0.005)
    assert result.fit.df == 2


def test_two_lists_are_refused():
    with pytest.raises(ModelError, match="at least 3 lists"):
        fit_lists(pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [30, 20, 5]}), "mth-chao")


def test_loglinear_ranking_can_choose_a_heterogeneity_model(run_cli):
    # Snowshoe hares: Rcapture's Mh Poisson2 has BIC 153.956 (closedp.t), below every hierarchical
    # model (best c4:c6, BIC 168.1), so the ranking reports Rcapture's closedpCI.t Mh Poisson2:
    # 80.5164 [72.04, 94.62].
    code, payload = _json(run_cli, "--example", "snowshoe-hare", "--model", "loglinear")
    assert code == 0
    assert payload["details"]["heterogeneity_model"] == "mh-poisson2"
    assert payload["total"]["median"] == pytest.approx(80.5164, rel=0.005)
    assert payload["details"]["tables"][0]["rows"][0][0] == "Mh Poisson2 (heterogeneity)"
    assert any("Mh Poisson2" in warning for warning in payload["warnings"])


def test_criterion_orders_the_heterogeneity_models():
    table = _table([247, 49, 142, 60, 112, 4, 12])
    by_aic = rank_heterogeneity_models(table, "aic")
    assert [fit.aic for fit in by_aic] == sorted(fit.aic for fit in by_aic)
    by_bic = rank_heterogeneity_models(table, "bic")
    assert [fit.bic for fit in by_bic] == sorted(fit.bic for fit in by_bic)


def test_sensitivity_table_has_the_heterogeneity_rows():
    table = _table([247, 49, 142, 60, 112, 4, 12])
    rows, _ = model_rows(table, level=0.95, seed=1, ladder=(0.95,))
    keys = [row.key for row in rows]
    assert "heterogeneity" in keys and "heterogeneity-range" in keys
    best = next(row for row in rows if row.key == "heterogeneity")
    # spina bifida: the best heterogeneity model by BIC (closedp.t) is Mth Poisson2 (101.173; Mth Gamma3.5 ties)
    assert "Mth" in best.model and best.estimate is not None and best.upper is not None


def test_strata_are_combined_by_the_profile_of_the_total():
    frame = pd.DataFrame({
        "A": [1, 0, 1, 0, 1, 0, 1] * 2, "B": [0, 1, 1, 0, 0, 1, 1] * 2, "C": [0, 0, 0, 1, 1, 1, 1] * 2,
        "region": ["north"] * 7 + ["south"] * 7,
        "count": [247, 49, 142, 60, 112, 4, 12, 120, 25, 70, 30, 50, 3, 7],
    })
    result = fit_lists(frame, "mh-darroch", by=["region"], sensitivity=False)
    assert isinstance(result.overall.total, PointEstimate)
    parts = [s.total.median() for s in result.strata]
    lower, upper = result.overall.total.interval(0.95)
    assert result.overall.total.median() == pytest.approx(sum(parts), rel=1e-6)
    assert lower is not None and upper is not None and lower < sum(parts) < upper


def test_leave_one_out_table_has_the_best_heterogeneity_model():
    # Each reduced table (3 lists) gets the estimate of its best heterogeneity model by BIC, the
    # same number the sensitivity row reports for that table.
    from hiddenrate.analysis.sensitivity import drop_list, leave_one_out_table

    table = ListTable(names=("A", "B", "C", "D"),
                      counts=np.array([0, 247, 49, 142, 60, 112, 4, 12, 10, 5, 6, 3, 2, 1, 1, 1]))
    loo = leave_one_out_table(table, 0.95)
    column = [c["label"] for c in loo["columns"]].index("heterogeneity (best BIC)")
    for j, row in enumerate(loo["rows"]):
        reduced = drop_list(table, j)
        best = rank_heterogeneity_models(reduced, "bic")[0]
        assert row[column] == pytest.approx(fit_heterogeneity_model(reduced, best.name).total)


@pytest.mark.parametrize("name", list(HETEROGENEITY_MODELS))
def test_lists_that_never_overlap_give_no_estimate(name):
    # Nobody is on two lists: the likelihood rises without end as N grows (Rcapture prints
    # whatever glm stops at); here every model says it has no estimate.
    result = fit_heterogeneity_model(_table([30, 20, 0, 10, 0, 0, 0]), name)
    assert result.total is None and result.lower is None and result.upper is None
    assert "no finite estimate" in result.message or "did not converge" in result.message


def test_estimate_at_the_number_observed_is_flagged():
    # Rcapture closedpCI.t(artificial, m="Mh", h="Poisson"): 96.00007 [96, 104.03]: the most likely
    # number hidden is 0, which the result says.
    estimate = heterogeneity.heterogeneity_estimate(_table([40, 30, 6, 20, 0, 0, 0]), "mh-poisson2", (0.95,))
    assert estimate.total is not None and estimate.total.median() == pytest.approx(96.0, abs=1e-3)
    assert any("number observed" in warning for warning in estimate.warnings)

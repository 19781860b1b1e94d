"""Classical log-linear estimates against Rcapture (tests/reference/reference_results.csv).

The reference rows were produced with R 4.2.2 and Rcapture 1.4-4 on the files in
hiddenrate/data/examples/lists (see the data README):

* ``Mt``    -- ``closedpCI.t(X, dfreq = TRUE, mX = ~.)``      (independence / main effects)
* ``M2way`` -- ``closedpCI.t(X, dfreq = TRUE, mX = ~.^2)``    (all two-way interactions)
* ``MSBIC`` -- ``closedpMS.t(X, dfreq = TRUE)``, best model by BIC, then ``closedpCI.t`` on it

Rcapture's point estimate is the maximiser of the multinomial profile likelihood and its
interval the 95% profile-likelihood interval (Cormack 1992); both are compared with
``profile_likelihood``. Tolerances: point 0.5%, bounds 1%.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from hiddenrate.core.design import all_pairs
from hiddenrate.models.lists.loglinear_core import fit_loglinear
from hiddenrate.models.lists.loglinear_profile import profile_likelihood
from hiddenrate.models.lists.ranking import rank_models, stepwise

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hiddenrate" / "data" / "examples" / "lists"
REFERENCE = ROOT / "tests" / "reference" / "reference_results.csv"

# The data sets where M2way must match (the MLE exists); on the sparse ones it is an extended MLE.
M2WAY_REGULAR = {
    "hiv_rome", "lesbian_allegheny", "congenital_anomaly_massachusetts", "spina_bifida_new_york", "snowshoe_hare",
}


def read_counts(name: str) -> tuple[np.ndarray, int]:
    """Count vector of a bundled list data set (explicit zero rows and absent patterns are 0)."""
    with open(EXAMPLES / f"{name}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    k = len(rows[0]) - 1
    counts = np.zeros(1 << k)
    for row in rows[1:]:
        counts[sum(int(bit) << j for j, bit in enumerate(row[:k]))] += float(row[k])
    return counts, k


def rcapture_rows(model: str) -> list[dict[str, str]]:
    with open(REFERENCE, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["package"] == "Rcapture" and row["model"] == model]


def row_id(row: dict[str, str]) -> str:
    return f"{row['dataset']}-{row['model']}"


MT_ROWS = rcapture_rows("Mt")
M2WAY_ROWS = rcapture_rows("M2way")
MSBIC_ROWS = [row for row in rcapture_rows("MSBIC") if row["estimate"]]


def test_reference_rows_cover_every_list_data_set():
    list_sets = {path.stem for path in EXAMPLES.glob("*.csv")} - {"illegal_immigrants_capture_counts"}
    assert {row["dataset"] for row in MT_ROWS} == list_sets
    assert M2WAY_REGULAR <= {row["dataset"] for row in M2WAY_ROWS}


@pytest.mark.parametrize(
    "row",
    MT_ROWS + [row for row in M2WAY_ROWS if row["dataset"] in M2WAY_REGULAR],
    ids=row_id,
)
def test_matches_rcapture_closedpCI(row):
    # R: closedpCI.t(X, dfreq=TRUE, mX=~.)   for Mt
    #    closedpCI.t(X, dfreq=TRUE, mX=~.^2) for M2way
    counts, k = read_counts(row["dataset"])
    terms = () if row["model"] == "Mt" else all_pairs(k)
    result = profile_likelihood(counts, k, terms)
    assert result.status == "ok"
    assert result.total == pytest.approx(float(row["estimate"]), rel=0.005)
    assert result.lower == pytest.approx(float(row["lower95"]), rel=0.01)
    assert result.upper == pytest.approx(float(row["upper95"]), rel=0.01)


@pytest.mark.parametrize(
    "row", [row for row in M2WAY_ROWS if row["dataset"] not in M2WAY_REGULAR], ids=row_id
)
def test_sparse_all_two_way_models_are_flagged_or_extended(row):
    # R: closedpCI.t(X, dfreq=TRUE, mX=~.^2) on tables with lists that never overlap. glm's
    # answer there approximates the extended MLE; on the artificial table it is a number
    # (4.9e13) where N is not identifiable.
    counts, k = read_counts(row["dataset"])
    result = profile_likelihood(counts, k, all_pairs(k))
    if row["dataset"] == "artificial_sparse_3lists":
        assert result.status == "not-identifiable"
        assert (result.total, result.lower, result.upper) == (None, None, None)
        return
    assert result.status == "extended"
    assert result.total == pytest.approx(float(row["estimate"]), rel=0.005)
    assert result.lower == pytest.approx(float(row["lower95"]), rel=0.01)
    rcapture_upper = float(row["upper95"])
    if rcapture_upper == pytest.approx(3 * result.poisson_total, rel=1e-3):
        # Rcapture stops its search at fmaxSupCL = 3 times the Poisson estimate and prints
        # that as the bound (New Orleans 8 and 5 lists, Western); the profile crosses later.
        assert result.upper > rcapture_upper
    else:
        assert result.upper == pytest.approx(rcapture_upper, rel=0.01)


@pytest.mark.parametrize("row", MSBIC_ROWS, ids=row_id)
def test_best_bic_model_matches_rcapture_closedpMS(row):
    # R: closedpMS.t(X, dfreq=TRUE); the best-BIC model, then closedpCI.t with its mX.
    # Rcapture drops models whose glm fit warns (zero overlaps); here those are kept as
    # extended MLEs but each infinite term is charged as a parameter, which gives the same
    # winner on every reference data set.
    counts, k = read_counts(row["dataset"])
    best = rank_models(counts, k)[0]
    assert best.status == "ok"
    result = profile_likelihood(counts, k, best.terms)
    assert result.total == pytest.approx(float(row["estimate"]), rel=0.005)
    assert result.lower == pytest.approx(float(row["lower95"]), rel=0.01)
    assert result.upper == pytest.approx(float(row["upper95"]), rel=0.01)


def test_artificial_table_has_no_best_model_in_rcapture_but_independence_here():
    # closedpMS.t fitted no model without a warning; every model with A:B is flagged here and
    # the best valid model is independence, Rcapture's Mt: 530.94 [285.5, 1267.5].
    counts, k = read_counts("artificial_sparse_3lists")
    ranking = rank_models(counts, k)
    assert ranking[0].terms == ()
    flagged = [fit for fit in ranking if (0, 1) in fit.terms]
    assert len(flagged) == 4 and all(fit.status in ("no-mle", "not-identifiable") for fit in flagged)


def test_western_best_bic_is_sparsemse_stepwise_model():
    # SparseMSE stepwise (Farrell et al. 2019 data): A:E, 2,483.
    counts, k = read_counts("western_us_sex_trafficking")
    best = rank_models(counts, k)[0]
    assert best.terms == ((0, 4),)
    assert best.total == pytest.approx(2483, rel=1e-3)


def test_uk_six_lists_all_models_by_bic():
    # 32,768 models in about 2 s (Rcapture's closedpMS.t takes minutes). Silverman, Chan &
    # Vincent (2024): best BIC model 12,350; Rcapture Mt 12,208.57 is the independence model.
    counts, k = read_counts("uk_modern_slavery_2013")
    ranking = rank_models(counts, k)
    assert len(ranking) == 32768
    best = ranking[0]
    assert best.terms == ((0, 1), (0, 2), (1, 4), (2, 4), (2, 5), (3, 4))
    assert best.total == pytest.approx(12350, rel=1e-3)
    assert stepwise(counts, k).terms == best.terms
    assert fit_loglinear(counts, k, best.terms).bic == pytest.approx(best.bic, rel=1e-9)

"""List data over periods with the capture structure pooled across periods (``--model pooled``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists, fit_trend
from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.design import patterns
from hiddenrate.models.trend.lists import NOT_POOLED, POOLED
from hiddenrate.models.trend.lists_pooled_core import PooledLoglinearSampler, default_terms, simulate

# Three lists over four years. True totals below; 2020 is a thin period (300 people, about 110
# records). Lists a and b are positively dependent in every year (log odds ratio 1.0, shared);
# capture log odds about -1.8 (each list holds about 14% of the people), drifting a little.
TOTALS = np.array([3000, 2800, 300, 2500])
MAIN = np.array([[-1.9, -1.7, -2.1], [-1.8, -1.7, -2.0], [-1.8, -1.8, -2.0], [-1.7, -1.9, -1.9]])
TRUE_TERMS = ((0, 1),)
TRUE_INTERACTION = np.array([1.0])
YEARS = [2018, 2019, 2020, 2021]
COUNTS = simulate(TOTALS, MAIN, TRUE_TERMS, TRUE_INTERACTION, np.random.default_rng(20261123))  # seed fixed before looking
PATTERNS = patterns(3)
FRAME = pd.DataFrame([{"a": int(PATTERNS[c, 0]), "b": int(PATTERNS[c, 1]), "c": int(PATTERNS[c, 2]), "year": year,
                       "count": int(COUNTS[t, c])} for t, year in enumerate(YEARS) for c in range(1, 8)])


@pytest.fixture(scope="module")
def pooled():
    return fit_trend(FRAME, "pooled", seed=1)


def test_pooled_recovers_the_totals(pooled) -> None:
    """Tolerance from the posterior itself: each true total lies in its 95% interval, and each
    median is within 3 posterior sd of the truth (a fixed simulated data set and a fixed seed)."""
    assert pooled.model == "pooled" and pooled.command == "trend"
    assert POOLED in pooled.assumptions and NOT_POOLED not in pooled.assumptions
    assert pooled.extra["capture_structure"].startswith("pooled across periods")
    assert [s.stratum for s in pooled.strata] == [{"year": str(y)} for y in YEARS]
    assert [s.observed for s in pooled.strata] == COUNTS.sum(axis=1).tolist()
    for estimate, truth in zip(pooled.strata, TOTALS, strict=True):
        draws = np.asarray(estimate.total.draws)
        low, high = estimate.total.interval(0.95)
        assert low <= truth <= high
        assert abs(np.median(draws) - truth) < 3 * draws.std()
    diagnostics = pooled.strata[0].diagnostics
    assert diagnostics.converged and diagnostics.divergences == 0
    assert diagnostics.rhat_max is not None and diagnostics.rhat_max <= 1.01
    assert diagnostics.ess_bulk_min is not None and diagnostics.ess_bulk_min >= 400


def test_the_shared_dependence_is_recovered() -> None:
    """All three pairs overlap, so all three are shared terms; the true a:b log odds ratio (1.0)
    and the absent a:c, b:c (0) each lie in their 95% interval."""
    terms = default_terms(COUNTS, 3)
    assert terms == ((0, 1), (0, 2), (1, 2))
    idata = PooledLoglinearSampler(3, 4, terms).sample(COUNTS, np.arange(4.0), seed=5)
    interaction = idata.posterior["interaction"].values.reshape(-1, 3)
    low, high = np.quantile(interaction, [0.025, 0.975], axis=0)
    truth = np.array([1.0, 0.0, 0.0])
    assert np.all((low <= truth) & (truth <= high))
    assert idata.posterior["total"].dims == ("chain", "draw", "period")


def test_a_thin_period_borrows_from_its_neighbours(pooled) -> None:
    """2020 has about 110 records. Alone, with the same terms (all pairs), the overlaps of that
    year are too few to pin the dependence and the interval is several times wider; pooled, the
    dependence and the capture probabilities come mostly from the other years."""
    thin = pooled.strata[2]
    low, high = thin.total.interval(0.95)
    alone = fit_lists(FRAME[FRAME.year == 2020].drop(columns="year"), "bayes-loglinear", terms="a:b,a:c,b:c", seed=1)
    alone_low, alone_high = alone.overall.total.interval(0.95)
    assert high - low < 0.5 * (alone_high - alone_low)


def test_changes_use_joint_draws(pooled) -> None:
    """The change machinery sees the same periods; first to last plus consecutive pairs."""
    changes = pooled.extra["changes"]
    assert [(c["from"], c["to"]) for c in changes] == [("2018", "2021"), ("2018", "2019"), ("2019", "2020"),
                                                       ("2020", "2021")]
    assert changes[2]["total_ratio"]["intervals"]["0.95"][1] < 0.2  # 3000 -> 300
    assert changes[2]["recorded_ratio"] == pytest.approx(COUNTS[2].sum() / COUNTS[1].sum())


def test_pooled_list_trend_from_the_cli(run_cli, write_csv) -> None:
    """JSON: one stratum per year and details.changes; the default (bma) and --model bma keep the per-period path."""
    path = write_csv(FRAME.to_csv(index=False))
    default = run_cli("trend", path, "--format", "json", "--quiet")
    assert default.exit_code == 0, default.stderr
    assert json.loads(default.stdout)["details"]["capture_structure"] == "not pooled across periods"
    result = run_cli("trend", path, "--model", "pooled", "--format", "json", "--quiet", "--draws", "500", "--tune", "500")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["strata"]) == 4 and len(payload["details"]["changes"]) == 4
    assert payload["details"]["periods"]["labels"] == [str(y) for y in YEARS]
    assert payload["details"]["capture_structure"].startswith("pooled across periods")
    separate = run_cli("trend", path, "--model", "bma", "--format", "json", "--quiet")
    assert separate.exit_code == 0, separate.stderr
    assert json.loads(separate.stdout)["details"]["capture_structure"] == "not pooled across periods"
    terms = run_cli("trend", path, "--model", "pooled", "--terms", "a:b", "--format", "json", "--quiet", "--draws", "300", "--tune", "300")
    assert terms.exit_code == 0, terms.stderr
    assert json.loads(terms.stdout)["strata"][0]["details"]["terms"] == "a:b"


def test_options_the_pooled_model_does_not_take_are_refused() -> None:
    with pytest.raises(ModelError, match="does not apply to --model pooled"):
        fit_trend(FRAME, "pooled", delta=1.0)


def test_one_pooled_model_per_series_with_a_stratum_column() -> None:
    """Two areas with the same lists: each area is its own pooled series, plus their sum ("all")."""
    frame = pd.concat([FRAME.assign(area="north"), FRAME.assign(area="south")])
    result = fit_trend(frame, "pooled", by=["area"], seed=3, sampling={"draws": 300, "tune": 300})
    assert [s.stratum for s in result.strata] == [{"area": a, "year": str(y)} for a in ("north", "south") for y in YEARS]
    assert [c["series"] for c in result.extra["changes"]][::4] == ["area=north", "area=south", "all"]


def test_a_series_missing_a_period_and_bad_priors_are_refused() -> None:
    from hiddenrate.core.exceptions import DataError

    frame = pd.concat([FRAME.assign(area="north"), FRAME[FRAME.year != 2019].assign(area="south")])
    with pytest.raises(DataError, match="area=south has no records for period 2019"):
        fit_trend(frame, "pooled", by=["area"], seed=3)
    with pytest.raises(ModelError, match="unknown prior name\\(s\\) 'step'; valid names for the pooled list trend model: main_level, main_step, interaction"):
        fit_trend(FRAME, "pooled", priors={"step": {"scale": 1.0}})


def test_pooled_priors_from_the_cli(run_cli, write_csv) -> None:
    """--prior main_step=0.5 widens the random walk's step; the result records the merged priors."""
    path = write_csv(FRAME.to_csv(index=False))
    result = run_cli("trend", path, "--model", "pooled", "--prior", "main_step=0.5", "--format", "json", "--quiet", "--draws", "300",
                     "--tune", "300")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["priors"]["main_step"] == {"dist": "scaled_inv_chi2", "dof": 4.0, "scale": 0.5}
    refused = run_cli("trend", path, "--model", "bma", "--prior", "main_step=0.5", "--quiet")
    assert refused.exit_code == 2 and "per-period list models take their own options" in refused.stderr

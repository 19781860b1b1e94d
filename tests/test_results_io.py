"""The JSON contract, the summary table, and save/load round trips."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hiddenrate import Result, fit_lists

FRAME = pd.DataFrame(
    {
        "police": [1, 0, 1, 1, 0, 1],
        "ngo": [0, 1, 1, 0, 1, 1],
        "region": ["north"] * 3 + ["south"] * 3,
        "count": [100, 200, 50, 10, 20, 5],
    }
)


def test_json_contract_keys_and_types():
    payload = fit_lists(FRAME, "bayes-2list", by=["region"], levels=(0.8, 0.95)).to_dict()
    assert isinstance(payload["observed"], int) and payload["observed"] == 385
    assert isinstance(payload["model"], str)
    for name in ("total", "hidden", "observed_share"):
        block = payload[name]
        assert set(block) == {"median", "mean", "intervals"}
        assert set(block["intervals"]) == {"0.8", "0.95"}
        lower, upper = block["intervals"]["0.95"]
        assert lower <= block["median"] <= upper
    assert isinstance(payload["diagnostics"]["converged"], bool)
    assert isinstance(payload["warnings"], list)
    assert payload["seed"] == 1
    assert [s["stratum"] for s in payload["strata"]] == [{"region": "north"}, {"region": "south"}]
    for stratum in payload["strata"]:
        assert {"observed", "total", "hidden", "observed_share", "diagnostics", "warnings"} <= set(stratum)
    # totals over strata come from summed draws: the total's median is near the sum of medians
    medians = sum(s["total"]["median"] for s in payload["strata"])
    assert payload["total"]["median"] == pytest.approx(medians, rel=0.1)


def test_summary_rows_and_columns():
    table = fit_lists(FRAME, "chapman", by=["region"]).summary()
    assert list(table.index) == ["region=north", "region=south", "total"]
    assert {"total_median", "total_lower_0.95", "hidden_upper_0.95", "observed_share_median"} <= set(table.columns)


@pytest.mark.parametrize("model", ["bayes-2list", "chapman"])
def test_save_load_round_trip_is_exact(model, tmp_path):
    result = fit_lists(FRAME, model, by=["region"], levels=(0.5, 0.95))
    path = tmp_path / "result.nc"
    result.save(str(path))
    loaded = Result.load(str(path))
    assert json.dumps(loaded.to_dict(), sort_keys=True) == json.dumps(result.to_dict(), sort_keys=True)
    assert loaded.seed == result.seed and loaded.priors == result.priors


def test_cli_save_writes_netcdf_with_provenance(run_cli, write_csv, tmp_path):
    import xarray as xr  # noqa: F401  (netCDF engine present)

    path = write_csv("police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n")
    saved = tmp_path / "out.nc"
    result = run_cli("lists", path, "--save", saved, "--quiet", "--seed", "7")
    assert result.exit_code == 0
    loaded = Result.load(str(saved))
    assert loaded.seed == 7
    assert loaded.provenance["input_sha256"] and loaded.provenance["versions"]["hiddenrate"]
    assert loaded.input["tables"][0]["cells"] == {"10": 100, "01": 200, "11": 50}


def test_json_output_is_pure_json_and_progress_goes_to_stderr(run_cli, write_csv):
    path = write_csv("police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n")
    result = run_cli("lists", path, "--format", "json")
    json.loads(result.stdout)  # nothing else on stdout


def test_extra_quantities_are_reported_saved_and_loaded(tmp_path):
    import dataclasses

    import numpy as np

    from hiddenrate.core.distributions import DrawsDistribution

    result = fit_lists(FRAME[FRAME.region == "north"].drop(columns="region"), "bayes-2list")
    rate = DrawsDistribution(np.random.default_rng(0).beta(196, 517, size=4000))
    overall = dataclasses.replace(result.overall, quantities={"reporting_rate": rate})
    result = dataclasses.replace(result, overall=overall)
    payload = result.to_dict()
    assert payload["reporting_rate"]["median"] == pytest.approx(rate.median())
    assert "reporting_rate_lower_0.95" in result.summary().columns
    result.save(str(tmp_path / "r.nc"))
    loaded = Result.load(str(tmp_path / "r.nc"))
    assert loaded.to_dict()["reporting_rate"] == payload["reporting_rate"]

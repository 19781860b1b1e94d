"""Model averaging through the CLI: dga's numbers, delta stated everywhere, no fake mean."""

from __future__ import annotations

import json

import pytest

# R: dga::bma.cr(Y, Nmissing, delta = 2^-p, graphs = graphs, logprior = -log(N)) on a grid wide
# enough that the tail beyond it is negligible (shared/data/lists/reference_results.csv).
DGA = {
    "congenital-anomaly": (618, 590, 656),
    "lesbian-allegheny": (5131, 4635, 5749),
    "new-orleans-5lists": (869, 511, 1762),
    "uk-2013-5lists": (22989, 10389, 33509),
    "western-us": (2133, 1341, 3881),
}


@pytest.mark.parametrize("example", list(DGA))
def test_default_model_for_3_to_6_lists_is_model_averaging_matching_dga(example, run_cli):
    result = run_cli("lists", "--example", example, "--format", "json", "--quiet")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["model"] == "bma"  # never the independence model by default
    median, lower, upper = DGA[example]
    assert payload["total"]["median"] == pytest.approx(median, rel=0.01)
    got_lower, got_upper = payload["total"]["intervals"]["0.95"]
    assert got_lower == pytest.approx(lower, rel=0.01) and got_upper == pytest.approx(upper, rel=0.01)
    assert payload["priors"]["delta"]["value"] == pytest.approx(2.0 ** -len(payload["input"]["lists"]))


def test_delta_is_stated_in_every_format(run_cli):
    for fmt, needle in [("text", "delta = 0.03125"), ("markdown", "delta = 0.03125"), ("csv", '"value": 0.03125')]:
        out = run_cli("lists", "--example", "western-us", "--format", fmt, "--quiet").stdout
        assert needle in out.replace('""', '"'), fmt
    payload = json.loads(run_cli("lists", "--example", "western-us", "--format", "json", "--quiet").stdout)
    assert payload["details"]["delta"] == 0.03125
    assert payload["details"]["sensitivity"]["delta"] == 1.0


def test_heavy_tail_has_no_mean_and_a_loud_delta_warning(run_cli):
    # UK 5 lists: dga gives 22,990 at delta = 2^-5 and 2,807 at delta = 1 (shared/data/README.md).
    payload = json.loads(run_cli("lists", "--example", "uk-2013-5lists", "--format", "json", "--quiet").stdout)
    assert payload["total"]["mean"] is None  # p(N) ∝ 1/N with delta = 2^-K: no posterior mean
    assert payload["observed_share"]["mean"] is not None  # a share is bounded, so its mean exists
    assert payload["details"]["sensitivity"]["median"] == pytest.approx(2807, rel=0.01)
    assert any("delta decides this answer" in w for w in payload["warnings"])


def test_user_delta_and_prior(run_cli):
    payload = json.loads(run_cli("lists", "--example", "congenital-anomaly", "--delta", "0.5", "--format", "json",
                                 "--quiet").stdout)
    # dga help example: delta = 0.5 gives 616 [588, 655]
    assert payload["total"]["median"] == pytest.approx(616, rel=0.01)
    assert payload["priors"]["delta"]["value"] == 0.5


def test_model_averaging_refuses_seven_or_more_lists(run_cli):
    """Exact averaging enumerates decomposable graphs (18,154 on 6 lists); beyond 6 it refuses. The default
    for 7+ lists is the stepwise bootstrap instead (tests/test_no_dead_ends.py)."""
    result = run_cli("lists", "--example", "new-orleans", "--model", "bma")
    assert result.exit_code == 2
    assert "at most 6 lists; the data have 8" in result.stderr


def test_stratified_model_averaging_convolves_exactly(tmp_path, run_cli):
    import pandas as pd

    from hiddenrate.api import example_path

    frame = pd.read_csv(example_path("spina-bifida"))
    both = pd.concat([frame.assign(site="a"), frame.assign(site="b")])
    path = tmp_path / "two_sites.csv"
    both.to_csv(path, index=False)
    payload = json.loads(run_cli("lists", path, "--by", "site", "--format", "json", "--quiet").stdout)
    single = payload["strata"][0]["total"]["median"]
    assert payload["strata"][1]["total"]["median"] == single
    # the sum of two independent copies: median close to twice, interval narrower than twice relative width
    assert payload["total"]["median"] == pytest.approx(2 * single, rel=0.01)
    lo, hi = payload["total"]["intervals"]["0.95"]
    slo, shi = payload["strata"][0]["total"]["intervals"]["0.95"]
    assert (hi - lo) < 2 * (shi - slo)

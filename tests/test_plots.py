"""Figures exist and mark what they claim (observed count, interval)."""

from __future__ import annotations

import pandas as pd

from hiddenrate import fit_lists

FRAME = pd.DataFrame({"police": [1, 0, 1, 1, 0, 1], "ngo": [0, 1, 1, 0, 1, 1],
                      "region": ["n"] * 3 + ["s"] * 3, "count": [100, 200, 50, 10, 20, 5]})


def test_posterior_plot_marks_observed_and_estimate(tmp_path):
    result = fit_lists(FRAME[FRAME.region == "n"].drop(columns="region"), "bayes-2list")
    ax = result.plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "observed 350" in labels and any(label.startswith("estimate") for label in labels)
    ax.figure.savefig(tmp_path / "total.png")
    assert (tmp_path / "total.png").stat().st_size > 1000


def test_forest_plot_has_one_row_per_stratum_and_total():
    ax = fit_lists(FRAME, "bayes-2list", by=["region"]).plot()
    # strata from the top, the total at the bottom
    positions = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert positions == {"region=n": 2, "region=s": 1, "total": 0}


def test_cli_plot_writes_a_figure(run_cli, write_csv, tmp_path):
    path = write_csv("police,ngo,count\n1,0,100\n0,1,200\n1,1,50\n")
    figure = tmp_path / "total.svg"
    result = run_cli("lists", path, "--plot", figure, "--quiet")
    assert result.exit_code == 0
    assert figure.read_text().lstrip().startswith("<?xml")
    bad = run_cli("lists", path, "--plot", tmp_path / "total.txt", "--quiet")
    assert bad.exit_code == 2 and ".png, .svg or .pdf" in bad.stderr

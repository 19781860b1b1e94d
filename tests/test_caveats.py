"""Warnings with a severity and a stable code (issue 23): what a reader sees first, and the noise that is gone.

Every warning is a :class:`~hiddenrate.core.caveats.Caveat`; a report names the most serious one
under its headline in every format; minor findings are notes; the thresholds that produced noise
("6 separate modes (near 71 and 72 and 74)", "1.01 times as wide") are raised, and the tests here
say why.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import h5netcdf
import numpy as np
import pandas as pd
import pytest

from hiddenrate import fit_lists
from hiddenrate.analysis import fragility
from hiddenrate.core import diagnostics as diag
from hiddenrate.core.caveats import (
    CODES,
    NOTE,
    SERIOUS,
    WARNING,
    Caveat,
    as_caveat,
    classify,
    ranked,
)
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.models.trend.model import NO_SURVEY_WIDER, no_survey_note
from hiddenrate.render import render
from hiddenrate.render.caveats import headline_caveat
from hiddenrate.result import seal
from hiddenrate.result.io import load_result
from hiddenrate.result.value import StratumEstimate

FRAME = pd.DataFrame({"police": [1, 0, 1], "ngo": [0, 1, 1], "count": [100, 200, 50]})
SERIOUS_TEXT = "the posterior of the total has 2 separate modes (near 1,000 and 2,000): the data support different answers"
WARNING_TEXT = "only 300 effective draws (fewer than 400): the interval ends are not stable; run longer (--draws)"
NOTE_TEXT = "the posterior has no mean (its tail is too heavy under this prior); the median is the estimate"


@pytest.fixture(scope="module")
def two_lists():
    return fit_lists(FRAME, "chapman")


def _with(result, *messages):
    return replace(result, warnings=tuple(messages))


# ----------------------------------------------------------------------------- the value


def test_a_caveat_is_its_text_with_a_code_and_a_severity() -> None:
    caveat = Caveat("lists never overlap", "zero-overlap")
    assert caveat == "lists never overlap" and "overlap" in caveat and f"{caveat} x" == "lists never overlap x"
    assert (caveat.code, caveat.severity) == ("zero-overlap", SERIOUS)  # the usual severity of its code
    assert Caveat("x", "zero-overlap", NOTE).severity == NOTE  # unless told
    copy = pickle.loads(pickle.dumps(caveat))
    assert (copy, copy.code, copy.severity) == (caveat, caveat.code, caveat.severity)
    prefixed = caveat.prefixed("[year=2020] ")
    assert prefixed == "[year=2020] lists never overlap" and prefixed.code == "zero-overlap"
    assert caveat.to_dict() == {"code": "zero-overlap", "severity": "serious", "message": "lists never overlap"}
    with pytest.raises(ValueError, match="unknown severity"):
        Caveat("x", "other", "minor")


def test_plain_warnings_are_classified_by_their_words() -> None:
    """Files saved before the codes, and code that writes plain strings, still get a code and a severity."""
    assert classify(NOTE_TEXT) == ("no-mean", NOTE)
    assert classify(SERIOUS_TEXT) == ("multimodal", SERIOUS)
    assert classify("the prior weight delta decides this answer: the median is 12,315 with delta = 0.01562") == (
        "prior-sensitive", SERIOUS)
    assert classify("2 pair(s) of lists never overlap (LA-GP, LA-NCA): estimates are fragile") == ("zero-overlap", SERIOUS)
    assert classify("no survey in this period: ... about as wide as theirs (1.01 times, on the log-odds scale)") == (
        "no-survey-period", NOTE)
    assert classify("illustrative example, not a real estimate: the lists are invented") == ("example", WARNING)
    assert classify("the data give almost no upper bound: the posterior of the total has no finite mean") == (
        "bound", WARNING)  # not the note about a mean: the upper end is what is missing
    assert classify("a fit of the conflict check (without one piece of evidence) did not converge: ...") == (
        "evidence-conflict", WARNING)  # the main fit converged
    assert classify("something nobody foresaw") == ("other", WARNING)
    assert classify(Caveat("something", "multimodal", NOTE)) == ("multimodal", NOTE)  # a caveat keeps its own


def test_ranked_puts_serious_first_then_the_order_of_codes() -> None:
    messages = [NOTE_TEXT, WARNING_TEXT, Caveat("b", "zero-overlap"), Caveat("a", "not-converged"), SERIOUS_TEXT]
    assert [c.code for c in ranked(messages)] == ["not-converged", "multimodal", "zero-overlap", "ess", "no-mean"]
    order = list(CODES)
    assert order.index("not-converged") < order.index("prior-dominated") < order.index("multimodal")


def test_a_new_check_slots_in_with_its_name() -> None:
    """A fragility check added later (the heterogeneity check) needs only its Finding: its name is its code,
    and CODES gives the severity."""
    finding = fragility.Finding("heterogeneity", "capture probabilities differ between people")
    assert (finding.caveat.code, finding.caveat.severity) == ("heterogeneity", SERIOUS)
    assert fragility.Finding("some-new-check", "x").caveat.severity == WARNING  # unknown codes are warnings
    estimate = StratumEstimate(stratum={}, observed=100, total=None, diagnostics=diag.exact("test"))
    assert fragility.messages([finding])[0].code == "heterogeneity" and estimate.total is None


# ----------------------------------------------------------------------------- JSON and files


def test_json_keeps_warnings_notes_and_ranked_caveats(two_lists) -> None:
    result = _with(two_lists, NOTE_TEXT, WARNING_TEXT, SERIOUS_TEXT)
    data = json.loads(render(result, "json"))
    assert data["warnings"] == [WARNING_TEXT, SERIOUS_TEXT]  # in the order written, notes apart
    assert data["notes"] == [NOTE_TEXT]
    assert [(c["code"], c["severity"]) for c in data["caveats"]] == [
        ("multimodal", "serious"), ("ess", "warning"), ("no-mean", "note")]
    assert data["caveat"].startswith("Caveat (serious): the posterior of the total has 2 separate modes")
    assert data["caveat"].endswith('1 more warning and 1 note in "caveats".')


def test_codes_survive_save_and_load_and_old_files_still_load(two_lists, tmp_path) -> None:
    result = _with(two_lists, Caveat("a finding the words would not classify", "multimodal"), NOTE_TEXT)
    path = tmp_path / "r.nc"
    result.save(str(path))
    loaded = load_result(str(path))
    assert [(c.code, c.severity) for c in loaded.all_warnings()] == [(c.code, c.severity) for c in result.all_warnings()]
    # a file written before the codes: the same file without "warning_codes" classifies the texts by their words
    # (files from before the codes had neither the whole-file seal nor the checksum: both removed)
    data = path.read_bytes()
    path.write_bytes(data[seal.BLOCK:] if data.startswith(seal.MAGIC) else data)
    with h5netcdf.File(path, "a") as handle:
        meta = json.loads(handle.attrs["hiddenrate_result"])
        meta.pop("warning_codes")
        for estimate in meta["estimates"].values():
            estimate.pop("warning_codes")
        handle.attrs["hiddenrate_result"] = json.dumps(meta)
        del handle.attrs["hiddenrate_sha256"]
    old = load_result(str(path))
    assert [(c.code, c.severity) for c in old.all_warnings()] == [("other", WARNING), ("no-mean", NOTE)]


# ----------------------------------------------------------------------------- the caveat beside the headline


def test_the_caveat_line_sits_under_the_headline_in_every_format(two_lists) -> None:
    result = _with(two_lists, NOTE_TEXT, WARNING_TEXT, SERIOUS_TEXT)
    text = render(result, "text").splitlines()
    first = next(i for i, line in enumerate(text) if "We estimate" in line)
    caveat_line = next(i for i, line in enumerate(text) if line.startswith("! Caveat (serious): the posterior"))
    assert caveat_line - first <= 2 and not any(line.strip() == "" for line in text[first:caveat_line])
    assert text.index("Warnings (most serious first):") < next(i for i, line in enumerate(text) if line.startswith("Model:"))
    markdown = render(result, "markdown")
    assert markdown.index("**Caveat (serious): the posterior") < markdown.index("## The estimate")
    page = render(result, "html")
    summary = page.index('id="summary-sentence"')
    assert summary < page.index('<p class="caveat">Caveat (serious): the posterior') < page.index('<section id="estimate">')
    assert '<a href="#warnings">All warnings</a>' in page
    # the warnings come before the figures and the long pattern tables, serious ones marked
    assert page.index('<section id="warnings">') < page.index('<section id="figures">') < page.index('<section id="input">')
    assert "SERIOUS: the posterior of the total has 2 separate modes" in page


def test_notes_alone_make_no_caveat_and_are_listed_apart(two_lists) -> None:
    result = _with(replace(two_lists, warnings=()), NOTE_TEXT)
    result = replace(result, overall=replace(result.overall, warnings=()))
    assert headline_caveat(result) is None
    text = render(result, "text")
    assert "Caveat" not in text and "Notes:\n  · the posterior has no mean" in text
    assert "No warnings." in render(result, "markdown")


def test_a_fit_that_did_not_converge_leads_with_that(two_lists) -> None:
    failed = diag.Diagnostics(method="NUTS", converged=False, rhat_max=1.2, messages=("chains disagree: R-hat 1.200",))
    result = _with(replace(two_lists, overall=replace(two_lists.overall, diagnostics=failed)), SERIOUS_TEXT)
    caveat = headline_caveat(result)
    assert caveat is not None and caveat.startswith("Caveat (serious): the fit did not converge (chains disagree")
    assert json.loads(render(result, "json"))["caveats"][0]["code"] == "not-converged"


# ----------------------------------------------------------------------------- two lists


def test_every_two_list_result_says_independence_is_assumed(two_lists) -> None:
    """Police and NGO lists are rarely independent, and two lists cannot check it: a serious warning, with what
    would help (a third list, a survey through hiddenrate combine), on every two-list model."""
    for model in ("chapman", "lincoln-petersen", "bayes-2list"):
        result = fit_lists(FRAME, model) if model != "chapman" else two_lists
        [caveat] = [c for c in result.caveats() if c.code == "independence-assumed"]
        assert caveat.severity == SERIOUS and "NGO" in caveat and "a third list" in caveat and "hiddenrate combine" in caveat
    stated = fit_lists(FRAME, "bayes-2list", log_odds_ratio=(0.7, 0.3))
    [caveat] = [c for c in stated.caveats() if c.code == "independence-assumed"]
    assert "from the prior you gave (--dependence), not from the data" in caveat
    assert headline_caveat(two_lists).startswith("Caveat (serious): two lists cannot show whether they are independent")
    three = pd.DataFrame({"a": [1, 0, 0, 1, 1], "b": [0, 1, 0, 1, 0], "c": [0, 0, 1, 0, 1], "count": [60, 50, 40, 20, 15]})
    assert not any(c.code == "independence-assumed" for c in fit_lists(three, "independence").caveats())


# ----------------------------------------------------------------------------- the noise that is gone


def _comb_density(total: GridDistribution) -> tuple[np.ndarray, np.ndarray]:
    """The log-density as it was built before issue 23: each whole number's probability in one bin of a finer log grid."""
    logs = np.log(total.values)
    grid = np.linspace(logs.min(), logs.max(), 512)
    mass, _ = np.histogram(logs, bins=512, range=(grid[0], grid[-1] + 1e-12), weights=total.pmf)
    smoother = np.exp(-0.5 * (np.arange(-9, 10) / 3.0) ** 2)
    return grid, np.convolve(mass, smoother / smoother.sum(), mode="same")


def test_an_exact_posterior_on_whole_numbers_has_no_comb_of_modes(monkeypatch) -> None:
    """The snowshoe hares (68 animals; exact posterior on 68..152, 95% [70, 91]) were said to have "6 separate
    modes (near 71 and 72 and 74)". On a log grid of 512 bins from log 68 to log 152 a bin is 0.0016 wide, and
    whole numbers near 70 are 0.014 apart: most bins are empty, and the smoothed pmf is a comb with a peak at
    every number. A smooth unimodal pmf of the same shape (a negative binomial above 68) shows it."""
    values = np.arange(68, 153, dtype=float)
    hidden = values - 68
    pmf = np.exp((hidden + 3) * np.log(0.75) + np.log(hidden + 1) * 2.5)  # unimodal, mode near 76
    total = GridDistribution(values, pmf / pmf.sum())
    monkeypatch.setattr(fragility, "MODE_SEPARATION", 0.0)  # the density alone, without the 10% rule
    assert len(fragility.modes(*_comb_density(total))) >= 3  # the old density: false modes
    estimate = StratumEstimate(stratum={}, observed=68, total=total, diagnostics=diag.exact("test"))
    assert len(fragility.modes(*fragility._log_density(estimate))) == 1
    assert "multimodal" not in [f.check for f in fragility.check(estimate)]


def test_whole_number_draws_make_no_modes_of_their_own(monkeypatch) -> None:
    """Draws of a count (the two-list model draws 20,000 whole numbers): Silverman's bandwidth on log N is below
    the spacing of whole numbers near 60-90, yet the kernel leaves no valley deep enough to split them, even with
    the 10% rule off; the comb came only from the exact grid's rebinning."""
    monkeypatch.setattr(fragility, "MODE_SEPARATION", 0.0)
    for size in (4000, 20_000):
        draws = 60 + np.random.default_rng(4).poisson(15, size).astype(float)
        estimate = StratumEstimate(stratum={}, observed=60, total=DrawsDistribution(draws), diagnostics=diag.exact("t"))
        assert len(fragility.modes(*fragility._log_density(estimate))) == 1


def test_modes_less_than_ten_percent_apart_are_one_answer() -> None:
    """Two bumps 5% apart are one answer for any use of the number; 2x apart they are two."""
    rng = np.random.default_rng(5)

    def found(second: float) -> int:
        draws = np.concatenate([1000 * np.exp(rng.normal(0, 0.01, 2000)), second * np.exp(rng.normal(0, 0.01, 2000))])
        estimate = StratumEstimate(stratum={}, observed=500, total=DrawsDistribution(draws), diagnostics=diag.exact("t"))
        return len(fragility.modes(*fragility._log_density(estimate)))

    assert found(1050) == 1
    assert found(2000) == 2


def test_a_period_without_a_survey_is_warned_about_only_when_clearly_wider() -> None:
    """The ratio of two 95% widths estimated from 4,000 draws of the same distribution scatters by a few percent
    (Monte Carlo error of the quantiles), so "1.02 times as wide" can be noise: over 200 pairs, the ratio passes
    1.02 often and never comes near NO_SURVEY_WIDER (1.25)."""
    rng = np.random.default_rng(6)

    def width(draws: np.ndarray) -> float:
        return float(np.subtract(*np.quantile(draws, [0.975, 0.025])))

    ratios = np.array([width(rng.normal(size=4000)) / width(rng.normal(size=4000)) for _ in range(200)])
    assert np.mean(np.abs(ratios - 1) > 0.02) > 0.3
    assert ratios.max() < NO_SURVEY_WIDER
    assert no_survey_note(1.07, 0.95).severity == NOTE and "about as wide" in no_survey_note(1.07, 0.95)
    wider = no_survey_note(1.4, 0.95)
    assert wider.severity == WARNING and "1.40 times as wide" in wider


def test_no_mean_is_a_note_on_model_averaging() -> None:
    """Model averaging with p(N) proportional to 1/N has no posterior mean on most tables; the median and interval
    reported are exact, so it is a note (the congenital-anomaly example: 618 [590, 656], with nothing else to say)."""
    from hiddenrate.api.lists import example_path

    result = fit_lists(example_path("congenital-anomaly"), sensitivity=False)
    assert [(c.code, c.severity) for c in result.caveats()] == [("no-mean", NOTE)]
    assert headline_caveat(result) is None
    assert as_caveat(NOTE_TEXT).severity == NOTE

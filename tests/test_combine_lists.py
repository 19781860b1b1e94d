"""The joint model of matched lists and surveys (NUTS). The first test compiles the 2-list model
(about 15 s, once per process); the others are marked slow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hiddenrate import fit_combined, load_result
from hiddenrate.analysis.suppression import suppress_result
from hiddenrate.data.examples import get_example
from hiddenrate.data.simulate import counts_to_frame, simulate_list_counts
from hiddenrate.render import render
from hiddenrate.render.tables import lay_out


def table(result, title: str) -> dict:
    found = next(t for t in result.extra["tables"] if t["title"].startswith(title))
    return {**found, "rows": lay_out(found, 0.95).rows}  # interval cells laid out at 95%


def conflicts(result) -> list[list]:
    return [row for t in result.extra["tables"] if t["title"].startswith("Conflict check")
            for row in lay_out(t, 0.95).rows]


def test_two_lists_and_a_survey_identify_the_dependence() -> None:
    """The illustrative example: 114 police only, 189 NGO only, 161 on both, built from 1,000 incidents
    with a police capture probability of 195/711 and an odds ratio of 4; the survey is the published
    195 of 711. The survey fixes p_police, so the total comes back near 1,000 and the log odds ratio
    near log 4, while Chapman (independence) is far too low; every format carries the tables."""
    result = fit_combined(get_example("police-ngo-survey").path(), seed=1)
    assert result.model == "joint-lists" and result.converged
    assert result.overall.observed == 464
    median = result.overall.total.median()
    low, high = result.interval(0.95)
    assert 900 < median < 1100 and low is not None and high is not None and low < 1000 < high
    gamma = result.overall.quantities["log_odds_ratio"]
    assert gamma.interval(0.95)[0] > 0.5 and abs(gamma.median() - np.log(4)) < 0.3
    police = result.overall.quantities["capture_probability[police]"]
    assert police.median() == pytest.approx(195 / 711, abs=0.01)
    rows = {r[0]: r for r in table(result, "What each source says alone")["rows"]}
    chapman = rows["matched lists alone, if independent (Chapman)"]
    assert chapman[6] == pytest.approx((275 + 1) * (350 + 1) / (161 + 1) - 1)  # Chapman: (n1+1)(n2+1)/(n11+1) - 1
    assert chapman[8] < 1000  # independence is far too low: the referrals inflate the overlap
    lists_alone = rows["matched lists alone (dependence prior Normal(0, 2))"]
    assert lists_alone[8] > 2 * high  # without the survey the total is almost open
    (conflict,) = conflicts(result)
    assert conflict[:2] == ["survey of police", "195/711"]
    assert conflict[-1] == "cannot be checked: with 2 lists only this survey measures their dependence"
    payload = json.loads(render(result, "json"))
    for key in ("total", "log_odds_ratio", "capture_probability[police]", "capture_probability[ngo]"):
        assert set(payload[key]) == {"median", "mean", "intervals"}, key
    assert payload["diagnostics"]["converged"] and payload["input"]["format"] == "lists"
    assert payload["input"]["surveys"] == [{"stratum": {}, "source": "police", "surveyed": 711, "reported": 195}]
    text = render(result, "text")
    assert "What each source says alone" in text and "odds ratio police:ngo" in text
    for fmt in ("markdown", "html"):
        page = render(result, fmt)
        for needle in ("What each source says alone", "police (list size / survey)", "capture probability of ngo",
                       "odds ratio police:ngo"):
            assert needle in page, (fmt, needle)
    header = render(result, "csv").splitlines()[0].split(",")
    for name in ("capture_probability[police]", "capture_probability[ngo]", "log_odds_ratio"):
        assert {f"{name}_median", f"{name}_lower_0.95", f"{name}_upper_0.95"} <= set(header)
    # Below 200 every cell (114, 189, 161) is hidden; the list sizes 275 and 350 with the 464 observed would
    # give them back by subtraction (161 = 275 + 350 - 464), so the input hides them and so must the table.
    safe = suppress_result(result, 200)
    assert safe.input["tables"][0]["list_sizes"] == {"police": "hidden", "ngo": "hidden"}
    rows = {r[0]: r for r in table(safe, "What each source says alone")["rows"]}
    assert rows["police (list size / survey)"][1:3] == ["hidden", "<200"]
    assert rows["ngo (list size / survey)"][1] == "hidden"
    assert "hidden    <200" in render(safe, "text")
    published = json.loads(render(safe, "json"))
    assert published["details"]["tables"][0]["rows"][0][1] == "hidden"


@pytest.mark.slow
def test_three_lists_check_a_survey_and_the_population_route(tmp_path) -> None:
    """Three lists identify the police list's reach (0.3) on their own, so a survey saying 0.6 is a
    conflict (about 6 standard errors) and one saying 0.3 agrees; the population route (1,600-2,500
    people x 50%) says about 1,000 and is checked against the rest."""
    rng = np.random.default_rng(20_261_123)
    counts = simulate_list_counts(1000, [0.3, 0.25, 0.2], rng=rng, log_odds_ratios={(1, 2): np.log(2)})
    counts_to_frame(counts, ["police", "ngo", "shelter"]).to_csv(tmp_path / "lists.csv", index=False)
    spec = {"lists": {"file": "lists.csv"},
            "sources": {"police": {"surveyed": 300, "reported": 180}},  # says 0.6; the lists say about 0.3
            "population": {"low": 1600, "high": 2500, "victimized": 50, "respondents": 100}}  # about 1,000
    result = fit_combined(spec, base_dir=tmp_path, seed=2)
    assert result.converged
    rows = {r[0].split(" (")[0]: r for r in conflicts(result)}
    assert rows["survey of police"][-1] == "CONFLICT" and rows["survey of police"][-2] < 0.001
    assert rows["population route"][-2] is not None  # checked against the rest (which holds the bad survey)
    assert any(w.startswith("survey of police says the capture probability of police is 60%")
               for w in result.all_warnings())
    assert {"log_odds_ratio[police:ngo]", "log_odds_ratio[ngo:shelter]", "victimization_prevalence"} <= set(result.overall.quantities)
    spec["sources"] = {"police": {"surveyed": 300, "reported": 90}}
    agree = fit_combined(spec, base_dir=tmp_path, seed=2)
    assert all(r[-1] == "agree" for r in conflicts(agree))
    low, high = agree.interval(0.95)
    assert low is not None and high is not None and low < 1000 < high


@pytest.mark.slow
def test_surveys_on_both_lists_check_each_other(tmp_path) -> None:
    """Odds ratio 3 between two lists and a survey of each: either survey identifies the dependence, so
    each can be checked against the other. Both consistent (112/300 and 86/300 near the lists' implied
    0.37 and 0.29): no conflict; the NGO survey from another population (0.7 where the truth is about
    0.29): both checks fire."""
    counts = np.array([0, 214, 125, 161])
    counts_to_frame(counts, ["police", "ngo"]).to_csv(tmp_path / "lists.csv", index=False)
    spec = {"lists": {"file": str(tmp_path / "lists.csv")},
            "sources": {"police": {"surveyed": 300, "reported": 112}, "ngo": {"surveyed": 300, "reported": 86}}}
    result = fit_combined(spec, seed=4)
    assert [r[-1] for r in conflicts(result)] == ["agree", "agree"]
    spec["sources"]["ngo"] = {"surveyed": 300, "reported": 210}
    clash = fit_combined(spec, seed=4)
    assert [r[-1] for r in conflicts(clash)] == ["CONFLICT", "CONFLICT"]


@pytest.mark.slow
def test_strata_cli_formats_and_save(run_cli, tmp_path) -> None:
    """Strata from files: the total over strata is the sum of the strata (medians add up to within 5%
    for these near-symmetric posteriors); --save and report round-trip; --no-checks keeps the table of
    what each source says alone and the example is labelled as illustrative."""
    (tmp_path / "lists.csv").write_text("police,ngo,region,count\n1,0,N,114\n0,1,N,189\n1,1,N,161\n"
                                        "1,0,S,80\n0,1,S,100\n1,1,S,60\n", encoding="utf-8")
    (tmp_path / "evidence.csv").write_text("source,surveyed,reported,region\npolice,711,195,N\npolice,300,100,S\n",
                                           encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text('by = ["region"]\n[lists]\nfile = "lists.csv"\n[evidence]\nfile = "evidence.csv"\n', encoding="utf-8")
    result = run_cli("combine", spec, "--format", "json", "--save", tmp_path / "r.nc", "--quiet")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [s["stratum"] for s in payload["strata"]] == [{"region": "N"}, {"region": "S"}]
    strata_medians = [s["total"]["median"] for s in payload["strata"]]
    assert payload["total"]["median"] == pytest.approx(sum(strata_medians), rel=0.05)
    assert "capture_probability[police]" in payload
    loaded = load_result(str(tmp_path / "r.nc"))
    assert loaded.command == "combine" and len(loaded.strata) == 2
    html = run_cli("report", tmp_path / "r.nc", "--format", "html", "--suppress-below", "100")
    assert html.exit_code == 0 and "What each source says alone" in html.stdout
    quick = run_cli("combine", "--example", "police-ngo-survey", "--no-checks", "--quiet", "--format", "json",
                    "--save", tmp_path / "quick.nc")
    assert quick.exit_code == 0
    quick_payload = json.loads(quick.stdout)
    titles = [t["title"] for t in quick_payload["details"]["tables"]]
    assert "What each source says alone" in titles and not any("Conflict check" in t for t in titles)
    alone = quick_payload["details"]["tables"][titles.index("What each source says alone")]
    assert [row[0] for row in alone["rows"]] == [
        "police (list size / survey)", "ngo (list size / survey)",
        "matched lists alone (dependence prior Normal(0, 2); not fitted with the checks off)",
        "matched lists alone, if independent (Chapman)", "all evidence combined"]
    text = run_cli("report", tmp_path / "quick.nc", "--format", "text").stdout
    assert "combine · example police-ngo-survey (police_ngo_survey.toml)" in text
    assert "illustrative example, not a real estimate: published survey (195/711)" in " ".join(text.split())
    assert "What each source says alone:" in text and "Conflict check" not in text


def test_latent_class_list_part_on_the_cli(run_cli, tmp_path) -> None:
    """``dependence = "latent-class"`` makes the latent-class model the list part of the joint model.
    The bundled police/NGO example runs end to end with it (exit 0, or 1 only if a diagnostic
    failed, never a crash) and says which model it used. With two lists the latent-class model
    cannot tell visible from hidden classes, so its lists alone are the prior's answer: the survey
    cannot be checked against them (not a false "conflict"), and without the survey a warning says
    nothing measures the dependence. The police's capture probability sits between the survey's
    (0.27) and the lists-alone answer (about 0.46), as a posterior must. With [population] or a
    log odds ratio prior the spec is refused in one line (exit 2)."""
    example = get_example("police-ngo-survey").path()
    text = example.read_text().replace('dependence = "pairwise"', 'dependence = "latent-class"')
    (tmp_path / "spec.toml").write_text(text)
    (tmp_path / "police_ngo_lists.csv").write_text((example.parent / "police_ngo_lists.csv").read_text())
    result = run_cli("combine", tmp_path / "spec.toml", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    payload = json.loads(result.stdout)
    assert payload["options"]["dependence"] == "latent-class" and payload["options"]["sampler"] == "gibbs-hmc"
    assert payload["options"]["terms"] is None and "latent-class model" in payload["description"]
    police = payload["capture_probability[police]"]["median"]
    assert 195 / 711 < police < 0.46
    (conflict,) = [row for t in payload["details"]["tables"] if t["title"].startswith("Conflict check")
            for row in lay_out(t, 0.95).rows]
    assert conflict[-1] == "cannot be checked: with 2 lists only this survey measures their dependence"
    (tmp_path / "bare.toml").write_text(text.replace("surveyed = 711", "").replace("reported = 195", ""))
    bare = json.loads(run_cli("combine", tmp_path / "bare.toml", "--no-checks", "--format", "json").stdout)
    assert any("latent-class model cannot tell visible and hidden classes apart" in w for w in bare["warnings"])
    route = text.replace("[model]", "[population]\nlow = 1500\nhigh = 3000\nvictimized = 40\nrespondents = 150\n\n[model]")
    (tmp_path / "route.toml").write_text(route.replace('unit = "incidents"', 'unit = "victims"'))
    for spec, fragment in (("route.toml", "cannot be combined with [population]"),
                           ("priors.toml", "log_odds_ratio do not apply")):
        if spec == "priors.toml":
            (tmp_path / spec).write_text(text + "\n[priors]\nlog_odds_ratio = { mu = 0.0, sigma = 1.0 }\n")
        refused = run_cli("combine", tmp_path / spec)
        assert refused.exit_code == 2 and fragment in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_latent_class_list_part_on_heterogeneous_lists(tmp_path) -> None:
    """Four lists over 2,000 people in two classes (70% hard to reach, capture 0.15-0.2; 30% easy,
    0.55-0.7), so the lists are positively dependent through heterogeneity, the latent-class model's
    own assumption. A survey of 400 drawn from the truth (police reach 0.285; it found 102) agrees
    with the rest of the evidence, and the joint 95% interval covers N (measured: 2,040 [1,815,
    2,409]; lists alone 1,883 [1,706, 2,275]). A survey from another population (240 of 400, 0.6)
    is a conflict (p about 1e-20): the lists alone put the police's reach near 0.3. Design and
    seeds fixed before the first run."""
    rng = np.random.default_rng(20_261_206)
    classes = [(0.7, [0.15, 0.2, 0.15, 0.2]), (0.3, [0.6, 0.7, 0.65, 0.55])]
    counts = simulate_list_counts(2000, None, rng=rng, classes=classes)
    reported = int(rng.binomial(400, 0.7 * 0.15 + 0.3 * 0.6))
    counts_to_frame(counts, ["police", "ngo", "shelter", "clinic"]).to_csv(tmp_path / "lists.csv", index=False)
    spec = {"lists": {"file": "lists.csv"}, "sources": {"police": {"surveyed": 400, "reported": reported}},
            "model": {"dependence": "latent-class"}}
    result = fit_combined(spec, base_dir=tmp_path, seed=3)
    assert result.converged and reported == 102
    low, high = result.interval(0.95)
    assert low is not None and high is not None and low < 2000 < high
    rows = {r[0]: r for r in table(result, "What each source says alone")["rows"]}
    assert "matched lists alone (latent classes)" in rows
    assert [r[-1] for r in conflicts(result)] == ["agree"]
    spec["sources"]["police"]["reported"] = 240
    clash = fit_combined(spec, base_dir=tmp_path, seed=3)
    assert [r[-1] for r in conflicts(clash)] == ["CONFLICT"]

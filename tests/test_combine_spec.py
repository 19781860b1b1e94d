"""The combine spec: TOML and dict give the same validated object; every bad spec gets one clear
line naming the file and key, and exit code 2 from the CLI. No sampling here (fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiddenrate.core.limits import allow_outside_paths
from hiddenrate.data.spec import DEFAULT_PRIORS, Survey, read_spec
from hiddenrate.core.exceptions import DataError

LISTS = "police,ngo,count\n1,0,114\n0,1,189\n1,1,161\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "lists.csv").write_text(LISTS, encoding="utf-8")
    return tmp_path


def write_spec(folder: Path, text: str, name: str = "spec.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_and_dict_give_the_same_spec_and_paths_are_relative_to_the_spec(folder: Path, tmp_path: Path) -> None:
    """Issue 4, input: the same spec as TOML and as a dict; 464 = 114 + 189 + 161 people on a list."""
    sub = folder / "specs"
    sub.mkdir()
    path = write_spec(sub, '[lists]\nfile = "../lists.csv"\n[sources.police]\nsurveyed = 711\nreported = 195\n')
    with allow_outside_paths():  # issue 22: a spec reads outside its folder only when allowed
        from_file = read_spec(path)
    from_dict = read_spec({"lists": {"file": "lists.csv"}, "sources": {"police": {"surveyed": 711, "reported": 195}}},
                          base_dir=folder)
    assert from_file.list_names == from_dict.list_names == ("police", "ngo")
    assert from_file.strata[0].surveys == from_dict.strata[0].surveys == {"police": Survey(711, 195)}
    assert from_file.strata[0].table is not None and from_file.strata[0].table.observed == 464
    assert from_file.terms == ((0, 1),) and from_file.dependence == "pairwise"
    assert from_file.unit == "victims" and from_file.priors == DEFAULT_PRIORS
    assert from_file.source == "spec.toml" and from_file.sha256 is not None and from_dict.sha256 is None
    assert list(from_file.files) == ["../lists.csv"]


def test_unlinked_counts_priors_population_and_dependence(folder: Path) -> None:
    """Priors merge with the defaults (an unnamed Beta parameter stays 1); unlinked counts observe at
    least the largest count (140)."""
    spec = read_spec({
        "unit": "victims",
        "sources": {"police": {"count": 100, "surveyed": 711, "reported": 195}, "ngo": {"count": 140}},
        "population": {"low": 1500, "high": 3000, "victimized": 40, "respondents": 150},
        "priors": {"capture_probability": [0.5, 0.5], "prevalence": {"alpha": 2}},
    })
    assert spec.count_sources == ("police", "ngo") and spec.list_names == ()
    assert dict(spec.strata[0].counts) == {"police": 100, "ngo": 140}
    assert spec.strata[0].observed == 140
    assert spec.priors["capture_probability"] == {"alpha": 0.5, "beta": 0.5}
    assert spec.priors["prevalence"] == {"alpha": 2.0, "beta": 1.0}
    route = spec.strata[0].population
    assert route is not None and (route.low, route.high, route.victimized, route.respondents) == (1500, 3000, 40, 150)
    independent = read_spec({"lists": {"file": "lists.csv"}, "model": {"dependence": "independent"}}, base_dir=folder)
    assert independent.terms == () and independent.dependence == "independent"
    named = read_spec({"lists": {"file": "lists.csv"}, "model": {"dependence": ["police:ngo"]}}, base_dir=folder)
    assert named.terms == ((0, 1),)


def test_strata_from_files(tmp_path: Path) -> None:
    """Per-stratum counts and surveys come from files, in order of first appearance."""
    (tmp_path / "lists.csv").write_text("police,ngo,region,count\n1,0,N,50\n0,1,N,40\n1,1,N,20\n"
                                        "1,0,S,30\n0,1,S,60\n1,1,S,10\n", encoding="utf-8")
    (tmp_path / "evidence.csv").write_text("source,count,surveyed,reported,region\npolice,,200,60,N\npolice,,150,30,S\n",
                                           encoding="utf-8")
    spec = read_spec(write_spec(tmp_path, 'by = ["region"]\n[lists]\nfile = "lists.csv"\n[evidence]\nfile = "evidence.csv"\n'))
    assert [dict(s.stratum) for s in spec.strata] == [{"region": "N"}, {"region": "S"}]
    assert [s.surveys["police"] for s in spec.strata] == [Survey(200, 60), Survey(150, 30)]
    counts = tmp_path / "counts.csv"
    counts.write_text("source,count,surveyed,reported,area\npolice,100,300,90,A\nngo,80,,,A\npolice,50,200,40,B\nngo,60,100,30,B\n",
                      encoding="utf-8")
    unlinked = read_spec({"by": "area", "evidence": {"file": str(counts)}})
    assert unlinked.count_sources == ("police", "ngo") and len(unlinked.strata) == 2
    assert dict(unlinked.strata[1].counts) == {"police": 50, "ngo": 60} and "ngo" not in unlinked.strata[0].surveys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[lists]\nfile = "lists.csv"\n[sources.police]\nsurveyd = 300\n',
         "spec.toml: [sources.police]: unknown key 'surveyd'; valid keys: count, description, reported, surveyed"),
        ('[lists]\nfile = "missing.csv"\n', "spec.toml: [lists]: file 'missing.csv' does not exist"),
        ('[lists]\nfile = "lists.csv"\n[sources.shelter]\nsurveyed = 100\nreported = 20\n',
         "spec.toml: [sources.shelter]: a survey for a source that does not exist: 'shelter' is not a matched list "
         "(the lists are police, ngo) and has no 'count'"),
        ('[sources.police]\ncount = -3\n', "spec.toml: [sources.police]: 'count' must be a whole number >= 0, got -3"),
        ('[sources.police]\ncount = 10\nsurveyed = 100\nreported = 0.27\n', "give counts (reported out of surveyed)"),
        ('[sources.police]\ncount = 10\nsurveyed = 100\nreported = 120\n', "120 reported out of 100 surveyed"),
        ('[sources.police]\ncount = 10\nsurveyed = 100\n', "'reported' is missing"),
        ('[lists]\nfile = "lists.csv"\n[sources.police]\ncount = 5\n', "'police' is a matched list"),
        ('[lists]\nfile = "lists.csv"\n[sources.hotline]\ncount = 5\n', "cannot yet be combined with matched lists"),
        ('[lists]\nfile = "lists.csv"\n[model]\ndependence = "police:shelter"\n', "unknown list 'shelter'"),
        ('colour = "red"\n[lists]\nfile = "lists.csv"\n', "spec.toml: top level: unknown key 'colour'; valid keys: by,"),
        ('unit = "people"\n[sources.police]\ncount = 1\n', "unit: must be one of victims, incidents"),
        ('[population]\nlow = 3000\nhigh = 1500\nvictimized = 1\nrespondents = 10\n[sources.p]\ncount = 1\n',
         "the lower end 3000 is above the upper end 1500"),
        ('unit = "incidents"\n[population]\nlow = 1\nhigh = 2\nvictimized = 1\nrespondents = 10\n[sources.p]\ncount = 1\n',
         "counts victims, not incidents"),
        ('[priors]\nlog_odds_ratio = { mu = 0, sigma = -1 }\n[sources.p]\ncount = 1\n',
         "[priors] log_odds_ratio: 'sigma' must be a number > 0"),
        ('title = "x"\n', "no evidence to combine"),
        ('[lists\nfile = 1\n', "spec.toml: not valid TOML"),
    ],
)
def test_bad_specs_get_one_clear_line(folder: Path, text: str, message: str) -> None:
    """Each bad spec gives one line naming the file, the key and the fix."""
    with pytest.raises(DataError) as err:
        read_spec(write_spec(folder, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_every_problem_is_reported_at_once(folder: Path) -> None:
    """All configuration errors at once (pymc-marketing style), not the first one only."""
    text = '[lists]\nfile = "lists.csv"\nfiles = 2\n[sources.police]\nsurveyd = 300\n[population]\nlow = -1\n'
    with pytest.raises(DataError) as err:
        read_spec(write_spec(folder, text))
    message = str(err.value)
    assert message.startswith("spec.toml: ")
    for part in ("[lists]: unknown key 'files'", "[sources.police]: unknown key 'surveyd'", "[population]: 'high' is missing"):
        assert part in message


def test_strata_rules(tmp_path: Path) -> None:
    """With strata a survey given once would be counted in every stratum, so it must come from a file;
    strata must match between files."""
    (tmp_path / "lists.csv").write_text("police,ngo,region,count\n1,0,N,50\n0,1,N,40\n1,1,N,20\n", encoding="utf-8")
    with pytest.raises(DataError, match="a survey given once would be counted again in every stratum"):
        read_spec({"by": ["region"], "lists": {"file": "lists.csv"}, "sources": {"police": {"surveyed": 10, "reported": 2}}},
                  base_dir=tmp_path)
    (tmp_path / "evidence.csv").write_text("source,surveyed,reported,region\npolice,10,2,X\n", encoding="utf-8")
    with pytest.raises(DataError, match="stratum region=X is not in the lists file"):
        read_spec({"by": ["region"], "lists": {"file": "lists.csv"}, "evidence": {"file": "evidence.csv"}}, base_dir=tmp_path)
    (tmp_path / "counts.csv").write_text("source,count\npolice,5\n", encoding="utf-8")
    with pytest.raises(DataError, match="counts.csv: no column 'region'"):
        read_spec({"by": ["region"], "evidence": {"file": "counts.csv"}}, base_dir=tmp_path)


def test_cli_bad_specs_exit_2_with_one_line(run_cli, folder: Path) -> None:
    """Issue 4: missing files, a survey for a source that does not exist and negative counts (in the spec,
    in the lists file, in the evidence file) each give one line on stderr, nothing on stdout, exit 2."""
    (folder / "negative.csv").write_text("police,ngo,count\n1,0,-5\n0,1,10\n1,1,3\n", encoding="utf-8")
    (folder / "evidence.csv").write_text("source,count,surveyed,reported\npolice,-4,10,2\nngo,5,,\n", encoding="utf-8")
    (folder / "unknown.csv").write_text("source,surveyed,reported\nshelter,10,2\n", encoding="utf-8")
    (folder / "negative_survey.csv").write_text("source,surveyed,reported\npolice,300,-5\n", encoding="utf-8")
    cases = {
        "missing file": (write_spec(folder, '[lists]\nfile = "nowhere.csv"\n', "a.toml"),
                         "'nowhere.csv' does not exist"),
        "unknown source": (write_spec(folder, '[lists]\nfile = "lists.csv"\n[sources.shelter]\nsurveyed = 9\n'
                                      'reported = 1\n', "b.toml"), "a survey for a source that does not exist: 'shelter'"),
        "negative count": (write_spec(folder, '[sources.police]\ncount = -1\nsurveyed = 10\nreported = 1\n', "c.toml"),
                           "'count' must be a whole number >= 0, got -1"),
        "negative cell in the lists file": (write_spec(folder, '[lists]\nfile = "negative.csv"\n', "d.toml"),
                                            "negative.csv, line 2, column 'count': -5 is not allowed"),
        "negative count in the evidence file": (write_spec(folder, '[evidence]\nfile = "evidence.csv"\n', "e.toml"),
                                                "evidence.csv, line 2, column 'count': -4 is not allowed"),
        # one message per mistake: the refused value is not also called missing (issue 4 audit)
        "negative reported in the evidence file": (
            write_spec(folder, '[evidence]\nfile = "negative_survey.csv"\n', "h.toml"),
            "negative_survey.csv, line 2, column 'reported': -5 is not allowed; it must be a whole number >= 0"),
        "missing evidence file": (write_spec(folder, '[evidence]\nfile = "gone.csv"\n', "f.toml"),
                                  "'gone.csv' does not exist"),
        "unknown source in the evidence file": (
            write_spec(folder, '[lists]\nfile = "lists.csv"\n[evidence]\nfile = "unknown.csv"\n', "g.toml"),
            "[evidence]: a survey for a source that does not exist: 'shelter'"),
    }
    for name, (path, message) in cases.items():
        result = run_cli("combine", path)
        assert result.exit_code == 2, name
        assert result.stdout == "", name
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"hiddenrate: error: {path.name}: "), (name, result.stderr)
        assert message in lines[0], (name, lines[0])
        assert " | " not in lines[0] and "is missing" not in lines[0], (name, lines[0])
    result = run_cli("combine", folder / "no-such-spec.toml")
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = run_cli("combine", "--example", "vancouver")
    assert result.exit_code == 2 and "is for `hiddenrate reporting`" in result.stderr

"""Models of lists in plain words beside their notation (issue 23): ``LA:NG:GP + GO:GP + PF`` is for
statisticians; "LA, NG and GP may all depend on one another; ..." is for everyone else.

The models say which model a row is as data (``facts["models"]`` of a table, ``structure`` of a
``model_sensitivity`` or ``top_graphs`` row, ``extra["model_structure"]`` for the --model choice);
:mod:`hiddenrate.render.model_words` says it in words, and every format shows the words beside the
notation, never instead of it.
"""

from __future__ import annotations

import html
import io
import json

import pandas as pd
import pytest

from hiddenrate.core.design import model_label, model_structure, parse_terms
from hiddenrate.models.lists.bma import graph_label, graph_structure
from hiddenrate.render.model_words import (
    AVERAGING,
    INDEPENDENCE,
    dependence_words,
    heterogeneity_words,
    latent_class_words,
    model_words,
    row_words,
)

UK = ("LA", "NG", "PF", "GO", "GP", "NCA")


# ------------------------------------------------------------------ the words, and why they are right


def test_a_clique_of_three_may_all_depend_on_one_another_and_pairs_are_named_as_pairs() -> None:
    """The best UK 2013 graph: two 3-cliques (any association among their lists, three at a time
    included) and two pairs (that pair, nothing more). "may": the model allows the dependence and
    the data say how strong it is, as the table's legend says."""
    terms = [["LA", "NG", "GP"], ["LA", "PF", "GP"], ["GO", "GP"], ["PF", "NCA"]]
    assert dependence_words(UK, terms) == ("LA, NG and GP may all depend on one another; so may LA, PF and GP; "
                                           "pairs that may depend on each other: GO with GP, PF with NCA")


def test_a_list_in_no_term_is_independent_of_the_others_and_said_so_without_may() -> None:
    """GO in no clique: the graph has no edge at GO, so GO is independent of every other list; that
    is assumed, not allowed, so no "may"."""
    words = dependence_words(UK, [["LA", "NG", "GP"], ["LA", "PF", "GP"], ["PF", "NCA"]])
    assert words.endswith("PF and NCA may depend on each other; GO independent of the other lists")
    two_alone = dependence_words(("c1", "c2", "c3", "c4"), [["c1", "c2"]])
    assert two_alone == "c1 and c2 may depend on each other; c3 and c4 each independent of the other lists"


def test_no_term_is_independence() -> None:
    assert dependence_words(UK, []) == INDEPENDENCE == "every list independent of the others"
    assert model_words(model_structure((), UK)) == INDEPENDENCE


def test_a_triangle_of_pairs_is_three_pairs_not_a_clique() -> None:
    """A:B + A:C + B:C without A:B:C has no three-way term: the lists are associated two at a time
    only, so the words must not say "all depend on one another" (a clique would)."""
    triangle = dependence_words(("A", "B", "C", "D"), [["A", "B"], ["A", "C"], ["B", "C"]])
    assert "all depend" not in triangle
    assert triangle == "pairs that may depend on each other: A with B, A with C, B with C; D independent of the other lists"
    assert dependence_words(("A", "B", "C"), [["A", "B"], ["A", "C"], ["B", "C"]]) == (
        "every pair of lists may depend on each other (two at a time only)")
    assert dependence_words(("A", "B", "C"), [["A", "B", "C"]]) == "A, B and C may all depend on one another"


def test_terms_inside_a_larger_term_add_nothing() -> None:
    """A hierarchical model written out in full (``A:B + A:C + B:C + A:B:C``, as ``--terms A:B:C``
    gives it) is the one term A:B:C; a repeated term counts once."""
    names = ("A", "B", "C", "D")
    terms = parse_terms("A:B:C", names)
    assert model_label(terms, names) == "A:B + A:C + B:C + A:B:C"
    assert model_words(model_structure(terms, names)) == (
        "A, B and C may all depend on one another; D independent of the other lists")
    assert dependence_words(names, [["A", "B"], ["B", "A"]]) == (
        "A and B may depend on each other; C and D each independent of the other lists")


def test_list_names_are_taken_as_they_are() -> None:
    """Names are data (any column name, "+" and ":" included): the words take them whole, which a
    parser of the notation could not."""
    names = ("police: met", "ngo+shelter", "nhs")
    assert dependence_words(names, [["police: met", "ngo+shelter"]]) == (
        "police: met and ngo+shelter may depend on each other; nhs independent of the other lists")


@pytest.mark.parametrize("name, family, spread", [
    ("mh-chao", "every list is as likely as the others", "Chao's lower bound, whatever the spread of visibility"),
    ("mh-poisson2", "every list is as likely as the others", "a set shape (Poisson2)"),
    ("mh-darroch", "every list is as likely as the others", "assumed normal (Darroch)"),
    ("mh-gamma3.5", "every list is as likely as the others", "gamma-shaped (Gamma3.5; the largest totals)"),
    ("mth-chao", "lists differ in how many people they record", "Chao's lower bound"),
    ("mth-poisson2", "lists differ in how many people they record", "(Poisson2)"),
    ("mth-darroch", "lists differ in how many people they record", "(Darroch)"),
    ("mth-gamma3.5", "lists differ in how many people they record", "(Gamma3.5; the largest totals)"),
])
def test_heterogeneity_models_in_words(name: str, family: str, spread: str) -> None:
    """Mh: people differ in visibility, lists alike; Mth: lists differ too. The term says how the spread
    of visibility is assumed to look; Chao's bound assumes no shape (it is a lower bound whatever it is)."""
    words = heterogeneity_words(name)
    assert words is not None and words.startswith("people differ in how visible they are, and ")
    assert family in words and spread in words
    assert model_words({"heterogeneity": name}) == words


def test_other_structures_and_anything_else() -> None:
    assert model_words({"averaging": "decomposable"}) == AVERAGING
    assert model_words({"latent_classes": 3}) == latent_class_words(3)
    assert "3 groups" in latent_class_words(3) and "groups that differ" in latent_class_words(None)
    for nothing in (None, "LA:NG", {}, {"heterogeneity": "mt"}, {"terms": "LA:NG"}):
        assert model_words(nothing) is None
    assert heterogeneity_words("chapman") is None
    assert row_words([{"terms": [], "lists": ["A", "B"]}, None], 2) == [INDEPENDENCE, None]
    assert row_words([{"terms": [], "lists": ["A", "B"]}], 2) == [None, None]  # not one a row: no words, never shifted
    assert row_words(None, 3) == [None, None, None]


def test_the_models_structures_follow_their_notation() -> None:
    """The structure lists the terms (cliques) in the order the notation writes them, so the words
    read in the same order as the notation beside them."""
    edges = ((0, 1), (0, 4), (1, 4), (0, 2), (2, 4), (3, 4), (2, 5))
    label = graph_label(edges, UK)
    structure = graph_structure(edges, UK)
    assert label == "LA:NG:GP + LA:PF:GP + GO:GP + PF:NCA"
    assert " + ".join(":".join(t) for t in structure["terms"]) == label and structure["lists"] == list(UK)
    assert graph_structure((), UK) == {"lists": list(UK), "terms": []} and graph_label((), UK) == "independence"
    alone = graph_structure(((0, 1),), ("A", "B", "C"))
    assert graph_label(((0, 1),), ("A", "B", "C")) == "A:B + C" and alone["terms"] == [["A", "B"]]
    terms = ((0, 1), (2, 5))
    assert " + ".join(":".join(t) for t in model_structure(terms, UK)["terms"]) == model_label(terms, UK)


# ------------------------------------------------------------------ every format, on the UK 2013 example


@pytest.fixture(scope="module")
def uk(tmp_path_factory):
    """The UK 2013 example fitted once (JSON, saved); the other formats re-render the saved result."""
    from click.testing import CliRunner

    from hiddenrate.cli import cli

    path = tmp_path_factory.mktemp("words") / "uk.nc"
    result = CliRunner().invoke(cli, ["lists", "--example", "uk-2013", "--quiet", "--format", "json", "--save",
                                      str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path, json.loads(result.stdout)


BEST = "LA:NG:GP + LA:PF:GP + GO:GP + PF:NCA"
BEST_WORDS = ("LA, NG and GP may all depend on one another; so may LA, PF and GP; pairs that may depend on each "
              "other: GO with GP, PF with NCA")
BIC = "LA:NG + LA:PF + NG:GP + PF:GP + PF:NCA + GO:GP"
BIC_WORDS = ("pairs that may depend on each other: LA with NG, LA with PF, NG with GP, PF with GP, PF with NCA, "
             "GO with GP")
CHAO_WORDS = heterogeneity_words("mth-chao")


def test_json_carries_the_words_beside_the_notation_never_instead(uk) -> None:
    _, payload = uk
    details = payload["details"]
    graphs = details["tables"][0]
    assert graphs["title"].startswith("Most probable models")
    assert graphs["rows"][0][0] == BEST and graphs["model_words"][0] == BEST_WORDS  # one a row, in row order
    assert len(graphs["model_words"]) == len(graphs["rows"]) and all(graphs["model_words"])
    assert list(details["top_graphs"][0])[:2] == ["model", "model_words"]
    assert details["top_graphs"][0]["model"] == BEST and details["top_graphs"][0]["model_words"] == BEST_WORDS
    rows = {r["model"]: r["model_words"] for r in details["model_sensitivity"]}
    assert rows[f"best BIC: {BIC}"] == BIC_WORDS
    assert rows["heterogeneity, best BIC: Mth Chao (LB) (eta3, eta5, eta6 set to 0)"] == CHAO_WORDS
    assert rows["independence (log-linear)"] == INDEPENDENCE
    assert rows["model averaging (decomposable graphs; this fit)"] == AVERAGING
    assert rows["2 log-linear models within 2 BIC of the best"] is None  # a range of models is no one model
    sensitivity = next(t for t in details["tables"] if t["title"].startswith("Model sensitivity"))
    assert [r[0] for r in sensitivity["rows"]] == list(rows) and sensitivity["model_words"] == list(rows.values())
    assert "model_words" not in payload  # bma: the --model choice fixes no one model


def test_text_puts_each_models_words_under_its_notation_within_100_columns(uk, run_cli) -> None:
    path, _ = uk
    text = run_cli("report", path, "--format", "text").stdout
    assert max(len(line) for line in text.splitlines()) <= 100
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(f"  {BEST} "))
    under = []  # the lines under the row, up to the next row (whose notation starts at column 3)
    for line in lines[row + 1:]:
        if not line.startswith("    "):
            break
        under.append(line)
    assert under[0].startswith("    = LA, NG and GP") and all(line.startswith("      ") for line in under[1:])
    assert " ".join(line.strip() for line in under) == f"= {BEST_WORDS}"
    assert not any(line.rstrip().endswith(" with") for line in under)  # "GO with GP" is never split
    table = text[text.index("Model sensitivity"):text.index("Diagnostics:")]
    flat = " ".join(line.strip() for line in table.splitlines())
    assert f"= {BIC_WORDS}" in flat and f"= {CHAO_WORDS}" in flat and f"= {INDEPENDENCE}" in flat
    assert "best BIC: LA:NG + LA:PF + NG:GP" in table  # the notation stays


def test_markdown_and_html_have_an_in_words_column_beside_the_notation(uk, run_cli, tmp_path) -> None:
    path, _ = uk
    markdown = run_cli("report", path, "--format", "markdown").stdout
    assert "| model (cliques) | in words | posterior probability |" in markdown
    assert f"| {BEST} | {BEST_WORDS} | 0.397 |" in markdown
    assert "| model | in words | estimate | 95% lower | 95% upper | how |" in markdown
    assert f"| best BIC: {BIC} | {BIC_WORDS} | 12,342 |" in markdown
    page = tmp_path / "uk.html"
    assert run_cli("report", path, "-o", page, "--quiet").exit_code == 0
    body = page.read_text(encoding="utf-8")
    assert '<th scope="col">model (cliques)</th><th scope="col">in words</th>' in body
    assert f"<td>{html.escape(BEST)}</td><td>{html.escape(BEST_WORDS)}</td>" in body
    assert f"<td>{html.escape(CHAO_WORDS)}</td>" in body


def test_csv_table_has_the_words_column(uk, run_cli) -> None:
    path, _ = uk
    result = run_cli("report", path, "--format", "csv", "--table", "most probable")
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns) == ["model (cliques)", "in words", "posterior probability"]
    assert frame.iloc[0].tolist()[:2] == [BEST, BEST_WORDS]


# ------------------------------------------------------------------ the --model choice, in the Model block


@pytest.mark.parametrize("args, words", [
    (["--model", "mth-chao"], CHAO_WORDS),
    (["--model", "loglinear", "--terms", "c1:c2"],
     "c1 and c2 may depend on each other; c3 and c4 each independent of the other lists"),
    (["--model", "independence"], INDEPENDENCE),
])
def test_the_model_the_choice_fixes_is_in_words_in_every_format(run_cli, args, words) -> None:
    """A heterogeneity model's name and a --terms model's notation are in the Model block; the words
    follow them (text, Markdown) and are ``model_words`` after ``model_name`` in JSON."""
    base = ["lists", "--example", "hiv-rome", "--quiet", "--no-sensitivity", *args]
    text = run_cli(*base).stdout
    block = " ".join(line.strip() for line in text[text.index("Model: "):text.index("Assumptions:")].splitlines())
    assert f"In words: {words}." in block
    assert f"In words: {words}." in run_cli(*base, "--format", "markdown").stdout
    payload = json.loads(run_cli(*base, "--format", "json").stdout)
    assert payload["model_words"] == words and list(payload).index("model_words") == list(payload).index("model_name") + 1


def test_a_model_chosen_by_the_data_gets_its_words_in_its_table_not_in_the_model_block(run_cli) -> None:
    """loglinear without --terms chooses by BIC: the chosen model's words are in the ranking table,
    beside its notation, and after the chosen ``terms`` in the JSON details; the Model block names no
    one model, so it has no words."""
    result = run_cli("lists", "--example", "lesbian-allegheny", "--quiet", "--no-sensitivity", "--model", "loglinear",
                     "--format", "json")
    payload = json.loads(result.stdout)
    assert "model_words" not in payload
    chosen = "pairs that may depend on each other: A with B, A with D, B with C, B with D, C with D"
    ranked = payload["details"]["tables"][0]
    assert ranked["rows"][0][0] == "A:B + A:D + B:C + B:D + C:D" and ranked["model_words"][0] == chosen
    details = payload["details"]
    assert details["terms"] == "A:B + A:D + B:C + B:D + C:D" and details["model_words"] == chosen
    assert list(details).index("model_words") == list(details).index("terms") + 1
    assert "every pair of lists may depend on each other (two at a time only)" in ranked["model_words"]

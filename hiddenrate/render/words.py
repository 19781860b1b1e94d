"""Plain-language pieces shared by the text, Markdown and HTML renderers.

Every count a renderer prints about an estimate goes through :func:`count_text` or
:func:`observed_text`, which honour the publication-safety plan of a suppressed result
(:func:`hiddenrate.analysis.suppression.suppress_result`): a count below the threshold reads ``<k``, a
count hidden to protect others reads ``hidden``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hiddenrate.core.distributions import Interval
from hiddenrate.core.settings import DEFAULT_TUNE, longer_sampling
from hiddenrate.render import numbers as fmt
from hiddenrate.result.value import Result, StratumEstimate
from hiddenrate.render.tables import report_level

#: the source name the reporting reader uses when the data name none
_DEFAULT_SOURCE = "records"
#: what a number derived from a hidden count shows (as hiddenrate.analysis.suppression.SECONDARY)
_HIDDEN = "hidden"


# ------------------------------------------------------------------ publication safety


def suppression(result: Result) -> Mapping[str, Any] | None:
    """The suppression plan recorded in ``result`` (``None`` when nothing is hidden)."""
    plan = result.extra.get("suppression") if isinstance(result.extra, Mapping) else None
    return plan if isinstance(plan, Mapping) else None


def suppression_note(result: Result) -> str | None:
    """The sentence saying that counts are hidden, and below which threshold."""
    plan = suppression(result)
    return str(plan["note"]) if plan else None


def observed_mark(result: Result, estimate: StratumEstimate) -> str | None:
    """The marker shown instead of ``estimate``'s observed count, or ``None`` if it is shown."""
    plan = suppression(result)
    if not plan:
        return None
    mark = dict(plan.get("hidden_observed", {})).get(estimate.label)
    return str(mark) if mark is not None else None


def count_text(result: Result, value: float | None) -> str:
    """A count of people: ``12,315``; ``<5`` when suppressed below 5."""
    plan = suppression(result)
    if plan and value is not None and value < plan["below"]:
        return str(plan["marker"])
    return fmt.count(value)


def observed_text(result: Result, estimate: StratumEstimate) -> str:
    """The observed count of ``estimate`` as printed (or its marker)."""
    return observed_mark(result, estimate) or count_text(result, estimate.observed)


def interval_text(result: Result, ends: Interval, formatter: Callable[[float | None], str] | None = None) -> str:
    """``10,233 to 26,195`` with suppression applied to counts."""
    return fmt.interval(ends, formatter or (lambda v: count_text(result, v)))


# ------------------------------------------------------------------ who was counted, and how


def people(result: Result) -> str:
    """What is counted: the unit if given, else 'people'."""
    return result.unit or "people"


def _source_name(result: Result) -> str | None:
    """The one named source of a reporting result (``police``), if there is exactly one."""
    sources = result.input.get("sources") if isinstance(result.input, Mapping) else None
    if isinstance(sources, list) and len(sources) == 1 and str(sources[0]).lower() != _DEFAULT_SOURCE:
        return str(sources[0])
    return None


def unlinked_sources(result: Result) -> bool:
    """Several sources' counts that are not matched: their overlap is unknown.

    The observed count is then the largest source's count (the fewest that can have been
    recorded), so "hidden" is the number not in that source's count, and the share never
    recorded by any source is at most 1 - observed share.
    """
    if not isinstance(result.input, Mapping) or result.input.get("format") != "reporting":
        return False
    sources = result.input.get("sources")
    return isinstance(sources, list) and len(sources) > 1


def observed_phrase(result: Result) -> str:
    """How the observed were observed: on a list, caught, or recorded (by a named source)."""
    kind = result.input.get("format") if isinstance(result.input, Mapping) else None
    if unlinked_sources(result):
        return "recorded by the largest source"
    if kind == "lists":
        return "on at least one list"
    if kind == "number of captures":
        return "caught at least once"
    source = _source_name(result)
    return f"recorded by {source}" if source else "recorded"


def observed_clause(result: Result, estimate: StratumEstimate) -> str:
    """First sentence: ``2,744 people were on at least one list.`` / ``Police recorded 100 incidents.``"""
    noun = people(result)
    mark = observed_mark(result, estimate)
    source = _source_name(result)
    kind = result.input.get("format") if isinstance(result.input, Mapping) else None
    if mark is not None:
        plan = suppression(result) or {}
        amount = f"Fewer than {plan.get('below')}" if mark == plan.get("marker") else "An undisclosed number of"
        if kind == "reporting" and source:
            return f"{source[:1].upper()}{source[1:]} recorded {amount.lower()} {noun} (hidden for publication safety)."
        return f"{amount} {noun} were {observed_phrase(result)} (hidden for publication safety)."
    count = fmt.count(estimate.observed)
    if kind == "reporting" and source:
        return f"{source[:1].upper()}{source[1:]} recorded {count} {noun}."
    if unlinked_sources(result):
        return (f"The largest source recorded {count} {noun}; the sources' counts are not matched, so how many "
                "are on more than one is unknown.")
    return f"{count} {noun} were {observed_phrase(result)}."


def headline_rows(result: Result, estimate: StratumEstimate) -> list[tuple[str, str, list[str]]]:
    """(label, value, [interval per level]) rows of the headline table."""
    rows: list[tuple[str, str, list[str]]] = []
    noun = people(result)
    rows.append((f"Observed ({noun} {observed_phrase(result)})", observed_text(result, estimate), []))
    if estimate.total is None:
        return rows
    hidden_mark = observed_mark(result, estimate)

    def counts(value: float | None) -> str:
        return count_text(result, value)

    several = unlinked_sources(result)
    labels: dict[str, tuple[str, Callable[[float | None], str]]] = {
        "total": ("Estimated total", counts),
        "hidden": ("Not in the largest source's count" if several else "Never recorded (hidden)", counts),
        "observed_share": ("Share in the largest source" if several else "Share recorded", fmt.share),
    }
    for name, (label, formatter) in labels.items():
        dist = estimate.quantity(name)
        if dist is None:
            continue
        if hidden_mark is not None and name != "total":
            rows.append((label, _HIDDEN, [_HIDDEN for _ in result.levels]))
            continue
        intervals = [fmt.interval(dist.interval(level, result.interval_kind), formatter) for level in result.levels]
        rows.append((label, formatter(dist.median()), intervals))
    return rows


# ------------------------------------------------------------------ heterogeneity (hiddenrate.analysis.heterogeneity)


def heterogeneity(estimate: StratumEstimate) -> Mapping[str, Any] | None:
    """The numbers of the heterogeneity check when it fired on ``estimate`` (else None)."""
    found = estimate.details.get("heterogeneity") if isinstance(estimate.details, Mapping) else None
    return found if isinstance(found, Mapping) and found.get("fired") else None


def at_least(result: Result, estimate: StratumEstimate) -> tuple[float, float] | None:
    """The headline policy's lower bound and its level: the lower end of Chao's interval at the
    report's level (or the check's own level when the report's was not computed)."""
    found = heterogeneity(estimate)
    policy = found.get("policy") if found else None
    if not isinstance(policy, Mapping):
        return None
    lowers = {float(key): value for key, value in dict(policy.get("lower", {})).items()}
    for level in (report_level(result), float(found.get("level", 0.95))):  # type: ignore[union-attr]
        for key, value in lowers.items():
            if abs(key - level) < 1e-9 and value is not None:
                return float(value), level
    return None


def heterogeneity_alert(result: Result) -> str | None:
    """The warning every format puts first when the heterogeneity check fired (on the total or a stratum)."""
    fired = [e for e in (result.overall, *result.strata) if heterogeneity(e)]
    if not fired:
        return None
    found = heterogeneity(fired[0]) or {}
    why = []
    if found.get("misfit"):
        why.append(f"it does not reproduce how many {people(result)} are on one, two, three ... lists")
    if found.get("below_bound"):
        why.append("its whole interval lies below Chao's lower bound")
    # a misfit alone can also come from lists that depend on each other; an estimate below the bound cannot
    also = "" if found.get("below_bound") else ", or the lists depend on each other,"
    named = ["the total" if e is result.overall else e.label for e in fired]
    where = f" (in {', '.join(named)})" if result.strata else ""
    bound = at_least(result, fired[0])
    floor = "" if bound is None else (f" The total is at least {count_text(result, bound[0])} (the {fmt.level(bound[1])} "
                                      "lower end of Chao's lower bound) and may be far higher.")
    return (f"Warning{where}: {people(result)} differ in how likely they are to be recorded{also} in ways the model "
            f"does not allow for: {' and '.join(why)}.{floor} What would help: more lists, --model latent-class, or a "
            f"survey of how often {people(result)} are recorded, through hiddenrate combine.")


def heterogeneity_line(result: Result, estimate: StratumEstimate) -> str | None:
    """What the heterogeneity check found, in one line for the diagnostics (whether or not it fired)."""
    found = estimate.details.get("heterogeneity") if isinstance(estimate.details, Mapping) else None
    if not isinstance(found, Mapping):
        return None
    parts = []
    if found.get("p_value") is not None:
        verb = "does not reproduce" if found.get("misfit") else "reproduces"
        parts.append(f"the model {verb} how many {people(result)} are on one, two, three ... lists "
                     f"(p = {float(found['p_value']):.2g}; {found.get('reference')})")
    chao = found.get("chao")
    if isinstance(chao, Mapping):  # at the report's level when it was computed there, else the check's
        intervals = {float(key): ends for key, ends in dict(chao.get("intervals", {})).items()}
        level = next((x for x in intervals if abs(x - report_level(result)) < 1e-9), float(found.get("level", 0.95)))
        ends = intervals.get(level, [None, None])
        parts.append(f"Chao's lower bound is {count_text(result, chao.get('total'))} ({fmt.level(level)} interval "
                     f"{interval_text(result, (ends[0], ends[1]))})")
    if not parts:
        return None
    verdict = ("FIRED (see the warning at the top)" if found.get("fired")
               else f"no sign that {people(result)} differ in visibility beyond what the model allows")
    return f"Heterogeneity check: {verdict}: " + "; ".join(parts) + "."


def _policy_sentence(result: Result, estimate: StratumEstimate, observed: str, span: str) -> str | None:
    """The summary sentence under the headline policy: "at least" Chao's bound, then the model's estimate."""
    bound = at_least(result, estimate)
    if bound is None or estimate.total is None:
        return None
    text = (f"{observed} {people(result).capitalize()} differ in how likely they are to be recorded, so we can say only that there are at "
            f"least {count_text(result, bound[0])} in all ({fmt.level(bound[1])} lower end of Chao's lower bound), "
            f"possibly far more: data like these cannot say how many more without an assumption about the {people(result)} "
            f"no list reaches. The model's estimate, "
            f"{count_text(result, estimate.total.median())} ({span}), does not allow for these differences")
    latent = (heterogeneity(estimate) or {}).get("latent_class")
    if isinstance(latent, Mapping) and latent.get("estimate") is not None:
        ends = interval_text(result, (latent.get("lower"), latent.get("upper")))
        text += (f"; the latent-class model, which allows for some, gives {count_text(result, latent['estimate'])} "
                 f"({fmt.level(float(latent.get('level', 0.95)))} interval {ends})")
    return text + "."


def sentence(result: Result, estimate: StratumEstimate) -> str:
    """One plain sentence: observed, estimate with interval, share never recorded (or, when the
    heterogeneity check fired, the headline policy: "at least" Chao's lower bound)."""
    observed = observed_clause(result, estimate)
    if estimate.total is None:
        return f"{observed} No estimate of the total: {estimate.reason}."
    level = report_level(result)
    total = estimate.total
    lower, upper = total.interval(level, result.interval_kind)
    share = estimate.quantity("observed_share")
    share_median = share.median() if share is not None else None
    never = None if share_median is None else 1 - float(share_median)
    if observed_mark(result, estimate) is not None:
        never = None
    if upper is None:
        span = f"at least {count_text(result, lower)}, with no upper bound from the data"
    else:
        span = f"{fmt.level(level)} interval {count_text(result, lower)} to {count_text(result, upper)}"
    policy = _policy_sentence(result, estimate, observed, span)
    if policy is not None:
        return policy
    text = f"{observed} We estimate {count_text(result, total.median())} in all ({span})"
    if never is not None and unlinked_sources(result):
        text += f"; at most about {fmt.share(never)} were recorded by no source."
    elif never is not None:
        text += f"; about {fmt.share(never)} were never recorded."
    else:
        text += "."
    return text


def stratum_rows(result: Result, level: float | None = None) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of the by-stratum table (observed, total, interval, share recorded)."""
    level = level if level is not None else report_level(result)
    columns = ["stratum", "observed", "total", f"{fmt.level(level)} interval", "share recorded", "converged"]
    rows = []
    for stratum in [*result.strata, result.overall]:
        label = stratum.label if stratum is not result.overall else "total"
        converged = "yes" if stratum.diagnostics.converged else "NO"
        if stratum.total is None:
            rows.append([label, observed_text(result, stratum), "no estimate", stratum.reason or "", "", "—"])
            continue
        share = stratum.quantity("observed_share")
        mark = observed_mark(result, stratum)
        rows.append(
            [
                label,
                observed_text(result, stratum),
                count_text(result, stratum.total.median()),
                interval_text(result, stratum.total.interval(level, result.interval_kind)),
                _HIDDEN if mark is not None else (fmt.share(share.median()) if share is not None else ""),
                converged,
            ]
        )
    return columns, rows


def diagnostics_line(estimate: StratumEstimate) -> str:
    """Diagnostics in one line."""
    d = estimate.diagnostics
    parts = [d.method]
    if d.rhat_max is not None:
        parts.append(f"R-hat max {d.rhat_max:.3f}")
    if d.ess_bulk_min is not None and d.rhat_max is not None:
        parts.append(f"ESS min {d.ess_bulk_min:,.0f} (bulk) / {d.ess_tail_min or 0:,.0f} (tail)")
    if d.divergences is not None:
        parts.append(f"{d.divergences} divergences")
    status = "converged" if d.converged else "DID NOT CONVERGE"
    return f"{'; '.join(parts)} — {status}"


def diagnostics_words(result: Result) -> str:
    """What the diagnostics mean for a reader, in one or two sentences."""
    if not result.converged:
        return (
            "The computation did NOT pass its checks: the numbers above may be wrong. Do not publish them as they "
            "stand; the messages below say what failed."
        )
    method = result.overall.diagnostics.method.lower()
    if result.overall.diagnostics.rhat_max is not None or "nuts" in method or "chains" in method:
        return (
            "The sampler passed its checks (chains agree, enough independent draws, no divergences): the numbers "
            "are as reliable as the model behind them."
        )
    return "The numbers were computed exactly or in closed form: there is no sampling error to check."


def next_sampling(result: Result) -> dict[str, int] | None:
    """The MCMC settings to try when a sampled fit failed its checks: :func:`~hiddenrate.core.settings.longer_sampling`
    of the longest failed run (its draws and tuning as recorded, after the sampler's own remedy; the
    tuning the result was asked for when the sampler did not record it). None when no failed fit sampled."""
    failed = [e.diagnostics for e in (result.overall, *result.strata)
              if not e.diagnostics.converged and e.diagnostics.draws is not None]
    if not failed:
        return None
    asked = result.options.get("tune") if isinstance(result.options, Mapping) else None
    tune = max(d.tune if d.tune is not None else int(asked or DEFAULT_TUNE) for d in failed)
    return longer_sampling(max(int(d.draws or 0) for d in failed), tune, min(int(d.chains or 1) for d in failed))


def rerun_words(result: Result) -> str | None:
    """What to try when a sampled fit failed its checks, e.g. ``Try longer chains: run the fit again
    with --draws 4000 --tune 4000 ...``; None when longer chains are not the remedy (no failed fit sampled)."""
    settings = next_sampling(result)
    if settings is None:
        return None
    options = " ".join(f"--{name} {value}" for name, value in settings.items())
    given = ", ".join(f'"{name}": {value}' for name, value in settings.items())
    return f"Try longer chains: run the fit again with {options} (from Python, sampling={{{given}}})."


def reported(result: Result) -> str:
    """What the numbers are: estimate type and interval type (with its kind for posteriors)."""
    if result.estimate_type.startswith("posterior"):
        return f"{result.estimate_type}; {result.interval_kind} {result.interval_type}"
    return f"{result.estimate_type}; {result.interval_type}"


def prior_text(spec: Any) -> str:
    """A prior's specification in words: ``value=0.03, meaning=...`` -> ``0.03 (meaning)``."""
    if isinstance(spec, Mapping):
        meaning = spec.get("meaning")
        rest = ", ".join(f"{k} = {_plain(v)}" for k, v in spec.items() if k != "meaning")
        return f"{rest} ({meaning})" if meaning and rest else str(meaning or rest)
    return _plain(spec)


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} = {_plain(v)}" for k, v in value.items())
    return str(value)


# ------------------------------------------------------------------ claims


def claims(result: Result) -> list[Mapping[str, Any]]:
    """Claim checks attached to ``result`` by :func:`hiddenrate.analysis.claims.annotate_claims`."""
    checks = result.extra.get("claims") if isinstance(result.extra, Mapping) else None
    return [c for c in checks if isinstance(c, Mapping)] if isinstance(checks, list) else []


def claim_lines(result: Result) -> list[str]:
    """Each claim check's verdict (and rate sentence) as plain sentences, with the sensitivity rows that
    change the verdict (lines indented by two spaces belong to the line before them) and a pointer to
    the report's serious warnings."""
    from hiddenrate.render.claims import claim_lines as check_lines

    return [line for check in claims(result) for line in check_lines(check, caveats=False)]


# ------------------------------------------------------------------ the input


def input_sections(result: Result) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """The input summary as tables: ``(title, columns, rows, note)``; aggregates only.

    Lists: list sizes and overlaps between lists (per stratum), and people by capture pattern.
    Number-of-captures data: people by how often they were caught. Reporting data: recorded
    counts and surveys. Suppressed counts appear as their markers.
    """
    summary = result.input if isinstance(result.input, Mapping) else {}
    kind = summary.get("format")
    if kind == "lists":
        return _list_sections(summary)
    if kind == "number of captures":
        frequencies = dict(summary.get("frequencies", {}))
        rows = [[f"caught {times} time{'s' if str(times) != '1' else ''}", _cell(count)] for times, count in frequencies.items()]
        return [("People by how often they were caught", ["captures", people(result)], rows, None)]
    if kind == "reporting":
        return _reporting_sections(summary, people(result))
    return []


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return fmt.number(value)


def _list_sections(summary: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    from hiddenrate.analysis.suppression import pair_overlaps

    names = [str(n) for n in summary.get("lists", [])]
    tables = [t for t in summary.get("tables", []) if isinstance(t, Mapping)]
    if not names or not tables:
        return []
    labels = [", ".join(f"{k}={v}" for k, v in dict(t.get("stratum", {})).items()) or "all" for t in tables]
    single = len(tables) == 1
    sizes_columns = ["list", *(["people on the list"] if single else labels)]
    sizes = [[name, *(_cell(dict(t.get("list_sizes", {})).get(name)) for t in tables)] for name in names]
    sizes.append(["on at least one list", *(_cell(t.get("observed")) for t in tables)])
    overlaps = [dict(t.get("pair_overlaps") or pair_overlaps(dict(t.get("cells", {})), names)) for t in tables]
    pairs = list(overlaps[0].keys())
    overlap_rows = [[pair, *(_cell(o.get(pair)) for o in overlaps)] for pair in pairs]
    zero = [
        (f"{label}: " if not single else "") + ", ".join(" & ".join(p) for p in t.get("zero_overlap_pairs", []))
        for label, t in zip(labels, tables, strict=True)
        if t.get("zero_overlap_pairs")
    ]
    overlap_note = (
        f"Pairs of lists with nobody in common: {'; '.join(zero)}. Estimates lean on assumptions where lists never meet."
        if zero else None
    )
    cells = [dict(t.get("cells", {})) for t in tables]
    patterns = list(cells[0].keys())
    cell_rows = [
        [" + ".join(n for n, bit in zip(names, pattern, strict=False) if bit == "1"), pattern, *(_cell(c.get(pattern)) for c in cells)]
        for pattern in patterns
    ]
    cell_columns = ["lists", "pattern", *(["people"] if single else labels)]
    return [
        ("List sizes", sizes_columns, sizes, None),
        ("Overlaps: people on both lists of a pair", ["lists", *(["people on both"] if single else labels)], overlap_rows,
         overlap_note),
        ("People by capture pattern", cell_columns, cell_rows,
         f"Pattern digits follow the lists in order ({', '.join(names)}); 1 = on that list. Nobody is on no list: that "
         "is what the model estimates."),
    ]


def _reporting_sections(summary: Mapping[str, Any], noun: str) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    rows_in = [r for r in summary.get("rows", []) if isinstance(r, Mapping)]
    if not rows_in:
        return []
    rows = []
    population_rows = []
    for row in rows_in:
        label = ", ".join(f"{k}={v}" for k, v in dict(row.get("stratum", {})).items()) or "all"
        rows.append([label, str(row.get("source", "")), _cell(row.get("recorded")), _cell(row.get("surveyed")),
                     _cell(row.get("reported"))])
        population = row.get("population")
        if isinstance(population, Mapping):
            population_rows.append([label, f"{_cell(population.get('low'))} to {_cell(population.get('high'))}",
                                    _cell(population.get("victimized")), _cell(population.get("respondents"))])
    out: list[tuple[str, list[str], list[list[str]], str | None]] = [
        ("Recorded counts and reporting surveys", ["stratum", "source", f"{noun} recorded", "surveyed", "of whom reported"],
         rows, "A survey asks people about incidents (or victims) and how many of them reached the source; "
               "'surveyed' and 'of whom reported' are its counts (empty where a stratum has no survey).")
    ]
    if population_rows:
        out.append(("Population and victimisation survey", ["stratum", "population (interval)", "victimised", "respondents"],
                    population_rows, None))
    return out


def input_notes(result: Result) -> list[str]:
    """Notes the reader made when reading the input (records set aside, columns ignored)."""
    summary = result.input if isinstance(result.input, Mapping) else {}
    return [str(n) for n in summary.get("notes", [])]


def provenance_rows(result: Result) -> list[list[str]]:
    """Rows of the provenance table: version, seed, date, input file and its hash, versions."""
    prov = result.provenance if isinstance(result.provenance, Mapping) else {}
    summary = result.input if isinstance(result.input, Mapping) else {}
    rows = [
        ["hiddenrate version", str(prov.get("hiddenrate_version", ""))],
        ["command", f"hiddenrate {result.command} --model {result.model}"],
        ["seed", str(result.seed)],
        ["created", str(prov.get("created", ""))],
        ["input file", str(summary.get("source") or prov.get("input_source") or "n/a")],
        ["input SHA-256", str(prov.get("input_sha256") or summary.get("sha256") or "n/a")],
        ["levels", ", ".join(fmt.level(x) for x in result.levels) + f" ({result.interval_kind})"],
    ]
    versions = prov.get("versions")
    if isinstance(versions, Mapping):
        rows.append(["software", ", ".join(f"{k} {v}" for k, v in versions.items())])
    options = {k: v for k, v in dict(result.options).items() if v not in (None, (), [], {})}
    if options:
        rows.append(["options", "; ".join(f"{k} = {_plain(v)}" for k, v in options.items())])
    return rows

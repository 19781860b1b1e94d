"""``hiddenrate simulate``: data with a known total, to check a method on data like yours."""

from __future__ import annotations

import json

import click
import numpy as np

from hiddenrate.cli.common import handle_errors, logger, setup_logging, write_text
from hiddenrate.cli.outputs import Target, check_targets
from hiddenrate.core.exceptions import DataError


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a comma-separated list of numbers", param_hint=option) from None


@click.group("simulate")
def simulate_group() -> None:
    """Simulate data with a known total (for checking a method on data like yours)."""


@simulate_group.command("lists")
@click.option("--total", type=click.IntRange(min=1), required=True, help="True population size N.")
@click.option("--capture", metavar="P1,P2,...", help="Capture probability of each list (independent lists).")
@click.option("--odds-ratio", "odds_ratios", multiple=True, metavar="I,J=OR",
              help="Dependence between lists I and J (1-based) as an odds ratio, e.g. 1,2=3. Repeatable.")
@click.option("--class", "classes", multiple=True, metavar="WEIGHT:P1,P2,...",
              help="A latent class of people with its own capture probabilities (heterogeneity); repeat per class.")
@click.option("--names", metavar="A,B,...", help="List names (default A, B, C, ...).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--output", "-o", type=click.Path(), help="Write the CSV here instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the truth on stderr.")
@handle_errors
def simulate_lists(total: int, capture: str | None, odds_ratios: tuple[str, ...], classes: tuple[str, ...],
                   names: str | None, seed: int, output: str | None, quiet: bool) -> None:
    """Write overlapping-list data (Rcapture format) simulated from a known total.

    The CSV has one 0/1 column per list and `count`; the true total and the true hidden
    count go to stderr as one JSON line (so the CSV stays readable by R).

    \b
    Examples:
      hiddenrate simulate lists --total 2000 --capture 0.3,0.2,0.25 -o independent.csv
      hiddenrate simulate lists --total 1000 --capture 0.3,0.3 --odds-ratio 1,2=3 -o dependent.csv
      hiddenrate simulate lists --total 2000 --class 0.5:0.6,0.5,0.5 --class 0.5:0.1,0.1,0.1 -o hetero.csv
      hiddenrate lists independent.csv      # does the interval cover 2000?
    """
    from hiddenrate.data.simulate import counts_to_frame, simulate_list_counts

    setup_logging(quiet)
    if output:
        check_targets([Target("--output", output, "text")], [])
    if (capture is None) == (not classes):
        raise DataError("give --capture (independent lists) or one --class per latent class, not both or neither")
    latent = None
    probs = None
    if classes:
        latent = []
        for spec in classes:
            weight, _, rest = spec.partition(":")
            if not rest:
                raise click.BadParameter(f"'{spec}' should be WEIGHT:P1,P2,...", param_hint="--class")
            latent.append((float(weight), _floats(rest, "--class")))
        k = len(latent[0][1])
    else:
        probs = _floats(capture or "", "--capture")
        k = len(probs)
    if k < 2:
        raise DataError("simulate at least two lists")
    dependence = {}
    for spec in odds_ratios:
        pair, _, value = spec.partition("=")
        indices = pair.split(",")
        if len(indices) != 2 or not value:
            raise click.BadParameter(f"'{spec}' should be I,J=OR, e.g. 1,2=3", param_hint="--odds-ratio")
        i, j = int(indices[0]) - 1, int(indices[1]) - 1
        if not (0 <= i < k and 0 <= j < k and i != j):
            raise click.BadParameter(f"'{spec}': lists are numbered 1 to {k}", param_hint="--odds-ratio")
        ratio = float(value)
        if ratio <= 0:
            raise click.BadParameter(f"'{spec}': an odds ratio must be positive", param_hint="--odds-ratio")
        dependence[(min(i, j), max(i, j))] = float(np.log(ratio))
    list_names = [n.strip() for n in names.split(",")] if names else [chr(ord("A") + j) for j in range(k)]
    if len(list_names) != k:
        raise DataError(f"--names gives {len(list_names)} names for {k} lists")
    table = simulate_list_counts(total, probs, rng=np.random.default_rng(seed), log_odds_ratios=dependence or None,
                                 classes=latent)
    frame = counts_to_frame(table, list_names)
    frame = frame[frame["count"] > 0]
    write_text(frame.to_csv(index=False, lineterminator="\n"), output, quiet)
    truth = {"true_total": int(total), "true_hidden": int(table[0]), "observed": int(total - table[0]), "seed": seed}
    if not quiet:
        click.echo(json.dumps(truth), err=True)
    logger.debug("simulated %s", truth)


@simulate_group.command("records")
@click.option("--total", type=click.IntRange(min=1), required=True, help="True number of people N.")
@click.option("--capture", metavar="P1,P2,...", required=True, help="Probability that each source records a person.")
@click.option("--names", metavar="A,B,...", help="Source names (default source1, source2, ...).")
@click.option("--output-dir", "-d", "directory", type=click.Path(file_okay=False), required=True,
              help="Folder for one CSV per source, truth.csv (the true person of each record) and spec.toml.")
@click.option("--typo", type=click.FloatRange(0, 1), default=None, help="Rate of a typo in each name (default 0.05).")
@click.option("--missing", type=click.FloatRange(0, 1), default=None, help="Rate of each field left empty (default 0.05).")
@click.option("--alias", type=click.FloatRange(0, 1), default=None, help="Rate of a working name instead of the first name (default 0.02).")
@click.option("--swap", type=click.FloatRange(0, 1), default=None, help="Rate of first and last name swapped (default 0.02).")
@click.option("--duplicate", type=click.FloatRange(0, 1), default=None, help="Rate of a second record of a person on one source (default 0.05).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handle_errors
def simulate_records_command(total: int, capture: str, names: str | None, directory: str, typo: float | None,
                             missing: float | None, alias: float | None, swap: float | None, duplicate: float | None,
                             seed: int, quiet: bool) -> None:
    """Write invented person records on several sources, with typos, swapped names, aliases, missing
    values and duplicates, and the truth in a separate file (for `hiddenrate link`).

    \b
    Examples:
      hiddenrate simulate records --total 2000 --capture 0.5,0.4,0.45 -d records/
      hiddenrate link records/spec.toml -d linked/ --estimate      # does the interval cover 2000?
    """
    from pathlib import Path

    from hiddenrate.linkage.simulate import (
        RecordErrors,
        simulate_records,
        true_list_counts,
    )

    setup_logging(quiet)
    rates = {k: v for k, v in {"typo": typo, "missing": missing, "alias": alias, "swap": swap,
                               "duplicate": duplicate}.items() if v is not None}
    list_names = [n.strip() for n in names.split(",")] if names else None
    sources, truth = simulate_records(total, _floats(capture, "--capture"), errors=RecordErrors(**rates), seed=seed,
                                      names=list_names)
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        spec = ["# synthetic records written by `hiddenrate simulate records`: every name is invented", "[link]", ""]
        for name, frame in sources.items():
            frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
            spec += [f"[sources.{name}]", f'file = "{name}.csv"', 'id = "record_id"', ""]
        truth.to_csv(folder / "truth.csv", index=False, lineterminator="\n")
        (folder / "spec.toml").write_text("\n".join(spec), encoding="utf-8")
    except OSError as err:
        raise DataError(f"{directory}: cannot write ({err.strerror})") from None
    facts = {**true_list_counts(truth, list(sources), total), "seed": seed}
    if not quiet:
        click.echo(json.dumps(facts), err=True)
    logger.info("wrote %d sources, truth.csv and spec.toml to %s", len(sources), directory)

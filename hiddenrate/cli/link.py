"""``hiddenrate link``: records from several sources -> matched lists, match probabilities, a link
report, pairs for clerical review, and (``--estimate``) the total with linkage uncertainty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hiddenrate.cli.common import (
    EXIT_NO_ESTIMATE,
    emit,
    fail,
    handle_errors,
    input_source,
    labelled,
    logger,
    setup_logging,
    write_text,
)
from hiddenrate.cli.options import (
    OutputOptions,
    SamplingOptions,
    output_options,
    sampling_options,
)
from hiddenrate.core.exceptions import DataError


class LinkGroup(click.Group):
    """``hiddenrate link SPEC.toml`` runs the linkage; ``hiddenrate link encode ...`` encodes a file."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("link", cls=LinkGroup)
def link_group() -> None:
    """Link records across sources into the lists `hiddenrate lists` reads (probabilistic, splink).

    \b
    Examples:
      hiddenrate simulate records --total 2000 --capture 0.5,0.4,0.45 -d records/
      hiddenrate link records/spec.toml -d linked/            # lists.csv, pairs.csv, review.csv, ...
      hiddenrate lists linked/lists.csv                       # the estimate, linkage taken as exact
      hiddenrate link records/spec.toml -d linked/ --estimate --format html -o report.html
      hiddenrate link encode police.csv --secret-file key.txt -o police.enc.csv   # privacy-preserving
    """


def _write_outputs(link: Any, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        link.lists().to_csv(directory / "lists.csv", index=False, lineterminator="\n")
        link.pairs.to_csv(directory / "pairs.csv", index=False, lineterminator="\n")
        link.review().to_csv(directory / "review.csv", index=False, lineterminator="\n")
        link.cluster_table().to_csv(directory / "clusters.csv", index=False, lineterminator="\n")
        (directory / "link_report.json").write_text(json.dumps(link.summary, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        fail(f"{directory}: cannot write ({err.strerror})", EXIT_NO_ESTIMATE)
    logger.info("wrote lists.csv, pairs.csv, review.csv, clusters.csv and link_report.json to %s", directory)


def report_text(summary: dict[str, Any]) -> str:
    """The link report in words (numbers only, never a record's values)."""
    lines = ["Record linkage" + (" (encoded identifiers)" if summary["encoded"] else ""),
             f"  records: {summary['records']:,}   people (clusters): {summary['people']:,}"]
    for name, counts in summary["sources"].items():
        lines.append(f"  {name}: {counts['records']:,} records, {counts['people']:,} people "
                     f"({counts['records'] - counts['people']:,} duplicate records)")
    lines.append("  cluster sizes: " + ", ".join(f"{k}: {v:,}" for k, v in summary["cluster_sizes"].items()))
    lines.append(f"  candidate pairs scored: {summary['candidate_pairs']:,}; linked at match probability >= "
                 f"{summary['threshold']:g}: {summary['accepted_pairs']:,}")
    low, high = summary["review_band"]
    lines.append(f"  pairs for clerical review (probability {low:g} to {high:g}): {summary['review_pairs']:,}")
    lines.append("  match weights (log2 Bayes factor) of the candidate pairs:")
    lines.extend(f"    {label:>12}: {count:,}" for label, count in summary["weights"].items())
    lines.extend(f"  note: {note}" for note in summary.get("training_notes", []))
    return "\n".join(lines) + "\n"


@link_group.command("run")
@click.argument("spec", type=click.Path(), required=False)
@click.option("--example", metavar="NAME", help="Run on a bundled example instead of SPEC (implies --estimate).")
@click.option("--output-dir", "-d", "directory", type=click.Path(file_okay=False), default=None,
              help="Folder for lists.csv, pairs.csv, review.csv, clusters.csv and link_report.json.")
@click.option("--estimate", is_flag=True, help="Also estimate the total, pooling fits to plausible linkages.")
@click.option("--model", default="auto", show_default=True, help="List model for --estimate (as `hiddenrate lists --model`).")
@click.option("--linkages", type=click.IntRange(min=1, max=10_000), default=None, metavar="M",
              help="Plausible linkages drawn for --estimate (default: the spec's draws, else 50).")
@output_options
@sampling_options
@handle_errors
def link_command(spec: str | None, example: str | None, directory: str | None, estimate: bool, model: str,
                 linkages: int | None, out: OutputOptions, sampling: SamplingOptions) -> None:
    """Link the records of SPEC (a TOML file naming one CSV per source) and write the matched lists.

    Without --estimate the link report goes to stdout (--format json: as JSON). With --estimate
    the output is the estimate, as `hiddenrate lists` writes it, with a table showing how much of
    the interval comes from linkage. Only record ids appear in any output, never names or dates.
    """
    from hiddenrate.linkage.link import link_records
    from hiddenrate.linkage.spec import read_link_spec

    setup_logging(out.quiet)
    source, _, entry = input_source(spec, example, "link", what="SPEC file")
    if directory is None and not (estimate or entry):
        raise DataError("give --output-dir DIR for the linked lists (or --estimate for the estimate alone)")
    parsed = read_link_spec(source)
    logger.info("linking %d sources", len(parsed.sources))
    link = link_records(parsed, seed=sampling.seed)
    if directory is not None:
        _write_outputs(link, Path(directory))
    if not (estimate or entry):
        text = json.dumps(link.summary, indent=2) + "\n" if out.format == "json" else report_text(link.summary)
        write_text(text, out.output, out.quiet)
        return
    from hiddenrate.api.linkage import fit_linked

    result = fit_linked(link, model, draws=linkages, levels=out.levels, seed=sampling.seed, interval=out.interval,
                        sampling=sampling.mcmc())
    emit(labelled(result, entry), out)


@link_group.command("encode")
@click.argument("file", type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Write the encoded CSV here.")
@click.option("--secret-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the secret the sources share (else the HIDDENRATE_LINK_SECRET variable). "
                   "Never give the secret itself on the command line.")
@click.option("--id", "id_column", default=None, metavar="COLUMN", help="Column that identifies a record (default: row number).")
@click.option("--column", "columns", multiple=True, metavar="FIELD=COLUMN",
              help="Map a field (first_name, last_name, sex, birth_date, birth_year, place, id_fragment) to a column. Repeatable.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handle_errors
def encode_command(file: str, output: str, secret_file: str | None, id_column: str | None,
                   columns: tuple[str, ...], quiet: bool) -> None:
    """Encode FILE's identifiers as keyed Bloom filters, for linking without sharing names.

    Each source runs this on its own file with the shared secret and sends only the encoded file.
    A spec with `encoded = true` under [link] then links the encoded files.
    """
    from hiddenrate.linkage.encode import encode_frame, read_secret
    from hiddenrate.linkage.records import read_plain
    from hiddenrate.linkage.spec import FIELDS, SourceSpec

    setup_logging(quiet)
    mapping = {}
    for item in columns:
        name, _, column = item.partition("=")
        if name not in FIELDS or not column:
            raise DataError(f"--column '{name}=...': give FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        mapping[name] = column
    secret = read_secret(secret_file)
    records = read_plain(SourceSpec(Path(file).stem, Path(file), id_column, mapping))
    write_text(encode_frame(records, secret).to_csv(index=False, lineterminator="\n"), output, quiet)

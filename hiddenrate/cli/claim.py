"""``hiddenrate claim``: how probable is a claimed total, given a saved result?"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hiddenrate.analysis.claims import check_claim, parse_claim
from hiddenrate.cli.common import EXIT_NO_ESTIMATE, handle_errors, saved_result, setup_logging, write_text
from hiddenrate.cli.outputs import Target, check_targets
from hiddenrate.render.claims import claim_dict, claim_lines, method_text
from hiddenrate.result.io import load_result


@click.command("claim")
@click.argument("result_file", metavar="RESULT.nc", type=click.Path())
@click.option("--value", required=True, metavar="VALUE",
              help="The claimed total, e.g. 15000 or '>=15000' (at least 15,000), '>15000' (more than), '<=15000' "
                   "(at most) or '<15000' (fewer than); on a trend, 'change<1' (the total fell, first to last "
                   "period) or '2017>=500' (one period).")
@click.option("--at-most", is_flag=True, help="The claim is that the total is at most VALUE (default: at least).")
@click.option("--population", "--population-size", "population", type=click.FloatRange(min=0, min_open=True),
              default=None, metavar="N",
              help="Size of the population the total belongs to: adds rates per 100,000 people.")
@click.option("--level", type=float, default=None, help="Interval level quoted beside the verdict (default 0.95).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(), default=None,
              help="Write to this file instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handle_errors
def claim_command(result_file: str, value: str, at_most: bool, population: float | None, level: float | None,
                  fmt: str, output: str | None, quiet: bool) -> None:
    """Check a claimed figure against a saved result: the probability that the true total is at
    least (or at most) the claim, with a verdict in plain words.

    The probability comes straight from the posterior (exactly, for model averaging; the share
    of posterior draws, for sampled models). Verdict words follow fixed bands (docs/reports.md):
    below 0.01 extremely unlikely, below 0.10 very unlikely, below 0.33 unlikely, up to 0.67 about
    as likely as not, then likely, very likely (above 0.90) and extremely likely (above 0.99).
    A maximum-likelihood result has no posterior: the answer says whether the claim lies inside
    its confidence interval, and that this is not a probability.

    The verdict comes with its uncertainty: the same claim under each row of the result's
    sensitivity tables (another prior weight delta, other models), listed where the verdict
    differs, and the result's serious warnings.

    \b
    Examples:
      hiddenrate lists --example uk-2013 --save uk.nc --quiet
      hiddenrate claim uk.nc --value 15000
      hiddenrate claim uk.nc --value 5000 --at-most
      hiddenrate claim uk.nc --value '>15000'
      hiddenrate claim uk.nc --value 15000 --population 64100000 --format json
      hiddenrate claim trend.nc --value 'change<1'      # a trend: did the total fall?
      hiddenrate claim trend.nc --value '2017>=500'     # a trend: one period's total

    Exit codes: 0 checked; 1 the result has no estimate to check against; 2 bad file or options.
    """
    setup_logging(quiet)
    if output:
        check_targets([Target("--output", output, "text")], [result_file])
    result = load_result(result_file)
    with saved_result(result_file):
        text, check = _claim_text(result, value, at_most, population, level, fmt)
    write_text(text, output, quiet)
    if check.method == "no estimate":
        sys.exit(EXIT_NO_ESTIMATE)


def _claim_text(result: Any, value: str, at_most: bool, population: float | None, level: float | None,
                fmt: str) -> tuple[str, Any]:
    """The claim check and its text (JSON or words)."""
    from hiddenrate.analysis.trend_claims import check_trend_claim, is_targeted

    if is_targeted(value):  # a trend: 'change<1', '2017>=500'
        check = check_trend_claim(result, value, level=level)
    else:
        number, direction = parse_claim(value)
        if at_most:
            direction = "fewer than" if direction == "more than" else "at most"
        check = check_claim(result, number, direction=direction, population=population, level=level)
    if fmt == "json":
        text = json.dumps(claim_dict(check), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    else:
        lines = claim_lines(check)
        lines.append("")
        lines.append(f"How: {method_text(check)}.")
        if check.interval != (None, None) and not check.target:
            from hiddenrate.render import numbers as fmt_numbers

            lines.append(f"Estimate: {fmt_numbers.count(result.overall.total.median() if result.overall.total else None)} "
                         f"({fmt_numbers.level(check.level)} interval {fmt_numbers.interval(check.interval)}); "
                         f"{result.model_name}.")
        text = "\n".join(lines) + "\n"
    return text, check

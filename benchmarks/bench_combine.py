"""Benchmark `hiddenrate combine`: compile time and time per fit for each kind of evidence.

Run as ``python benchmarks/bench_combine.py [--repeats 5]``. For each case it prints the time
to compile the nutpie model (once per number of lists and terms, per process), the median
time of a fit with the checks off (the estimate and the closed-form rows of what each source
says alone, as the coverage studies run it) and on (the conflict check, the posterior
predictive check and the lists alone: one extra fit per survey and for the lists alone), and
the estimate with its R-hat and ESS.

Cases (simulated with fixed seeds, N = 1,000): two matched lists with odds ratio 3 and a survey
of 300 on one list; three matched lists with a survey and a population route; two unlinked
counts with surveys (exact, no MCMC). Timings depend on the machine's load (printed): compare
ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

warnings.simplefilter("ignore")

import numpy as np  # noqa: E402

from hiddenrate.data.lists import ListData, ListTable  # noqa: E402
from hiddenrate.data.reporting import PopulationRoute  # noqa: E402
from hiddenrate.data.spec import CombineSpec, StratumEvidence, Survey  # noqa: E402
from hiddenrate.models.combine.model import fit_combined  # noqa: E402
from hiddenrate.models.combine.core import _compiled  # noqa: E402
from hiddenrate.core.design import all_pairs  # noqa: E402
from hiddenrate.data.simulate import simulate_list_counts  # noqa: E402


def lists_spec(counts: np.ndarray, names: tuple[str, ...], surveys: dict[str, Survey],
               route: PopulationRoute | None = None) -> CombineSpec:
    table = ListTable(names=names, counts=counts)
    return CombineSpec(source="benchmark", unit="victims", list_names=names, terms=all_pairs(len(names)),
                       strata=(StratumEvidence(stratum={}, table=table, surveys=surveys, population=route),),
                       lists_data=ListData(names=names, by=(), tables=(table,)))


def cases() -> dict[str, CombineSpec | dict]:
    rng = np.random.default_rng(2026)
    two = simulate_list_counts(1000, [0.3, 0.2], rng=rng, log_odds_ratios={(0, 1): np.log(3)})
    three = simulate_list_counts(1000, [0.3, 0.25, 0.2], rng=rng, log_odds_ratios={(1, 2): np.log(2)})
    two[0] = three[0] = 0
    return {
        "2 lists + 1 survey": lists_spec(two, ("police", "ngo"), {"police": Survey(300, 112)}),
        "3 lists + 1 survey + route": lists_spec(three, ("police", "ngo", "shelter"), {"police": Survey(300, 90)},
                                                 PopulationRoute(1600, 2500, 50, 100)),
        "2 unlinked counts + surveys (exact)": {"sources": {"police": {"count": 300, "surveyed": 300, "reported": 90},
                                                            "ngo": {"count": 200, "surveyed": 300, "reported": 60}}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fits per case and setting (median reported)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; 4 chains x 1000 draws after 1000 tuning\n")
    header = ["case", "compile s", "fit s (checks off)", "fit s (checks on)", "total", "95% interval", "R-hat", "ESS bulk"]
    rows = []
    for name, spec in cases().items():
        compile_seconds = "-"
        if isinstance(spec, CombineSpec):
            started = time.perf_counter()
            _compiled(len(spec.list_names), spec.terms)
            compile_seconds = f"{time.perf_counter() - started:.1f}"
        timings: dict[bool, list[float]] = {False: [], True: []}
        result = None
        for checks in (False, True):
            for repeat in range(args.repeats):
                started = time.perf_counter()
                result = fit_combined(spec, seed=repeat + 1, checks=checks)
                timings[checks].append(time.perf_counter() - started)
        assert result is not None
        low, high = result.interval(0.95)
        d = result.overall.diagnostics
        rows.append([name, compile_seconds, f"{statistics.median(timings[False]):.3f}", f"{statistics.median(timings[True]):.3f}",
                     f"{result.overall.total.median():,.0f}", f"{low:,.0f} to {high:,.0f}",
                     "-" if d.rhat_max is None else f"{d.rhat_max:.3f}", "-" if d.rhat_max is None else f"{d.ess_bulk_min:,.0f}"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print("\nCoverage studies (tests/test_combine_coverage.py) run 200 fits with the checks off per design.")


if __name__ == "__main__":
    main()

"""What the heterogeneity check costs on top of the default fit (hiddenrate.analysis.heterogeneity).

Run as ``python benchmarks/bench_heterogeneity_check.py [--repeats 3]``. For every bundled list example
with 3-6 lists it prints the default model's fit (exact model averaging) and the check on its
result: the reference fit (the fit's most probable graphs refitted), the 1,000-table bootstrap and
Chao's bound. Minimum over ``--repeats`` runs, in seconds; timings depend on the machine's load.
"""

from __future__ import annotations

import argparse
import time

from hiddenrate.analysis.heterogeneity import check_table
from hiddenrate.data.examples import EXAMPLES
from hiddenrate.data.lists import ListData, read_list_input
from hiddenrate.models.lists.bma import BMAModel


def _best(repeats: int, run) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'example':<22} {'lists':>5} {'fit s':>7} {'check s':>8} {'ratio':>6}  check")
    for name, example in EXAMPLES.items():
        if example.command != "lists":
            continue
        data = read_list_input(example.path())
        if not isinstance(data, ListData) or data.stratified or not 3 <= data.k <= 6:
            continue
        table = data.tables[0]
        model = BMAModel()
        fit_s, estimate = _best(args.repeats, lambda: model.fit_table(table, levels=(0.95,), seed=1,  # noqa: B023
                                                                    interval_kind="equal-tailed"))
        check_s, found = _best(args.repeats, lambda: check_table(table, estimate, levels=(0.95,), level=0.95,  # noqa: B023
                                                                 seed=1, main_name="bma"))
        verdict = "fires" if found is not None and found.fired else "silent"  # type: ignore[attr-defined]
        print(f"{name:<22} {data.k:>5} {fit_s:>7.3f} {check_s:>8.3f} {check_s / fit_s:>6.2f}  {verdict}")


if __name__ == "__main__":
    main()

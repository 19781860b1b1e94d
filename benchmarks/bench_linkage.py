"""Benchmark ``hiddenrate link`` on many records: time and peak memory of linking.

Run as ``python benchmarks/bench_linkage.py [--records 1000000]``. It simulates about
``--records`` records on three sources (capture 0.5, 0.4, 0.45; RecordErrors() rates), writes them
as CSVs (in a child process, so the peak memory is the linking's), then times reading, scoring (splink on DuckDB: training and predicting) and clustering,
and prints a table with the seconds of each stage and the process's peak resident memory (which
includes DuckDB's). Target (issue 24): 1,000,000 records across 3 sources within 10 minutes and
4 GB on a 2-core machine (DuckDB uses every core it sees).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hiddenrate.linkage.clusters import cluster_at
from hiddenrate.linkage.records import read_sources
from hiddenrate.linkage.spec import LinkSpec, SourceSpec
from hiddenrate.linkage.splink_run import score_pairs

CAPTURE = (0.5, 0.4, 0.45)
SIMULATE = """
import sys
from pathlib import Path
from hiddenrate.linkage.simulate import simulate_records
sources, _ = simulate_records(int(sys.argv[1]), (0.5, 0.4, 0.45), seed=1)
for name, frame in sources.items():
    frame.to_csv(Path(sys.argv[2]) / f"{name}.csv", index=False)
"""
RECORDS_PER_PERSON = sum(CAPTURE) * 1.05


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    people = int(args.records / RECORDS_PER_PERSON)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # simulated in a child process: the peak memory below is the linking's, not the simulation's
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", SIMULATE, str(people), tmp], check=True)
        simulated = time.perf_counter() - start
        spec = LinkSpec(tuple(SourceSpec(name, Path(tmp) / f"{name}.csv", "record_id")
                              for name in sorted(p.stem for p in Path(tmp).glob("*.csv"))))
        t0 = time.perf_counter()
        records = read_sources(spec)
        t1 = time.perf_counter()
        scored = score_pairs(records, encoded=False, seed=1)
        t2 = time.perf_counter()
        clusters = cluster_at(len(records), scored.left, scored.right, scored.match_probability, spec.threshold)
        t3 = time.perf_counter()
    rows = [("read and normalise", t1 - t0), ("score pairs (splink: train + predict)", t2 - t1),
            ("cluster at the threshold", t3 - t2), ("total linking", t3 - t0)]
    print(f"{len(records):,} records of {people:,} people on 3 sources (simulated in {simulated:.0f} s); "
          f"{scored.match_probability.size:,} candidate pairs; {clusters.max() + 1:,} clusters")
    print(f"{'stage':<40} {'seconds':>8}")
    for stage, seconds in rows:
        print(f"{stage:<40} {seconds:8.1f}")
    print(f"peak resident memory: {peak_gb():.2f} GB (target: 10 min, 4 GB for 1,000,000 records)")


if __name__ == "__main__":
    main()

"""The linkage of a spec's sources: scored pairs, the clusters at the threshold, the lists table and
the numbers of the link report. Only record ids leave this module, never a name, date or encoding."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError, EstimationError, HiddenrateError
from hiddenrate.linkage.clusters import cluster_at, draw_linkages, list_patterns
from hiddenrate.linkage.records import read_sources
from hiddenrate.linkage.spec import LinkSpec
from hiddenrate.linkage.splink_run import KEEP_ABOVE, score_pairs

#: edges of the match-weight histogram in the report (log2 Bayes factors)
WEIGHT_BINS = (-np.inf, -5, 0, 5, 10, 15, 20, np.inf)


@dataclass(frozen=True)
class Linkage:
    """The result of linking: record ids, scored pairs, one clustering and the spec it came from.

    A pair is two row numbers of ``records`` and its match weight and probability, held as arrays
    (ordered by the records' unique ids); :attr:`pairs` is the table of them with the records' ids."""

    spec: LinkSpec
    records: pd.DataFrame            # source, record_id (in the order clusters refer to)
    left: np.ndarray                 # row of each pair's first record
    right: np.ndarray
    weight: np.ndarray               # match weight of each pair (log2 Bayes factor)
    probability: np.ndarray          # match probability of each pair
    clusters: np.ndarray             # cluster of each record at the threshold
    prior_match: float
    seed: int
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> pd.DataFrame:
        """source_l, record_id_l, source_r, record_id_r, match_weight, match_probability of every pair."""
        return self._pairs(np.arange(self.probability.size))

    def _pairs(self, rows: np.ndarray) -> pd.DataFrame:
        left, right = self.left[rows], self.right[rows]
        source, record = self.records["source"].to_numpy(), self.records["record_id"].to_numpy()
        return pd.DataFrame({"source_l": source[left], "record_id_l": record[left],
                             "source_r": source[right], "record_id_r": record[right],
                             "match_weight": self.weight[rows], "match_probability": self.probability[rows]},
                            index=rows)

    def lists(self, clusters: np.ndarray | None = None) -> pd.DataFrame:
        """The lists CSV (0/1 per source + count) of ``clusters`` (default: the one at the threshold)."""
        chosen = self.clusters if clusters is None else clusters
        return list_patterns(chosen, self.records["source"].to_numpy(), self.spec.names)

    def draws(self, count: int, seed: int) -> list[np.ndarray]:
        """``count`` plausible linkages drawn from the match probabilities (clusters.draw_linkages)."""
        return draw_linkages(len(self.records), self.left, self.right, self.probability, count,
                             np.random.default_rng(seed))

    def review_rows(self) -> np.ndarray:
        """The pairs whose probability lies in the spec's review band, least certain first."""
        low, high = self.spec.review
        band = np.flatnonzero((self.probability >= low) & (self.probability < high))
        return band[np.argsort(np.abs(self.probability[band] - 0.5), kind="stable")]

    def review(self) -> pd.DataFrame:
        """The table of :meth:`review_rows` (as :attr:`pairs`)."""
        return self._pairs(self.review_rows())

    def cluster_table(self) -> pd.DataFrame:
        """source, record_id, person (cluster number from 1, ordered by first appearance)."""
        _, first = np.unique(self.clusters, return_index=True)
        order = np.empty(first.size, dtype=np.int64)
        order[np.argsort(first)] = np.arange(1, first.size + 1)
        rank = dict(zip(np.unique(self.clusters), order, strict=True))
        return self.records.assign(person=[rank[c] for c in self.clusters])


def summarise(link: Linkage) -> dict[str, Any]:
    """The link report's numbers: records and people per source, clusters, duplicates within
    sources, the match-weight histogram, pairs to review."""
    records, clusters = link.records, link.clusters
    per_source = {}
    for name in link.spec.names:
        mine = clusters[(records["source"] == name).to_numpy()]
        per_source[name] = {"records": int(mine.size), "people": int(np.unique(mine).size)}
    sizes = np.bincount(clusters)
    sizes = sizes[sizes > 0]
    counts, _ = np.histogram(link.weight, bins=np.array(WEIGHT_BINS))
    labels = [f"{a:g} to {b:g}" if np.isfinite(a) and np.isfinite(b) else (f"below {b:g}" if np.isfinite(b) else f"{a:g} or more")
              for a, b in itertools.pairwise(WEIGHT_BINS)]
    accepted = int((link.probability >= link.spec.threshold).sum())
    return {
        "records": len(records), "people": int(sizes.size), "sources": per_source,
        "cluster_sizes": {str(k): int(v) for k, v in zip(*np.unique(sizes, return_counts=True), strict=True)},
        "candidate_pairs": int(link.probability.size), "accepted_pairs": accepted,
        "review_pairs": int(link.review_rows().size), "threshold": link.spec.threshold, "review_band": list(link.spec.review),
        "weights": dict(zip(labels, (int(c) for c in counts), strict=True)),
        "prior_match": link.prior_match, "kept_above": KEEP_ABOVE, "encoded": link.spec.encoded,
    }


def link_records(spec: LinkSpec, *, seed: int = 1, records: pd.DataFrame | None = None) -> Linkage:
    """Read the spec's sources (or use ``records``, already read), score the pairs, cluster at the threshold."""
    records = read_sources(spec) if records is None else records
    if records["unique_id"].duplicated().any():
        raise DataError("record ids repeat within a source; give each record its own id")
    try:
        scored = score_pairs(records, encoded=spec.encoded, seed=seed, backend=spec.backend)
    except Exception as exc:  # a JVM-side failure: one line, never Spark's message (it may quote the data)
        if spec.backend != "spark" or isinstance(exc, HiddenrateError):
            raise
        raise EstimationError(f"the Spark backend failed ({type(exc).__name__}); check that Java 17 or later runs and "
                              "that the session has splink's jar and a checkpoint folder (docs/linkage.md), or "
                              "link on this machine with backend = \"duckdb\"") from None
    ids = records[["source", "record_id"]].reset_index(drop=True)
    clusters = cluster_at(len(ids), scored.left, scored.right, scored.match_probability, spec.threshold)
    link = Linkage(spec, ids, scored.left, scored.right, scored.match_weight, scored.match_probability, clusters,
                   scored.prior_match, seed)
    link.summary.update(summarise(link), training_notes=list(scored.notes))
    return link

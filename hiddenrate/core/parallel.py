"""Run many independent pieces of work (study replicates, strata) in this process or on Dask.

One path for every kind of many-fits work: :func:`run_chunks` cuts the items into chunks,
runs a module-level function on each chunk, and returns the results in the items' order.

* ``Parallel(workers=0)``: in this process, no Dask (the serial reference).
* ``Parallel()`` (the default): a Dask ``LocalCluster`` started for the run, one process per
  core (``workers`` sets the number), one thread each; nothing to set up.
* ``Parallel(scheduler="tcp://HOST:PORT")``: an existing Dask scheduler and its workers;
  without it, Dask's own configuration (``DASK_SCHEDULER_ADDRESS`` or ``scheduler-address``
  in a Dask config file) is used when set.

Reproducibility: the work function receives item indices, and every random number of item
``i`` comes from :func:`item_seed` ``(seed, i)`` (NumPy's ``SeedSequence`` with spawn key
``(i,)``, the ``i``-th child of ``SeedSequence(seed).spawn``), so the numbers do not depend on
the number of workers, the chunk size or which worker ran which chunk. Each worker is a
process that keeps its module-level caches between chunks: a compiled model (the nutpie
models' per-process cache in ``hiddenrate.models``) is built once per worker and reused, the
data swapped in. Dask is imported only when a cluster is used.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from hiddenrate.core.exceptions import ModelError

logger = logging.getLogger("hiddenrate")

T = TypeVar("T")

#: how long to wait for an existing scheduler to answer
CONNECT_TIMEOUT = "20s"
#: chunks per worker: a few, so the last ones balance the load, few enough that each is worth a task
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class Parallel:
    """Where many fits run: ``workers=0`` in this process; else on Dask (a local cluster of
    ``workers`` processes, default one per core, or the scheduler at ``scheduler``)."""

    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 0:
            raise ModelError(f"the number of workers must be 0 (this process) or more, got {self.workers}")
        if self.scheduler is not None and self.workers:
            raise ModelError("give a number of workers (a local cluster) or a scheduler address, not both")

    @property
    def serial(self) -> bool:
        return self.workers == 0 and self.scheduler is None

    def describe(self) -> str:
        if self.serial:
            return "in this process (no Dask)"
        if self.scheduler:
            return f"on the Dask scheduler at {self.scheduler}"
        return f"on a local Dask cluster of {self.local_workers()} worker processes"

    def local_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


SERIAL = Parallel(workers=0)


def item_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of item ``index``: the same as ``SeedSequence(seed).spawn(n)[index]`` for any ``n``."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(index),))


def item_rng(seed: int, *key: int) -> np.random.Generator:
    """A generator for item ``key[0]`` (and a sub-stream ``key[1:]`` of it), independent of the others."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))


def chunk_ranges(n: int, n_chunks: int) -> list[range]:
    """``range(n)`` cut into at most ``n_chunks`` consecutive, nearly equal ranges."""
    n_chunks = max(1, min(n, n_chunks))
    edges = np.linspace(0, n, n_chunks + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _scheduler_from_config() -> str | None:
    import dask

    address = dask.config.get("scheduler-address", default=None)
    return str(address) if address else None


@contextmanager
def dask_client(parallel: Parallel) -> Iterator[Any]:
    """A Dask client for ``parallel``: the given scheduler, Dask's configured one, or a local cluster."""
    from distributed import Client, LocalCluster

    address = parallel.scheduler if parallel.scheduler is not None else (
        None if parallel.workers else _scheduler_from_config())
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except OSError as err:
            raise ModelError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=parallel.local_workers(), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_chunks(work: Callable[[Sequence[int]], list[T]], n: int, parallel: Parallel = SERIAL,
               label: str = "items", client: Any = None) -> list[T]:
    """``work(indices)`` over ``range(n)`` in chunks; one result per index, in index order.

    ``work`` must be a picklable (module-level) callable returning one value per index it is
    given. ``client`` reuses an open Dask client (from :func:`dask_client`).
    """
    return _run(work, lambda chunk: chunk, n, parallel, label, client)


def run_items(work: Callable[[list[Any]], list[T]], items: Sequence[Any], parallel: Parallel = SERIAL,
              label: str = "items", client: Any = None) -> list[T]:
    """``work(items[chunk])`` over consecutive chunks of ``items``; each task is sent its own items only."""
    return _run(work, lambda chunk: [items[i] for i in chunk], len(items), parallel, label, client)


def _run(work: Callable[[Any], list[T]], payload: Callable[[range], Any], n: int, parallel: Parallel, label: str,
         client: Any) -> list[T]:
    if n == 0:
        return []
    if parallel.serial and client is None:
        chunks = chunk_ranges(n, max(1, n // 25))
        out: list[T] = []
        for number, chunk in enumerate(chunks, 1):
            out.extend(_checked(work(payload(chunk)), chunk))
            _progress(number, len(chunks), chunk.stop, n, label)
        return out
    if client is None:
        with dask_client(parallel) as opened:
            return _run_on_client(work, payload, n, opened, label)
    return _run_on_client(work, payload, n, client, label)


def _run_on_client(work: Callable[[Any], list[T]], payload: Callable[[range], Any], n: int, client: Any,
                   label: str) -> list[T]:
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    chunks = chunk_ranges(n, workers * CHUNKS_PER_WORKER)
    futures = [client.submit(work, payload(chunk), pure=False) for chunk in chunks]
    order = {future.key: i for i, future in enumerate(futures)}
    results: list[list[T] | None] = [None] * len(chunks)
    done = 0
    for future in as_completed(futures):
        i = order[future.key]
        results[i] = _checked(future.result(), chunks[i])
        done += len(chunks[i])
        _progress(sum(r is not None for r in results), len(chunks), done, n, label)
    return [value for part in results if part is not None for value in part]


def _checked(values: list[T], chunk: range) -> list[T]:
    if len(values) != len(chunk):
        raise RuntimeError(f"a chunk of {len(chunk)} items gave {len(values)} results")
    return list(values)


def _progress(chunk: int, chunks: int, done: int, n: int, label: str) -> None:
    if chunks > 1:
        logger.info("%d of %d %s done", done, n, label)


__all__ = ["CHUNKS_PER_WORKER", "SERIAL", "Parallel", "chunk_ranges", "dask_client", "item_rng", "item_seed", "run_chunks", "run_items"]

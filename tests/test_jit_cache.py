"""The latent-class sampler's compiled code is cached on disk (hiddenrate.models.sampling.jit_cache).

Why it matters: compiling the Gibbs-HMC sweep takes 6-8 s per structure, against about 1 s of
sampling on Western; without a stable cache key every process compiled afresh (numba keys a
closure on its contents, and a compiled function inside it carried a random identifier).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hiddenrate.models.sampling import latent_class_gibbs
from hiddenrate.models.sampling import latent_class_kernel, latent_class_sweep
from hiddenrate.models.sampling.jit_cache import file_digest, stamp

FIT = """
import json
import numpy as np
from hiddenrate.models.sampling import latent_class_gibbs
from hiddenrate.models.lists.latent_class_core import LatentClassSampler
idata = LatentClassSampler(2, classes=3).sample(np.array([0, 30, 40, 12]), draws=20, tune=20, chains=2, seed=3)
chain = next(iter(latent_class_gibbs._JIT.values()))
print(json.dumps({"total": idata.posterior["total"].values.ravel().tolist(),
                  "hits": sum(chain.stats.cache_hits.values()), "misses": sum(chain.stats.cache_misses.values())}))
"""


def _fit_in_new_process(cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_stamp_changes_with_the_structure_and_the_source() -> None:
    digests = (latent_class_gibbs.SOURCE_DIGEST, latent_class_sweep.SOURCE_DIGEST, latent_class_kernel.SOURCE_DIGEST)
    assert stamp(digests, "[2, 3]") == stamp(digests, "[2, 3]")
    assert stamp(digests, "[2, 3]") != stamp(digests, "[3, 3]")
    assert stamp(digests, "[2, 3]") != stamp((digests[0], digests[1], "an edited kernel"), "[2, 3]")
    assert stamp(digests, "[2, 3]") != stamp((digests[0], "an edited sweep", digests[2]), "[2, 3]")
    assert stamp((digests[0], digests[1], None), "[2, 3]") is None  # a source that could not be read: nothing cached
    # the digest is of the file as it was when the module was imported (the code that is loaded)
    assert latent_class_gibbs.SOURCE_DIGEST == file_digest(latent_class_gibbs.__file__)
    assert latent_class_sweep.SOURCE_DIGEST == file_digest(latent_class_sweep.__file__)


def test_a_second_process_loads_the_sweep_from_the_cache_and_draws_the_same(tmp_path: Path) -> None:
    first = _fit_in_new_process(tmp_path)
    second = _fit_in_new_process(tmp_path)
    assert first["hits"] == 0 and first["misses"] >= 1  # compiled, then saved
    assert second["hits"] >= 1 and second["misses"] == 0  # loaded from disk, nothing compiled
    assert second["total"] == first["total"]  # same machine code, same seed: the same draws
    # every structure has cache files of its own, named after its identity: processes compiling
    # different structures at once never write the same file
    names = [path.name for path in tmp_path.rglob("*.nbi")]
    assert names and all(re.search(r"_[0-9a-f]{24}-\d+\.py", name) for name in names), names


def test_without_a_place_to_cache_the_function_is_compiled_in_memory(monkeypatch) -> None:
    """numba raises RuntimeError at decoration when no cache folder is writable; the sampler must still run."""
    import numba

    from hiddenrate.models.sampling.jit_cache import cached_jit

    plain = numba.njit

    def njit(*args, **options):
        if options.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return plain(*args, **options)

    monkeypatch.setattr(numba, "njit", njit)

    def double(x: float) -> float:
        return 2.0 * x

    compiled = cached_jit("some-identity", nogil=True)(double)
    assert compiled(1.5) == 3.0
    assert type(compiled._cache).__name__ == "NullCache"  # nothing on disk
    assert cached_jit(None)(double)(2.0) == 4.0

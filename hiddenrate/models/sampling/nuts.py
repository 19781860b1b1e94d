"""One way to run NUTS (nutpie) on a compiled model, shared by every MCMC model.

Every model compiles its PyMC model once per shape and swaps data in with ``with_data``; this
module runs the sampler with the project's conventions: a seed derived from a
``numpy.random.SeedSequence`` (same data and seed, same draws), no warm-up draws kept, no
progress bar unless asked (``progress``, or the command line's setting in
:mod:`hiddenrate.core.progress`: nutpie's bar, with elapsed time and time left), and nutpie's deprecation notices (``FutureWarning``, about its
own API, never about the data) kept out of the user's output.

A run that fails its checks is sampled once more with the usual remedy (docs/methods.md,
"When a fit does not converge"), when the model asks for it (``remedy=True``):

* with divergent transitions, a target acceptance ten times closer to 1 (0.9 -> 0.99,
  0.99 -> 0.999, so smaller steps) and twice the tuning;
* without, when R-hat or the bulk or tail ESS of the posterior's variables (or of those the model
  names, ``monitor``) fail the thresholds of :mod:`hiddenrate.core.diagnostics`, twice the draws
  and twice the tuning, from fresh starting points (the seed's second stream: same seed, same
  numbers). Only for a run of at least the default draws
  (:data:`~hiddenrate.core.settings.DEFAULT_DRAWS`): a shorter run was asked for on purpose (a
  quick look, a test), and doubling it behind the caller's back would hide its cost.

The second run replaces the first; there is never a third. ``sample_stats.attrs["remedy"]`` says
what was done so the diagnostics can say it too, ``attrs["tuning_steps"]`` holds the tuning of the
run kept, and whether that run converged is checked like any other.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from typing import Any, TypeVar

Key = TypeVar("Key", bound=Hashable)

import numpy as np

from hiddenrate.core.progress import showing, stage
from hiddenrate.core.settings import DEFAULT_DRAWS
from hiddenrate.models.sampling.diagnostics import mixing_failures

logger = logging.getLogger("hiddenrate")


def sample_nuts(
    compiled: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: np.random.SeedSequence,
    target_accept: float | None = None,
    progress: bool = False,
    remedy: bool = False,
    max_draws: int | None = None,
    monitor: Sequence[str] | None = None,
    **options: Any,
) -> Any:
    """Sample a nutpie-compiled model.

    Parameters
    ----------
    compiled
        A model from ``nutpie.compile_pymc_model`` (with its data set).
    draws, tune, chains
        Kept draws and tuning iterations per chain, and the number of chains.
    seed
        Seeds the sampler (one 64-bit word of its state; the R-hat / ESS remedy uses the second).
    target_accept
        NUTS target acceptance rate (nutpie's default when None).
    progress
        Show nutpie's progress bar (on stderr).
    remedy
        Sample once more with the usual remedy when the run fails its checks (see the module
        docstring): after divergent transitions at a higher target acceptance with twice the
        tuning; after R-hat or ESS alone (and ``draws`` at least the default) with twice the draws
        and twice the tuning.
    max_draws
        Most draws per chain that the second run may take (a model whose memory grows with the draws
        says how many fit); no R-hat / ESS remedy when twice ``draws`` is more. None: no limit.
    monitor
        The variables whose R-hat and ESS decide that remedy, when they are not the posterior's own
        variables (names without a leading ``_``): see :func:`~hiddenrate.models.sampling.diagnostics.mixing_failures`.
    **options
        Further nutpie options, e.g. ``low_rank_modified_mass_matrix=True``.

    Returns
    -------
    arviz.InferenceData
        The posterior and sample statistics (of the second run when there was one).
    """
    idata = _run(compiled, draws, tune, chains, seed, target_accept, progress, options)
    tune, note = int(tune), None
    found = divergences(idata) if remedy else 0
    if found:
        higher, tune = remedy_target_accept(target_accept), 2 * tune
        logger.info("%d divergent transitions: sampling again at target acceptance %g with %d tuning steps",
                    found, higher, tune)
        idata = _run(compiled, draws, tune, chains, seed, higher, progress, options)
        note = f"sampled again at target acceptance {higher:g} with {tune:,} tuning steps after {found} divergent transitions"
    elif remedy and DEFAULT_DRAWS <= int(draws) and (max_draws is None or 2 * int(draws) <= max_draws):
        failed = mixing_failures(idata, monitor)
        if failed:
            draws, tune = 2 * int(draws), 2 * tune
            logger.info("%s: sampling again with %d draws and %d tuning steps per chain", failed, draws, tune)
            del idata  # the first run's trace is not kept while the second runs
            idata = _run(compiled, draws, tune, chains, seed, target_accept, progress, options, stream=1)
            note = f"sampled again with {draws:,} draws and {tune:,} tuning steps per chain after {failed}"
    idata.sample_stats.attrs["tuning_steps"] = tune
    if note:
        idata.sample_stats.attrs["remedy"] = note
    return idata


def remedy_target_accept(target_accept: float | None) -> float:
    """The target acceptance of the second run: ten times closer to 1 (nutpie's default is 0.8), at most 0.999."""
    current = 0.8 if target_accept is None else float(target_accept)
    return float(max(min(1 - (1 - current) / 10, 0.999), current))


def divergences(idata: Any) -> int:
    """Number of divergent transitions of a run (0 when not recorded)."""
    stats = getattr(idata, "sample_stats", None)
    if stats is None or "diverging" not in stats:
        return 0
    return int(np.asarray(stats["diverging"].values).sum())


def _run(compiled: Any, draws: int, tune: int, chains: int, seed: np.random.SeedSequence,
         target_accept: float | None, progress: bool, options: dict[str, Any], stream: int = 0) -> Any:
    """One nutpie run, seeded with word ``stream`` of ``seed``'s state (the same for every run of the
    same ``seed``; stream 1 gives the chains other starting points)."""
    import nutpie

    options = dict(options)
    if target_accept is not None:
        options["target_accept"] = float(target_accept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nutpie.sample(compiled, draws=int(draws), tune=int(tune), chains=int(chains),
                             seed=int(seed.generate_state(stream + 1, dtype=np.uint64)[stream]), progress_bar=progress or showing(),
                             save_warmup=False, **options)


def compile_once(cache: MutableMapping[Key, Any], lock: threading.Lock, key: Key,
                 build: Callable[[], Any]) -> Any:
    """The nutpie-compiled model for ``key``, compiling ``build()`` only the first time in this process.

    Each model module keeps its own ``cache`` and ``lock``; data are swapped in later with
    ``with_data``, so replicates (coverage studies, strata) pay for one compile; and the compiled
    callbacks are kept on disk (:mod:`hiddenrate.models.sampling.compiled_models`), so a later
    process, or a Dask worker, loads them instead of compiling again.
    """
    with lock:
        if key not in cache:
            with warnings.catch_warnings():
                # PyTensor's graph rewrites ask for BLAS flags even though nutpie compiles with numba
                warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)
                # numba cannot cache a function holding the data arrays; nutpie silences this, but its
                # filter misses the message when colorama is installed and numba wraps it in ANSI codes
                warnings.filterwarnings("ignore", message=r"(\x1b\[[0-9;]*m)*Cannot cache compiled function",
                                        category=Warning)
                # numba's hints about its own generated code (e.g. "np.dot() is faster on contiguous
                # arrays"): nothing a user can act on, and pytest's filterwarnings=error made one a CI failure
                from numba.core.errors import NumbaPerformanceWarning

                warnings.filterwarnings("ignore", category=NumbaPerformanceWarning)
                from hiddenrate.models.sampling.compiled_models import compile_model

                with stage("compiling the model (10-30 s the first time on this machine)"):
                    cache[key] = compile_model(build(), f"{getattr(build, '__module__', '')}:{key!r}")
        return cache[key]


def public_posterior(idata: Any) -> Any:
    """The posterior without the model's internal variables and dimensions (names starting ``_``)."""
    posterior = idata.posterior.drop_vars([v for v in idata.posterior.data_vars if str(v).startswith("_")])
    return posterior.drop_dims([d for d in posterior.dims if str(d).startswith("_")])


__all__ = ["compile_once", "divergences", "public_posterior", "remedy_target_accept", "sample_nuts"]

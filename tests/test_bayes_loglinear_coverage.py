"""Coverage of the Bayesian log-linear 95% interval for N on simulated data (acceptance criterion).

Design, fixed before the first run (never re-pick the seed to pass):
  * N_DATASETS data sets (200 in the first design, 1000 now; see below) of 3 independent lists, N = 2000, capture probabilities (0.3, 0.2, 0.25)
    (about 58% of the population is on some list, n ~ 1160);
  * independence model with the default priors (flat intercept, i.e. p(N) ~ 1/N);
  * 4 chains x (1000 tuning + 2000 kept) draws; the interval is the equal-tailed 95%
    interval of the posterior draws of `total`;
  * one SeedSequence(SEED) spawns N_DATASETS children; each child spawns the simulation
    generator and the sampler seed.
With 200 replicates a correct 95% interval covers N in 92-98% of them (binomial sd 1.5%).
Every fit must also have converged: R-hat <= 1.01 and bulk ESS >= 400 (ArviZ, rank-normalised
split R-hat) on every posterior variable, and no divergent transitions.
The nutpie model is compiled once and the data swapped in (`LoglinearSampler` caches it).

Record: the first run (and every run since; the test is deterministic) gave 183/200 = 0.915,
just below the band, with every fit converged; ~32 s on 2 cores. The misses were 10 intervals
below N and 7 above (the posterior-quantile histogram of N looked uniform). A separate
diagnostic, NOT a test and not used to choose anything here, of 1000 data sets with
SeedSequence(777) gave coverage 0.951 (2.6% of intervals below N, 2.3% above) and posterior
medians centred on 2000 (mean 2000.5, sd 77), so 0.915 looks like a ~2% binomial tail event
of this seed rather than miscalibration. The seed was not changed.

Decision (2026-11-23, lead, written before running the new design): a 200-set test of a
calibrated 95% interval fails the [0.92, 0.98] band about 3% of the time (P(X <= 183) + P(X >= 197)
for Binomial(200, 0.95)), and this seed landed there. Rather than re-pick a seed, the test now
uses 1000 data sets from a new seed fixed before its first run, SeedSequence(2026_11_23): the same
band then fails a calibrated interval with probability ~1e-5 while still detecting a
miscalibration of a few points. The 200-set result above (0.915) is reported in the closing note.
Coverage of the first 200 of the 1000 sets is printed too, for the record, not asserted.

Tried and reverted (2026-12-05, for CI time, decided before running it): 4 chains x (500
tuning + 1000 kept) draws per fit, same seed, data sets, band and convergence requirements.
Result: coverage 0.948 (first 200: 0.955), but one fit (data set 423) had R-hat 1.0100 > 1.01
(bulk ESS 1202, no divergences), so that design fails its own convergence requirement (with
half the draws, the R-hat of well-mixed chains strays above 1.01 in about one fit in a
thousand), and it saved little (289 s against about 370 s: per-fit overheads dominate). The
requirement was not loosened; the test keeps the design above.

2026-12-05, same design, with the hand-written log density of
hiddenrate.models.sampling.bayes_loglinear_kernel (same function, different rounding): coverage 0.951
(first 200: 0.955), every fit converged, 232 s on a 2-core machine (about 370 s before).
"""

from __future__ import annotations

import time

import arviz
import numpy as np
import pytest

from hiddenrate.models.lists.bayes_loglinear_core import LoglinearSampler
from hiddenrate.data.simulate import simulate_list_counts

SEED = 2026_11_23  # see the decision above; the 200-set design used 20_240_601
N_TRUE = 2000
CAPTURE_PROBS = (0.3, 0.2, 0.25)
N_DATASETS = 1000
DRAWS, TUNE, CHAINS = 2000, 1000, 4


@pytest.mark.slow
def test_independence_interval_covers_true_n() -> None:
    started = time.perf_counter()
    sampler = LoglinearSampler(3)
    covered = []
    problems = []
    for index, child in enumerate(np.random.SeedSequence(SEED).spawn(N_DATASETS)):
        simulation_seq, fit_seq = child.spawn(2)
        table = simulate_list_counts(N_TRUE, CAPTURE_PROBS, rng=np.random.default_rng(simulation_seq))
        idata = sampler.sample(
            table,  # entry 0 (the true hidden count) is ignored by the sampler
            draws=DRAWS,
            tune=TUNE,
            chains=CHAINS,
            seed=int(fit_seq.generate_state(1)[0]),
        )
        low, high = np.quantile(idata.posterior["total"].values, [0.025, 0.975])
        covered.append(low <= N_TRUE <= high)
        posterior = idata.posterior[["intercept", "main_effect", "total"]]
        max_rhat = float(arviz.rhat(posterior).to_array().max())
        min_ess = float(arviz.ess(posterior, method="bulk").to_array().min())
        divergences = int(idata.sample_stats["diverging"].sum())
        if max_rhat > 1.01 or min_ess < 400 or divergences:
            problems.append(f"data set {index}: max R-hat {max_rhat:.4f}, min bulk ESS {min_ess:.0f}, "
                            f"{divergences} divergences")
    coverage = float(np.mean(covered))
    elapsed = time.perf_counter() - started
    print(f"\ncoverage of the 95% interval: {coverage:.3f} over {N_DATASETS} data sets "
          f"(first 200: {np.mean(covered[:200]):.3f}); {elapsed:.1f} s")
    assert not problems, "fits that did not converge:\n" + "\n".join(problems)
    assert 0.92 <= coverage <= 0.98, f"coverage {coverage:.3f} outside [0.92, 0.98]"

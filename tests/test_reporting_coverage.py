"""Coverage of the pooled reporting model's 95% intervals on simulated strata (acceptance criterion).

Design, fixed before the first run (never re-pick the seed to pass):
  * 200 data sets of 8 strata each, simulated from the model with fixed hyperparameters:
    log incidence ~ Normal(log 20, 1.5), logit reporting rate ~ Normal(logit 0.25, 0.6);
    survey sizes (400, 300, 200, 150, 100, 50, 0, 0): the last two strata have no survey;
    zero recorded counts arise by themselves (about one stratum in ten);
  * the pooled model with its default priors, 4 chains x (1000 tuning + 2000 kept) draws, the
    compiled nutpie model reused with the data swapped in;
  * intervals: equal-tailed 95% quantiles of the draws of each stratum's total N_s and of the
    total over strata (the sum of draws);
  * one SeedSequence(SEED) spawns 200 children; each spawns the simulation and the fit seed.
With 200 replicates a calibrated 95% interval covers in 92-98% of them; the same band is used for
the 1,600 stratum intervals pooled and the 400 of strata without a survey (their spread is
smaller, so this is lenient on them, but the strata of one data set share hyperparameters).
Strata with nothing recorded are different: N >= 0 = y always, so the lower end cannot miss and
an equal-tailed interval of a count covers at least 97.5% when calibrated; for them the test
checks that the truth is above the upper end in at most 2.5% + 2 binomial sd.
Convergence: every fit must have R-hat <= 1.01 and bulk and tail ESS >= 400 on the monitored
quantities; at most 5% of fits may have any divergent transition.

Record of runs (same seeds, data and bands throughout):
  * 1000 kept draws per chain: total 0.970, strata 0.957, no survey 0.970, zero recorded 0.978
    (truth above the interval 0.022), 4 fits with divergences; but 2 of the 200 fits narrowly
    missed the convergence thresholds (R-hat 1.011; tail ESS 325): data sets with counts of 0-5
    everywhere, where the spread of incidence between strata is barely identified (its ESS is
    400-800 per 4000 draws). The sampler's diagnostics flag such fits for a user.
  * 2000 kept draws per chain (this design): total 0.965, strata 0.956, no survey 0.968, zero
    recorded 0.974 (truth above 0.026; bound 0.046), 5 fits with divergences, all R-hat/ESS
    checks passed; 416 s on a shared 2-core machine (load about 3).
  * 2026-12-05, same design, with the hand-written log density
    (hiddenrate.models.sampling.reporting_kernel; same function, different rounding): the same five
    coverages, the same 5 fits with divergences, all checks passed; 221 s (a compile-free fit
    samples in about 0.6 s against 2.4 s before).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from hiddenrate.models.reporting.base import mcmc_diagnostics
from hiddenrate.models.reporting.pooled import PooledSampler, simulate

SEED = 20_251_123
N_DATASETS = 200
SURVEYED = np.array([400, 300, 200, 150, 100, 50, 0, 0])
DRAWS, TUNE, CHAINS = 2000, 1000, 4
HYPER = ["logit_rate_mean", "logit_rate_sd", "log_incidence_mean", "log_incidence_sd", "total_all"]


@pytest.mark.slow
def test_pooled_intervals_cover_true_counts() -> None:
    started = time.perf_counter()
    n_strata = SURVEYED.size
    sampler = PooledSampler(n_strata)
    covered_total, covered_strata, no_survey, zero_recorded, zero_above = [], [], [], [], []
    problems, divergent_fits = [], 0
    for index, child in enumerate(np.random.SeedSequence(SEED).spawn(N_DATASETS)):
        simulation_seq, fit_seq = child.spawn(2)
        data = simulate(n_strata, np.random.default_rng(simulation_seq), surveyed=SURVEYED)
        idata = sampler.sample(
            data["recorded"], data["surveyed"], data["reported"],
            draws=DRAWS, tune=TUNE, chains=CHAINS, seed=int(fit_seq.generate_state(1)[0]),
        )
        totals = idata.posterior["total"].values.reshape(-1, n_strata)
        low, high = np.quantile(totals, [0.025, 0.975], axis=0)
        truth = data["total"]
        inside = (low <= truth) & (truth <= high)
        covered_strata.extend(inside.tolist())
        no_survey.extend(inside[SURVEYED == 0].tolist())
        zero = data["recorded"] == 0
        zero_recorded.extend(inside[zero].tolist())
        zero_above.extend((truth > high)[zero].tolist())
        all_low, all_high = np.quantile(idata.posterior["total_all"].values, [0.025, 0.975])
        covered_total.append(bool(all_low <= truth.sum() <= all_high))
        diagnostics, _ = mcmc_diagnostics(idata, HYPER, ["reporting_rate", "incidence", "total"], "NUTS")
        if diagnostics.divergences:
            divergent_fits += 1
        if (diagnostics.rhat_max or 1.0) > 1.01 or (diagnostics.ess_bulk_min or 0) < 400 or (diagnostics.ess_tail_min or 0) < 400:
            problems.append(f"data set {index}: {'; '.join(diagnostics.messages)}")
    elapsed = time.perf_counter() - started
    coverage = {
        "total": float(np.mean(covered_total)),
        "strata": float(np.mean(covered_strata)),
        "no survey": float(np.mean(no_survey)),
        "zero recorded": float(np.mean(zero_recorded)),
    }
    above = float(np.mean(zero_above))
    print(
        f"\ncoverage of 95% intervals over {N_DATASETS} data sets: total {coverage['total']:.3f}; "
        f"{len(covered_strata)} stratum intervals {coverage['strata']:.3f}; {len(no_survey)} without a survey "
        f"{coverage['no survey']:.3f}; {len(zero_recorded)} with zero recorded {coverage['zero recorded']:.3f} "
        f"(truth above the upper end {above:.3f}); fits with divergences {divergent_fits}; {elapsed:.0f} s"
    )
    assert not problems, "fits that did not converge:\n" + "\n".join(problems)
    assert divergent_fits <= 0.05 * N_DATASETS, f"{divergent_fits} fits had divergent transitions"
    for name in ("total", "strata", "no survey"):
        assert 0.92 <= coverage[name] <= 0.98, f"coverage of {name} {coverage[name]:.3f} outside [0.92, 0.98]"
    n_zero = len(zero_recorded)
    assert n_zero >= 50, f"only {n_zero} strata with zero recorded; the design needs them"
    assert above <= 0.025 + 2 * np.sqrt(0.025 * 0.975 / n_zero), f"zero-recorded strata: truth above the interval in {above:.3f}"

"""Coverage of the pooled list model over periods (``hiddenrate trend --model pooled`` on list data).

A study, not a test: its criteria are NOT met yet (ratio intervals too wide, slow mixing), so it
is kept out of CI and the model is not the default; run it with
``python tests/studies/pooled_list_trend_coverage.py`` (about 3 minutes). It exits 1 while a
criterion fails. Results of the last run are at the end of this docstring.

Design, fixed before the first run (and never re-picked): 3 lists over 4 periods with true
totals 1,000, 950, 900, 850; list a's capture log odds falling (-1.2 to -1.5), b's constant
(-1.5), c's rising (-1.8 to -1.5), so the main effects move as the random-walk prior allows
but are not drawn from it; lists a and b positively dependent with the same log odds ratio
0.7 in every period (the shared interaction). 200 data sets from ``SeedSequence(2026_11_23_55)``,
each fitted with the default terms (every overlapping pair, so the truth is inside the model)
and default priors, with the command's default sampling (4 chains x 1,000 draws after 1,000
tuning), one compile for all fits.

Record of runs: the first run used 4 x 500 draws to save time and gave last-total coverage
0.960, ratio coverage 0.990 and 181 of 200 fits failing the diagnostics (no divergences; R-hat
1.01-1.03 with bulk ESS about 200: the intercepts, main effects and interactions are strongly
correlated, so 500 draws are too few). The design was then changed to the default sampling
that users get, with the same seed and bands. Second run (4 x 1,000): last-total coverage
0.955 (in band), ratio coverage 0.990 (too wide), 73 of 200 fits failing the diagnostics.

With 200 data sets a calibrated 95% interval covers in 92-98% of them (binomial noise), so
that is the band for the two quantities the trend reports: the last period's total and the
first-to-last ratio of totals (true 0.85). A fit whose diagnostics fail is counted as it is
(never dropped); at most 5% of fits may fail them.
"""

from __future__ import annotations

import sys

import arviz
import numpy as np

from hiddenrate.models.trend.lists_pooled_core import PooledLoglinearSampler, default_terms, simulate

SEED = 2026_11_23_55
N_SETS = 200
TOTALS = np.array([1000, 950, 900, 850])
MAIN = np.array([[-1.2, -1.5, -1.8], [-1.3, -1.5, -1.7], [-1.4, -1.5, -1.6], [-1.5, -1.5, -1.5]])
TRUE_TERMS = ((0, 1),)
TRUE_INTERACTION = np.array([0.7])
TIMES = np.arange(4.0)


def main() -> int:
    """Coverage of N_4 and of N_4 / N_1 in the 92-98% band over 200 fixed data sets; 1 if unmet."""
    cover_last, cover_ratio, failed = 0, 0, 0
    true_ratio = TOTALS[-1] / TOTALS[0]
    sampler: PooledLoglinearSampler | None = None
    for child in np.random.SeedSequence(SEED).spawn(N_SETS):
        data_seed, fit_seed = child.generate_state(2)
        counts = simulate(TOTALS, MAIN, TRUE_TERMS, TRUE_INTERACTION, np.random.default_rng(int(data_seed)))
        terms = default_terms(counts, 3)
        if sampler is None or sampler.terms != terms:
            sampler = PooledLoglinearSampler(3, len(TOTALS), terms)
        idata = sampler.sample(counts, TIMES, draws=1000, tune=1000, chains=4, seed=int(fit_seed))
        total = idata.posterior["total"].values.astype(float)  # chain, draw, period
        last = total[:, :, -1].ravel()
        ratio = (total[:, :, -1] / total[:, :, 0]).ravel()
        low, high = np.quantile(last, [0.025, 0.975])
        cover_last += int(low <= TOTALS[-1] <= high)
        low, high = np.quantile(ratio, [0.025, 0.975])
        cover_ratio += int(low <= true_ratio <= high)
        rhat = float(np.max(arviz.rhat(idata, var_names=["total"])["total"].values))
        divergent = int(idata.sample_stats["diverging"].values.sum())
        failed += int(rhat > 1.01 or divergent > 0)
    print(f"pooled lists: last-total coverage {cover_last / N_SETS:.3f}, ratio coverage {cover_ratio / N_SETS:.3f}, "
          f"fits failing diagnostics {failed}/{N_SETS}")
    met = 0.92 <= cover_last / N_SETS <= 0.98 and 0.92 <= cover_ratio / N_SETS <= 0.98 and failed <= 0.05 * N_SETS
    print("criteria met" if met else "criteria NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

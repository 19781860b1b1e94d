"""Coverage on simulated two-class heterogeneous data (issue 7): 200 data sets each for 3 and 5 lists.

Design (fixed before any run of this test): N = 2,000 people in two classes: 70% hard to reach
(capture probabilities 0.2-0.3 on every list) and 30% easy to reach (0.55-0.7). Heterogeneity
makes the lists positively dependent, so the independence model's interval sits too low; the
latent-class model (defaults: K = 10, LCMCR's priors) should cover N in 92-98% of data sets
(binomial noise around 95% with 200 data sets). Seeds: data from
``SeedSequence(20240707).spawn(200)``, sampler seed = data set index.

Cost: the sampler is compiled once per number of lists and reused. This test is about the
model's calibration, not about diagnosing convergence, so it runs 2 chains x 600 draws after 400
warm-up (1,200 draws for the interval ends). History: with NUTS (4 x 400 draws, then 2 x 600
after 400 tuning) 190-192 of 200, at 600-1,036 s. 2026-12-06: the default sampler is now
Gibbs-HMC (hiddenrate.models.latent_class_gibbs; 600 draws = every 5th of 3,000 sweeps). Same
design and seeds, run once: 192 of 200, no divergent draw, 276 s on a 2-core machine. With the
relabelling move added to the sweep (it changes how fast a chain reorders its classes, not the
posterior): 192 of 200 again, 219 s; three lists 199 of 200 again. With the HMC step tuned to
acceptance 0.95 instead of 0.9: 194 of 200.

A harder design, a 60% class with capture probabilities about 0.1 on five lists, is *not*
identifiable from the observed patterns (Link 2003): there the latent-class posterior is
confidently low (covering in about 1 data set in 6 in a 30-set pilot), as any model fitted only
to the observed patterns must be; that is a limit of the data, reported in the issue notes.
"""

from __future__ import annotations

import numpy as np
import pytest

from hiddenrate.models.latent_class_core import LatentClassSampler
from hiddenrate.models.loglinear_profile import profile_likelihood
from hiddenrate.simulate import simulate_list_counts

N_TRUE = 2000
DATA_SETS = 200
CLASSES = {
    3: [(0.7, [0.2, 0.25, 0.3]), (0.3, [0.6, 0.7, 0.65])],
    5: [(0.7, [0.2, 0.25, 0.2, 0.3, 0.22]), (0.3, [0.6, 0.7, 0.65, 0.55, 0.6])],
}


@pytest.mark.slow
@pytest.mark.parametrize("k", [
    5,  # measured (2 x 600 draws): 192 of 200 (96.0%) with NUTS and with Gibbs-HMC, 194 (97.0%) at acceptance
    # 0.95; independence 0 of 200
    # Three lists are not run here: measured 199 of 200 (99.5%) with NUTS, with Gibbs-HMC (4 divergent
    # draws in 200 fits) and with Gibbs-HMC and relabelling, above the band: too wide. With three lists the model has more
    # parameters than the table has cells, so the prior widens the interval; two samplers agreeing
    # says it is the model, not the sampling. That criterion of issue 7 is unmet and is reported as
    # such, not tested as passing.
])
def test_latent_class_covers_heterogeneous_data(k: int) -> None:
    sampler = LatentClassSampler(k)
    children = np.random.SeedSequence(20240707).spawn(DATA_SETS)
    covered = independence_covered = 0
    for index, child in enumerate(children):
        counts = simulate_list_counts(N_TRUE, None, rng=np.random.default_rng(child), classes=CLASSES[k])
        counts[0] = 0
        idata = sampler.sample(counts, draws=600, tune=400, chains=2, seed=index)
        lower, upper = np.quantile(idata.posterior["total"].values.ravel(), [0.025, 0.975])
        covered += lower <= N_TRUE <= upper
        profile = profile_likelihood(counts, k, (), 0.95)
        independence_covered += (profile.lower is not None and profile.lower <= N_TRUE
                                 and (profile.upper is None or N_TRUE <= profile.upper))
    print(f"latent class, {k} lists: covered {covered}/{DATA_SETS}; independence {independence_covered}/{DATA_SETS}")
    assert independence_covered / DATA_SETS < 0.92
    assert 0.92 <= covered / DATA_SETS <= 0.98

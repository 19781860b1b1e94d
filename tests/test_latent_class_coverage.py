"""Coverage on simulated two-class heterogeneous data (issue 7): 200 data sets each for 3 and 5 lists.

Design (fixed before any run of this test): N = 2,000 people in two classes: 70% hard to reach
(capture probabilities 0.2-0.3 on every list) and 30% easy to reach (0.55-0.7). Heterogeneity
makes the lists positively dependent, so the independence model's interval sits too low; the
latent-class model (defaults: K = 10, LCMCR's priors) should cover N in 92-98% of data sets
(binomial noise around 95% with 200 data sets). It does on five lists; on three the data do not
identify N under two classes, and the test says what is checked instead. Seeds: data from
``SeedSequence(20240707).spawn(200)``, sampler seed = data set index.

Cost: the sampler is compiled once per number of lists and reused. This test is about the
model's calibration, not about diagnosing convergence, so it runs 2 chains x 600 draws after 400
warm-up (1,200 draws for the interval ends). History: with NUTS (4 x 400 draws, then 2 x 600
after 400 tuning) 190-192 of 200, at 600-1,036 s. 2026-12-06: the default sampler is now
Gibbs-HMC (hiddenrate.models.sampling.latent_class_gibbs; 600 draws = every 5th of 3,000 sweeps). Same
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

from hiddenrate.core import diagnostics as diag
from hiddenrate.analysis import fragility
from hiddenrate.core.distributions import DrawsDistribution
from hiddenrate.models.lists.latent_class_core import LatentClassSampler
from hiddenrate.models.lists.loglinear_profile import profile_likelihood
from hiddenrate.result.value import StratumEstimate
from hiddenrate.data.simulate import simulate_list_counts

N_TRUE = 2000
DATA_SETS = 200
CLASSES = {
    3: [(0.7, [0.2, 0.25, 0.3]), (0.3, [0.6, 0.7, 0.65])],
    5: [(0.7, [0.2, 0.25, 0.2, 0.3, 0.22]), (0.3, [0.6, 0.7, 0.65, 0.55, 0.6])],
}


def _fits(k: int):
    """The 200 simulated tables of the design and the latent-class fit of each (defaults, 2 x 600 draws)."""
    sampler = LatentClassSampler(k)
    for index, child in enumerate(np.random.SeedSequence(20240707).spawn(DATA_SETS)):
        counts = simulate_list_counts(N_TRUE, None, rng=np.random.default_rng(child), classes=CLASSES[k])
        counts[0] = 0
        yield counts, sampler.sample(counts, draws=600, tune=400, chains=2, seed=index)


def _covers(idata) -> bool:
    lower, upper = np.quantile(idata.posterior["total"].values.ravel(), [0.025, 0.975])
    return bool(lower <= N_TRUE <= upper)


def _independence_covers(counts: np.ndarray, k: int) -> bool:
    profile = profile_likelihood(counts, k, (), 0.95)
    return bool(profile.lower is not None and profile.lower <= N_TRUE and (profile.upper is None or N_TRUE <= profile.upper))


@pytest.mark.slow
def test_latent_class_covers_heterogeneous_data_on_five_lists() -> None:
    """Measured (2 x 600 draws): 192 of 200 (96.0%) with NUTS and with Gibbs-HMC, 194 (97.0%) at HMC
    acceptance 0.95; the independence model's profile-likelihood interval 0 of 200."""
    covered = independence_covered = 0
    for counts, idata in _fits(5):
        covered += _covers(idata)
        independence_covered += _independence_covers(counts, 5)
    print(f"latent class, 5 lists: covered {covered}/{DATA_SETS}; independence {independence_covered}/{DATA_SETS}")
    assert independence_covered / DATA_SETS < 0.92
    assert 0.92 <= covered / DATA_SETS <= 0.98


@pytest.mark.slow
def test_three_list_latent_class_interval_is_reported_as_set_by_the_priors() -> None:
    """Three lists: the interval is not calibrated, and every report says so.

    With 3 lists two classes have 8 unknowns against 7 observed counts: N lies on a ridge of equal
    likelihood (within 0.6 log-likelihood units from 1,800 to 6,000 on the exact expected table:
    tests/test_fragility.py), so where the interval sits along it is set by the priors. Measured:
    the interval covered N in 199 of 200 data sets with NUTS, with Gibbs-HMC and with relabelling
    (above the 92-98% band: too wide, and not by a sampler fault, as two samplers agree); in a
    60-set pilot the truth sat between the posterior's 50th and 100th percentiles every time (80-90th
    in 37 of 60), the posterior median was 1,839 (8% low) and the interval 718 wide, where the
    medians themselves varied by only 47 (standard deviation) between data sets. No interval can be
    calibrated for a total the data do not identify, so issue 7's 92-98% band is not asserted here;
    what is asserted is that (a) the interval does not under-cover, as the independence model's
    does (0 of 200), and (b) the fragility check tells the user, on every data set, that the answer
    comes from the priors (200 of 200). Its threshold (classes moving the odds of being on no list
    by more than 5%) was lowered from 10% after one of these data sets fell below 10%; on 200 fresh
    data sets of the same design (SeedSequence(20261206), a check made once, outside this test) it
    flagged 200 of 200 (smallest lift 7.7%) and the interval covered N in 199.
    """
    covered = flagged = independence_covered = 0
    for counts, idata in _fits(3):
        covered += _covers(idata)
        independence_covered += _independence_covers(counts, 3)
        total = idata.posterior["total"].values.astype(float)
        estimate = StratumEstimate(stratum={}, observed=int(counts.sum()), total=DrawsDistribution(total),
                                   diagnostics=diag.exact("test"), idata=idata)
        flagged += any(f.check == "prior-dominated" for f in fragility.check(estimate))
    print(f"latent class, 3 lists: covered {covered}/{DATA_SETS}; flagged as set by the priors {flagged}/{DATA_SETS}; "
          f"independence {independence_covered}/{DATA_SETS}")
    assert independence_covered / DATA_SETS < 0.92  # measured 0 of 200: heterogeneity biases it low
    assert covered / DATA_SETS >= 0.92
    assert flagged == DATA_SETS

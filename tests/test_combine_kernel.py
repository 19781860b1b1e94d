"""The hand-written log density of the joint model (nutpie callback) equals the PyTensor model's.

Why these numbers are right: both compute the same log density (the PyTensor model is a
Potential plus Normal priors; the kernel adds exactly those terms), so at any point they must
agree to rounding error, and so must their gradients. The reference is the function the kernel
replaces: PyTensor's log density and gradient as nutpie compiles them. Points are drawn at three
scales (0.3, 1 and 2.5 on the unconstrained scale) on two lists with a survey of each and the
population route on (pairwise dependence, user prior on the log odds ratio), and on three
lists (independence) with one survey, no route and a user prior on the main effects. A relative error of 1e-10 is far above
double-precision rounding and far below any error of a wrong derivative.
"""

from __future__ import annotations

import numpy as np
import pytest

from hiddenrate.models.combine.core import _compiled
from hiddenrate.models.sampling.combine_kernel import kernel_installed, log_density_and_gradient
from hiddenrate.core.design import all_pairs
from kernel_agreement import worst_difference

BASE = {"main_mu": 0.0, "main_sigma": 5.0, "route_on": 0.0, "population_mu": 0.0, "population_sigma": 1.0,
        "prevalence_a": 1.0, "prevalence_b": 1.0}
CASES = [
    (2, all_pairs(2), [0, 120, 80, 30], [300, 200], [110, 45],
     {"route_on": 1.0, "population_mu": np.log(5000.0), "population_sigma": 0.4, "prevalence_a": 13.0, "prevalence_b": 389.0,
      "odds_mu": 0.5, "odds_sigma": 1.0}),
    (3, (), [0, 247, 49, 142, 60, 112, 4, 12], [0, 300, 0], [0, 70, 0], {"main_mu": -1.0, "main_sigma": 2.0}),
]


@pytest.mark.parametrize("k,terms,counts,surveyed,reported,extra", CASES)
def test_kernel_matches_the_pytensor_model(k: int, terms: tuple, counts: list, surveyed: list, reported: list,
                                           extra: dict) -> None:
    observed = np.array(counts[1:], dtype=float)
    data = {**BASE, "observed_counts": observed, "n_observed": observed.sum(), "offset": float(np.log(observed.sum())),
            "surveyed": np.array(surveyed, float), "reported": np.array(reported, float), **extra}
    if not terms:
        data = {name: value for name, value in data.items() if not name.startswith("odds_")}
    reference = _compiled(k, terms, kernel=False).with_data(**data)
    compiled = _compiled(k, terms).with_data(**data)
    assert kernel_installed(compiled), "the sampler would use PyTensor's gradient, not the kernel"
    worst, compared = worst_difference(reference, compiled, lambda x: log_density_and_gradient(k, terms, x, data),
                                       np.random.default_rng(k + len(terms)), (0.3, 1.0, 2.5))
    print(f"{k} lists, {len(terms)} terms: {compared} points compared, worst relative difference {worst:.1e}")
    assert compared >= 30, f"only {compared} of 45 points had a finite density"
    assert worst < 1e-10, f"kernel and PyTensor model differ by {worst:.2e} (relative)"

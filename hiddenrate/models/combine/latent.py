r"""The latent-class model as the list part of ``hiddenrate combine`` (``dependence = "latent-class"``).

Where the default joint model explains dependence between lists by log odds ratios, this one
explains it by people differing in how visible they are: the Dirichlet-process latent-class
model of :mod:`hiddenrate.models.lists.latent_class_core` (Manrique-Vallier 2016; LCMCR's), with the
lists independent within a class. A survey of list :math:`k`'s reach (:math:`r` of :math:`s`
people from the population on that list) is a binomial observation of the list's marginal
capture probability :math:`p_k = \sum_j w_j \lambda_{jk}`, the same meaning as in the default
joint model; the sampler gives each respondent a class, so its Gibbs sweep stays conjugate.

:class:`LatentJointSampler` has the interface of :class:`~hiddenrate.models.combine.core.JointSampler`
(``sample`` returns a :class:`~hiddenrate.models.combine.core.JointFit`), so the conflict check,
what each source says alone and the posterior predictive check of
:mod:`hiddenrate.models.combine.lists` work unchanged. The number of classes starts at 10 and is
doubled (up to 40) while the last class holds more than 2% of the population, as for
``hiddenrate lists --model latent-class``; the K used is in the saved InferenceData
(``posterior.attrs["classes"]``). With two lists the lists alone do not tell visible and
hidden classes apart (:func:`~hiddenrate.models.combine.lists.lists_identify` is False): a
survey then is the only evidence on the dependence, as with the log-linear model. Not (yet) with the population route: its prior on N
(log-normal population times prevalence) would replace :math:`p(N) \propto 1/N`, which the
sampler's exact draw of the hidden count relies on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.models.combine.core import JointFit, RouteData
from hiddenrate.core.design import patterns
from hiddenrate.core.exceptions import ModelError


class LatentJointSampler:
    """Latent-class list model with surveys, sampled by Gibbs-HMC; one instance per number of lists."""

    def __init__(self, k: int) -> None:
        self.k = int(k)

    @staticmethod
    def method(draws: int, tune: int, chains: int) -> str:
        """How the fits are sampled, for the diagnostics."""
        from hiddenrate.models.lists.latent_class import gibbs_method
        from hiddenrate.models.lists.latent_class_core import THIN

        return f"latent classes, {gibbs_method(chains, draws, THIN, tune)}"

    def sample(self, counts: np.ndarray, surveyed: np.ndarray, reported: np.ndarray, *, route: RouteData | None = None,
               priors: dict[str, dict[str, float]] | None = None, draws: int = DEFAULT_DRAWS, tune: int = DEFAULT_TUNE,
               chains: int = DEFAULT_CHAINS, seed: int = DEFAULT_SEED, remedy: bool = False) -> JointFit:
        """Fit one table with its surveys (``surveyed[j] > 0`` marks a survey of list j).

        ``priors`` (the combine spec's) do not apply: the latent-class model has LCMCR's priors.
        ``remedy`` is accepted for the joint sampler's signature; the Gibbs-HMC sampler has its own
        remedy (tempering when the chains disagree).

        Raises
        ------
        EstimationError
            When the posterior of N is unbounded (see :class:`~hiddenrate.models.lists.latent_class_core.LatentClassSampler`).
        """
        from hiddenrate.models.lists.latent_class import fit_with_enough_classes, sample_tempered_if_needed
        from hiddenrate.models.lists.latent_class_core import DEFAULT_CLASSES, LatentClassSampler

        if route is not None:
            raise ModelError("the latent-class joint model does not take the population route yet")
        surveys = {j: (int(reported[j]), int(surveyed[j])) for j in range(self.k) if surveyed[j] > 0}

        def fit(classes: int) -> Any:
            sampler = LatentClassSampler(self.k, classes)
            return sample_tempered_if_needed(
                lambda ladder: sampler.sample(counts, draws=draws, tune=tune, chains=chains, seed=seed,
                                              surveys=surveys, tempering=ladder), chains)[0]

        idata, _, _ = fit_with_enough_classes(fit, lambda result: result, DEFAULT_CLASSES, True)  # K: posterior attrs
        posterior = idata.posterior
        weights = np.asarray(posterior["class_weight"].values, dtype=float)
        weights = weights.reshape(-1, weights.shape[-1])
        capture = np.asarray(posterior["capture"].values, dtype=float)
        capture = capture.reshape(-1, *capture.shape[-2:])
        on = patterns(self.k).astype(float)  # (cells, lists)
        tiny = np.finfo(float).tiny
        log_cells = (np.einsum("djk,ck->djc", np.log(np.maximum(capture, tiny)), on)
                     + np.einsum("djk,ck->djc", np.log(np.maximum(1.0 - capture, tiny)), 1.0 - on))
        cell_probabilities = np.einsum("dj,djc->dc", weights, np.exp(log_cells))
        marginal = np.einsum("dj,djk->dk", weights, capture)
        total = np.asarray(posterior["total"].values).ravel()
        hidden = np.asarray(posterior["hidden"].values).ravel()
        # log_observed_mean has the default model's meaning, the log of the Poisson mean of the number
        # seen: under p(N) ∝ 1/N it is Gamma(n, 1) given the rest (the sampler's own G), drawn here
        n_seen = float(np.sum(counts[1:]))
        log_observed_mean = np.log(np.random.default_rng(seed).gamma(n_seen, 1.0, size=total.size))
        # theta: the logit of each list's marginal capture probability (there are no log odds ratios)
        theta = np.log(np.maximum(marginal, tiny)) - np.log(np.maximum(1.0 - marginal, tiny))
        return JointFit(idata=idata, theta=theta, log_observed_mean=log_observed_mean, capture=marginal,
                        cell_probabilities=cell_probabilities, hidden=hidden, total=total, prevalence=None)


__all__ = ["LatentJointSampler"]

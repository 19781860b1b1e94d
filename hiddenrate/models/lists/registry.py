"""Model names the CLI and ``hiddenrate.fit_lists`` accept, and the choice made by ``auto``.

Classes are imported lazily so that a run of a closed-form model never imports PyMC.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from hiddenrate.core.exceptions import ModelError
from hiddenrate.core.options import flags

#: name -> (module, class, one-line description)
LIST_MODELS: dict[str, tuple[str, str, str]] = {
    "bma": ("hiddenrate.models.lists.bma", "BMAModel",
            "exact Bayesian model averaging over decomposable graphical models (Madigan & York 1997; R's dga); 3-6 lists"),
    "loglinear": ("hiddenrate.models.lists.loglinear", "LoglinearModel",
                  "maximum-likelihood log-linear model: the given --terms, or the best of all hierarchical models by BIC/AIC"),
    "independence": ("hiddenrate.models.lists.loglinear", "IndependenceModel",
                     "maximum-likelihood log-linear model with independent lists (Rcapture's Mt)"),
    "bayes-loglinear": ("hiddenrate.models.lists.bayes_loglinear", "BayesLoglinearModel",
                        "Bayesian log-linear model in PyMC (independence unless --terms), sampled with NUTS"),
    "latent-class": ("hiddenrate.models.lists.latent_class", "LatentClassModel",
                     "Bayesian latent-class model (Dirichlet-process mixture of independent lists; LCMCR's model), "
                     "for people who differ in how visible they are; sampled with NUTS"),
    "mh-chao": ("hiddenrate.models.lists.heterogeneity", "MhChaoModel",
                "Rcapture's Mh Chao: Chao's lower bound as a log-linear model (people differ in visibility; lists alike)"),
    "mh-poisson2": ("hiddenrate.models.lists.heterogeneity", "MhPoisson2Model",
                    "Rcapture's Mh Poisson2 heterogeneity model (lists alike)"),
    "mh-darroch": ("hiddenrate.models.lists.heterogeneity", "MhDarrochModel",
                   "Rcapture's Mh Darroch heterogeneity model (lists alike)"),
    "mh-gamma3.5": ("hiddenrate.models.lists.heterogeneity", "MhGamma35Model",
                    "Rcapture's Mh Gamma3.5 heterogeneity model (lists alike; the largest totals)"),
    "mth-chao": ("hiddenrate.models.lists.heterogeneity", "MthChaoModel",
                 "Rcapture's Mth Chao: Chao's lower bound with one effect per list"),
    "mth-poisson2": ("hiddenrate.models.lists.heterogeneity", "MthPoisson2Model",
                     "Rcapture's Mth Poisson2 heterogeneity model (one effect per list)"),
    "mth-darroch": ("hiddenrate.models.lists.heterogeneity", "MthDarrochModel",
                    "Rcapture's Mth Darroch heterogeneity model (one effect per list)"),
    "mth-gamma3.5": ("hiddenrate.models.lists.heterogeneity", "MthGamma35Model",
                     "Rcapture's Mth Gamma3.5 heterogeneity model (one effect per list; the largest totals)"),
    "stepwise": ("hiddenrate.models.lists.bootstrap", "StepwiseBootstrapModel",
                 "stepwise log-linear model (SparseMSE) with a BCa bootstrap interval that re-runs the model "
                 "selection in every replicate"),
    "bayes-2list": ("hiddenrate.models.lists.two_list", "BayesTwoList",
                    "two lists with an explicit prior on their dependence (--dependence); exact posterior draws"),
    "chapman": ("hiddenrate.models.lists.two_list", "Chapman", "Chapman's two-list estimator (independent lists)"),
    "lincoln-petersen": ("hiddenrate.models.lists.two_list", "LincolnPetersen", "Lincoln–Petersen two-list estimator (independent lists)"),
}

CAPTURE_COUNT_MODELS: dict[str, str] = {
    "chao-loglinear": "Chao's lower bound fitted as a log-linear model, profile-likelihood interval (Rcapture's Mh LB)",
    "chao": "Chao's lower bound from the people caught once and twice (robust to heterogeneity)",
    "zelterman": "Zelterman's estimator (Poisson locally, from those caught once and twice)",
    "ztpoisson": "zero-truncated Poisson (everyone equally catchable)",
}

AUTO = "auto"
#: options that shape the report rather than the model (read by hiddenrate.analysis.sensitivity.post_fit)
REPORT_OPTIONS = ("sensitivity", "leave_one_out", "merge_small", "sensitivity_classes")
BMA_MAX_LISTS = 6


def auto_model(k: int) -> str:
    """The default model for ``k`` lists.

    Two lists: the Bayesian two-list model (independence stated as an assumption, changeable
    with a dependence prior). Three to six: exact model averaging, which accounts for model
    uncertainty. Seven or more: the stepwise log-linear model with a bootstrap that re-runs the
    selection in every replicate (Chan, Silverman & Vincent 2021), whose interval accounts for
    the uncertainty in the model chosen (:func:`auto_note` says so in the output); exact model
    averaging over decomposable graphs is out of reach there (docs/methods.md).
    """
    if k == 2:
        return "bayes-2list"
    if 3 <= k <= BMA_MAX_LISTS:
        return "bma"
    if k > BMA_MAX_LISTS:
        return "stepwise"
    raise ModelError(f"{k} list(s): capture-recapture needs at least 2 lists")


def auto_note(k: int) -> str | None:
    """What the output says when ``--model auto`` chose a model that is not the usual default (7+ lists)."""
    if k <= BMA_MAX_LISTS:
        return None
    return (f"Chosen by --model auto for {k} lists: exact model averaging handles 3 to {BMA_MAX_LISTS} lists, so the "
            "default beyond is this stepwise model, whose bootstrap re-runs the model choice (it accounts for model "
            "uncertainty). Compare --model latent-class (people who differ in visibility) or merge small lists.")


#: models added from outside the package with :func:`register_list_model`: name -> class
REGISTERED: dict[str, type] = {}


def register_list_model(model: type) -> type:
    """Make a :class:`~hiddenrate.models.lists.base.ListModel` subclass available by its ``name``
    to :func:`hiddenrate.fit_lists` (and so to trends and the sensitivity table's "fitted model" row).

    The extension point: a new list model is one module with its class and one call to this
    function (docs/ARCHITECTURE.md, "Adding a model"). Returns the class, so it can decorate it.
    A name already taken by a built-in model is an error.
    """
    name = getattr(model, "name", None)
    if not isinstance(name, str) or not name:
        raise ModelError("a list model needs a class attribute `name` (the name fit_lists takes)")
    if name in LIST_MODELS or name == AUTO:
        raise ModelError(f"'{name}' is a built-in list model; choose another name")
    REGISTERED[name] = model
    return model


def list_model_class(name: str) -> type:
    """The class registered under ``name``."""
    if name in REGISTERED:
        return REGISTERED[name]
    if name not in LIST_MODELS:
        valid = ", ".join([AUTO, *LIST_MODELS, *REGISTERED])
        raise ModelError(f"unknown model '{name}'; the list models are: {valid}")
    module, cls, _ = LIST_MODELS[name]
    return getattr(importlib.import_module(module), cls)


def make_list_model(name: str, k: int, options: Mapping[str, Any] | None = None,
                    sampling: Mapping[str, Any] | None = None) -> Any:
    """Build a list model.

    Parameters
    ----------
    name
        A key of :data:`LIST_MODELS` or ``auto``.
    k
        Number of lists (for ``auto``).
    options
        Model options the user chose (``None`` values = not given). An option the model does
        not use is an error, so nothing is silently ignored. Report options
        (:data:`REPORT_OPTIONS`: ``sensitivity``,
        ``leave_one_out``, ``merge_small``, ``sensitivity_classes``) apply to every model and
        are set on the model as ``report_options``.
    sampling
        MCMC settings (draws, tune, chains), passed only to models that sample.
    """
    if name == AUTO:
        name = auto_model(k)
    cls = list_model_class(name)
    accepted = set(getattr(cls, "option_names", ()))
    given = {key: value for key, value in (options or {}).items() if value not in (None, (), [])}
    report = {key: given.pop(key) for key in REPORT_OPTIONS if key in given}
    unused = sorted(set(given) - accepted)
    if unused:
        raise ModelError(f"{flags(unused)} does not apply to --model {name}")
    given.update({key: value for key, value in (sampling or {}).items() if key in accepted})
    model = cls(**given)
    if report:
        model.report_options = report
    return model

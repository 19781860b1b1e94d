"""Shared by the kernel tests: how far a hand-written log density is from the function it replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hiddenrate.models.sampling.nutpie_callback import evaluate


def worst_difference(reference: Any, compiled: Any, python: Callable[[np.ndarray], tuple[float, np.ndarray]],
                     rng: np.random.Generator, scales: tuple[float, ...], base: np.ndarray | None = None,
                     per_scale: int = 15) -> tuple[float, int]:
    """Worst relative difference between the kernel (callback and Python) and PyTensor's function.

    Points are drawn ``Normal(0, scale)`` on the unconstrained scale, ``per_scale`` per scale.
    Points PyTensor's function rejects (status not 0) are skipped: its log(1 - p) and overflowing
    means reject some extreme points the kernel's log-sigmoid does not. Where it accepts, the kernel
    must too. With ``base``, log densities are compared as differences from that point (a constant
    the kernel leaves out cancels, as it does for the sampler). Returns the worst difference and
    the number of points compared.
    """
    base_reference = base_kernel = 0.0
    if base is not None:
        base_code, base_reference, _ = evaluate(reference, base)
        assert base_code == 0
        _, base_kernel, _ = evaluate(compiled, base)
    worst, compared = 0.0, 0
    for scale in scales:
        for _ in range(per_scale):
            x = rng.normal(scale=scale, size=int(compiled.n_dim))
            code, callback_logp, callback_grad = evaluate(compiled, x)
            expected_code, expected_logp, expected_grad = evaluate(reference, x)
            if expected_code != 0:
                continue
            python_logp, python_grad = python(x)
            assert code == 0
            compared += 1
            expected_change = expected_logp - base_reference
            size = max(1.0, abs(expected_logp), abs(base_reference))
            gradient_size = max(1.0, float(np.max(np.abs(expected_grad))))
            worst = max(worst, abs(python_logp - base_kernel - expected_change) / size,
                        abs(callback_logp - base_kernel - expected_change) / size,
                        float(np.max(np.abs(python_grad - expected_grad))) / gradient_size,
                        float(np.max(np.abs(callback_grad - expected_grad))) / gradient_size)
    return worst, compared

"""Aggregates with bootstrap confidence intervals, and a paired test for comparing two experiments.

Percentile bootstrap (2,000 resamples, 95%) for a metric's mean; for two experiments, the per-item
differences get a bootstrap interval and a sign-flip permutation test (exact in spirit, no normality
assumption, fine for 0/1 metrics). Every built-in metric is "higher is better". Seeds are fixed, so the same
results always give the same numbers.
"""

from typing import Any

import numpy as np

RESAMPLES = 2000
PERMUTATIONS = 10000
ALPHA = 0.05


def summarize(values: list[float], resamples: int = RESAMPLES) -> dict[str, Any]:
    if not values:
        return {"mean": None, "ci": [None, None], "n": 0}
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if len(data) == 1:
        return {"mean": mean, "ci": [mean, mean], "n": 1}
    rng = np.random.default_rng(0)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)])
    return {"mean": mean, "ci": [float(low), float(high)], "n": len(data)}


def paired(a: list[float], b: list[float]) -> dict[str, Any]:
    """Compare B against A on the same items: B − A, its interval, a p-value, and a verdict for B."""
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    if not a:
        return {
            "n": 0,
            "mean_a": None,
            "mean_b": None,
            "diff": None,
            "ci": [None, None],
            "p_value": None,
            "verdict": "no data",
        }
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = y - x
    observed = float(diff.mean())
    rng = np.random.default_rng(0)
    if len(diff) > 1:
        boot = diff[rng.integers(0, len(diff), size=(RESAMPLES, len(diff)))].mean(axis=1)
        low, high = (float(v) for v in np.percentile(boot, [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)]))
        signs = rng.choice((-1.0, 1.0), size=(PERMUTATIONS, len(diff)))
        permuted = np.abs((signs * diff).mean(axis=1))
        p_value = float((np.count_nonzero(permuted >= abs(observed) - 1e-12) + 1) / (PERMUTATIONS + 1))
    else:
        low = high = observed
        p_value = 1.0
    verdict = "no difference"
    if p_value < ALPHA and observed > 0:
        verdict = "better"
    elif p_value < ALPHA and observed < 0:
        verdict = "worse"
    return {
        "n": len(diff),
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
        "diff": observed,
        "ci": [low, high],
        "p_value": p_value,
        "verdict": verdict,
    }

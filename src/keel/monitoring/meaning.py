"""Drift in what inputs and outputs *mean*: the bundled MiniLM embeddings of a sample of each window.

The test is a kernel two-sample test (maximum mean discrepancy with an RBF kernel at the median-distance
bandwidth, p-value by 200 seeded permutations), which sees any change in the distribution of embeddings, not
only a moved mean; the effect size is the cosine distance between the windows' mean embeddings. Topics are
k-means clusters of both windows together: each cluster's share in the reference and the current window,
named by its most central text, with example traces, so a person sees *which* questions grew or shrank.
"""

from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2

from keel.monitoring.drift import MIN_SAMPLES, P_THRESHOLD, FeatureDrift

PERMUTATIONS = 200
SAMPLE = 500  # texts per window
TOPICS = 8


def _kernel(vectors: np.ndarray) -> np.ndarray:
    squared = np.maximum(2 - 2 * vectors @ vectors.T, 0)  # unit vectors: |a-b|^2 = 2 - 2a.b
    positive = squared[squared > 0]
    bandwidth = float(np.median(positive)) if len(positive) else 1.0
    kernel: np.ndarray = np.exp(-squared / bandwidth)
    return kernel


def _mmd(kernel: np.ndarray, first: np.ndarray) -> float:
    """MMD² (biased) between the rows marked in `first` and the rest."""
    a = first.astype(float) / first.sum()
    b = (~first).astype(float) / (~first).sum()
    return float(a @ kernel @ a + b @ kernel @ b - 2 * a @ kernel @ b)


def compare(
    feature: str,
    reference: np.ndarray,
    current: np.ndarray,
    reference_examples: list[tuple[str, str]],
    current_examples: list[tuple[str, str]],
) -> FeatureDrift:
    """`reference`/`current`: unit embeddings; `*_examples`: (trace id or item key, text) per row."""
    counts = (len(reference), len(current))
    if min(counts) < MIN_SAMPLES:
        note = f"fewer than {MIN_SAMPLES} texts in a window: no verdict"
        return FeatureDrift(feature, "embedding", None, None, None, None, None, None, *counts, note=note)
    pooled = np.vstack([reference, current]).astype(np.float64)
    kernel = _kernel(pooled)
    first = np.zeros(len(pooled), dtype=bool)
    first[: len(reference)] = True
    observed = _mmd(kernel, first)
    rng = np.random.default_rng(0)
    exceed = sum(_mmd(kernel, rng.permutation(first)) >= observed for _ in range(PERMUTATIONS))
    p = (exceed + 1) / (PERMUTATIONS + 1)
    means = reference.mean(axis=0), current.mean(axis=0)
    cosine = 1 - float(means[0] @ means[1] / (np.linalg.norm(means[0]) * np.linalg.norm(means[1]) or 1))
    topics = _topics(pooled, len(reference), [*reference_examples, *current_examples])
    return FeatureDrift(
        feature,
        "embedding",
        "mmd_permutation",
        observed,
        p,
        cosine,
        cosine,
        p < P_THRESHOLD,
        *counts,
        topics=topics,
    )


def _topics(pooled: np.ndarray, split: int, examples: list[tuple[str, str]]) -> list[dict[str, Any]]:
    k = max(2, min(TOPICS, len(pooled) // 20))
    centroids, labels = kmeans2(pooled, k, seed=0, minit="++")
    found = []
    for topic in range(k):
        members = np.flatnonzero(labels == topic)
        if not len(members):
            continue
        reference_share = float((members < split).sum() / split)
        current_share = float((members >= split).sum() / (len(pooled) - split))
        central = members[np.argsort(-(pooled[members] @ centroids[topic]))]
        grew = current_share >= reference_share
        side = central[central >= split] if grew else central[central < split]
        found.append(
            {
                "topic": examples[int(central[0])][1][:120],
                "reference_share": reference_share,
                "current_share": current_share,
                "change": current_share - reference_share,
                "examples": [
                    {"id": examples[int(i)][0], "text": examples[int(i)][1][:200]} for i in side[:3]
                ],
            }
        )
    return sorted(found, key=lambda t: -abs(t["change"]))

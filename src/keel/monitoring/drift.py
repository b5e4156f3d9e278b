"""Drift between a reference window and a current window of traces, feature by feature.

Tests follow Evidently's defaults, chosen by data type and size: numeric features with more than five
distinct values get the two-sample Kolmogorov–Smirnov test when the reference holds at most 1,000 values
(drift: p < 0.05) and the Wasserstein distance normalised by the reference's standard deviation above that
(drift: > 0.1), since with 100k rows any p-value is tiny; categorical and binary features get χ² on the
contingency table (small) or the Jensen–Shannon distance (large, drift: > 0.1). Every verdict carries an
effect size (KS D, the distance, or Cramér's V) and both histograms on shared bins. A window with fewer than
`MIN_SAMPLES` values gives no verdict rather than a guess.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

MIN_SAMPLES = 30
SMALL = 1000
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
BINS = 20


@dataclass
class FeatureDrift:
    feature: str
    kind: str  # numeric, categorical, embedding
    test: str | None
    statistic: float | None
    p_value: float | None
    distance: float | None
    effect_size: float | None
    drifted: bool | None
    reference_count: int
    current_count: int
    histogram: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    topics: list[dict[str, Any]] = field(default_factory=list)  # embedding features: clusters that moved


def compare(feature: str, reference: np.ndarray, current: np.ndarray) -> FeatureDrift:
    reference, current = _finite(reference), _finite(current)
    counts = (len(reference), len(current))
    categorical = len(np.unique(np.concatenate([reference, current]))) <= 5
    kind = "categorical" if categorical else "numeric"
    if min(counts) < MIN_SAMPLES:
        note = f"fewer than {MIN_SAMPLES} values in a window: no verdict"
        return FeatureDrift(feature, kind, None, None, None, None, None, None, *counts, note=note)
    if categorical:
        return _categorical(feature, reference, current)
    return _numeric(feature, reference, current)


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    finite: np.ndarray = values[np.isfinite(values)]
    return finite


def _numeric(feature: str, reference: np.ndarray, current: np.ndarray) -> FeatureDrift:
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins=BINS)
    histogram = {
        "edges": edges.tolist(),
        "reference": (np.histogram(reference, edges)[0] / len(reference)).tolist(),
        "current": (np.histogram(current, edges)[0] / len(current)).tolist(),
    }
    counts = (len(reference), len(current))
    if len(reference) <= SMALL:
        result = stats.ks_2samp(reference, current)
        d, p = float(result.statistic), float(result.pvalue)
        return FeatureDrift(feature, "numeric", "ks", d, p, None, d, p < P_THRESHOLD, *counts, histogram)
    spread = float(np.std(reference)) or 1.0
    distance = float(stats.wasserstein_distance(reference, current)) / spread
    return FeatureDrift(
        feature,
        "numeric",
        "wasserstein_normed",
        distance,
        None,
        distance,
        distance,
        distance > DISTANCE_THRESHOLD,
        *counts,
        histogram,
    )


def _categorical(feature: str, reference: np.ndarray, current: np.ndarray) -> FeatureDrift:
    values = np.unique(np.concatenate([reference, current]))
    ref = np.array([(reference == v).sum() for v in values], dtype=float)
    cur = np.array([(current == v).sum() for v in values], dtype=float)
    histogram = {
        "values": values.tolist(),
        "reference": (ref / ref.sum()).tolist(),
        "current": (cur / cur.sum()).tolist(),
    }
    counts = (len(reference), len(current))
    if len(reference) <= SMALL:
        if len(values) < 2:
            return FeatureDrift(
                feature, "categorical", "chi2", 0.0, 1.0, None, 0.0, False, *counts, histogram
            )
        chi2, p, _, _ = stats.chi2_contingency(np.vstack([ref, cur]))
        cramers_v = float(np.sqrt(chi2 / (ref.sum() + cur.sum()) / (min(2, len(values)) - 1)))
        return FeatureDrift(
            feature,
            "categorical",
            "chi2",
            float(chi2),
            float(p),
            None,
            cramers_v,
            bool(p < P_THRESHOLD),
            *counts,
            histogram,
        )
    distance = float(jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2))
    return FeatureDrift(
        feature,
        "categorical",
        "jensen_shannon",
        distance,
        None,
        distance,
        distance,
        distance > DISTANCE_THRESHOLD,
        *counts,
        histogram,
    )

"""The canary judge: per metric, is the candidate worse than the baseline by more than it may be?

Done as Kayenta does it, with the failures its users reported handled explicitly:
- rates (errors, guardrail blocks) with a two-proportion z-test; continuous values (latency, TTFT, cost,
  scores) with Mann–Whitney U and a Hodges–Lehmann confidence interval on the shift;
- a metric fails only when the change is in its bad direction, beyond its allowed change, *and* significant;
- too few samples is "wait" (never a pass); a zero baseline compares in absolute terms (a relative change
  from zero is infinite, so any significant increase fails); identical or all-missing data is said so;
- outliers are clipped to the pooled 1st/99th percentiles, never deleted;
- metrics are weighted into a 0-100 score: pass / marginal / fail by thresholds, and a failed critical
  metric fails the step alone.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from keel.gateway.canary_schemas import RATES, CanaryIn, CanaryMetricIn

MAX_PAIRWISE = 1500  # per arm, for the Hodges–Lehmann interval (a seeded subsample above it)


@dataclass
class MetricResult:
    name: str
    verdict: str  # pass, fail, wait
    reason: str
    baseline_n: int
    canary_n: int
    baseline: float | None = None  # the metric's value on each arm (rate, percentile or mean)
    canary: float | None = None
    change: float | None = None  # relative or absolute, per `mode`
    allowed_change: float = 0.0
    mode: str = "relative"
    direction: str = "increase"
    p_value: float | None = None
    interval: tuple[float, float] | None = (
        None  # CI of the difference (canary - baseline), in the metric's unit
    )
    weight: float = 1.0
    critical: bool = False


@dataclass
class Judgement:
    verdict: str  # pass, marginal, fail, wait
    score: float | None
    reason: str
    metrics: list[MetricResult] = field(default_factory=list)

    def as_json(self) -> list[dict[str, Any]]:
        return [_finite(asdict(m)) for m in self.metrics]


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN or infinity: an infinite change is written as null with the reason saying why."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def judge(
    spec: CanaryIn, baseline: Mapping[str, Sequence[float]], canary: Mapping[str, Sequence[float]]
) -> Judgement:
    """Judge one step from each arm's samples per metric name (rates as 0/1 values)."""
    alpha = 1 - spec.confidence
    results = []
    for metric in spec.metrics:
        m = metric.resolved(spec.min_calls)
        base = _clean(baseline.get(m.name, ()))
        cand = _clean(canary.get(m.name, ()))
        results.append(_judge_metric(m, base, cand, alpha))
    return _combine(spec, results)


def _clean(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    finite: np.ndarray = array[np.isfinite(array)]
    return finite


def _judge_metric(m: CanaryMetricIn, base: np.ndarray, cand: np.ndarray, alpha: float) -> MetricResult:
    assert m.min_samples is not None
    assert m.allowed_change is not None
    assert m.direction
    assert m.mode
    result = MetricResult(
        m.name,
        "wait",
        "",
        len(base),
        len(cand),
        allowed_change=m.allowed_change,
        mode=m.mode,
        direction=m.direction,
        weight=m.weight,
        critical=bool(m.critical),
    )
    if len(cand) < m.min_samples or len(base) < m.min_samples:
        result.reason = (
            f"waiting for data: {m.name} has {len(cand)} candidate and {len(base)} baseline samples; "
            f"needs {m.min_samples} each"
        )
        return result
    if m.name in RATES:
        _rate(result, base, cand)
    else:
        _continuous(result, m.name, base, cand)
    _decide(result, alpha)
    return result


def _rate(result: MetricResult, base: np.ndarray, cand: np.ndarray) -> None:
    nb, nc = len(base), len(cand)
    pb, pc = float(base.mean()), float(cand.mean())
    result.baseline, result.canary = pb, pc
    pooled = (base.sum() + cand.sum()) / (nb + nc)
    se = math.sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc))
    result.p_value = (
        _p_from_z((pc - pb) / se, result.direction) if se > 0 else 1.0
    )  # both arms all-0 or all-1
    spread = 1.959964 * math.sqrt(pb * (1 - pb) / nb + pc * (1 - pc) / nc)
    result.interval = (pc - pb - spread, pc - pb + spread)
    result.change = _change(result, pb, pc)


def _p_from_z(z: float, direction: str) -> float:
    if direction == "increase":
        return float(stats.norm.sf(z))
    if direction == "decrease":
        return float(stats.norm.cdf(z))
    return float(2 * stats.norm.sf(abs(z)))


def _statistic(name: str, values: np.ndarray) -> float:
    if name.endswith("_p95"):
        return float(np.percentile(values, 95))
    if name.endswith("_p50"):
        return float(np.median(values))
    return float(values.mean())


def _continuous(result: MetricResult, name: str, base: np.ndarray, cand: np.ndarray) -> None:
    low, high = np.percentile(np.concatenate([base, cand]), [1, 99])
    base, cand = np.clip(base, low, high), np.clip(cand, low, high)
    sb, sc = _statistic(name, base), _statistic(name, cand)
    result.baseline, result.canary = sb, sc
    result.change = _change(result, sb, sc)
    if np.ptp(np.concatenate([base, cand])) == 0:
        result.p_value, result.interval = 1.0, (0.0, 0.0)  # every value identical: no difference at all
        return
    alternative = {"increase": "greater", "decrease": "less", "either": "two-sided"}[result.direction]
    result.p_value = float(stats.mannwhitneyu(cand, base, alternative=alternative).pvalue)
    result.interval = _hodges_lehmann_interval(base, cand)


def _hodges_lehmann_interval(base: np.ndarray, cand: np.ndarray) -> tuple[float, float]:
    """The 95% confidence interval of the shift (candidate - baseline) from the pairwise differences."""
    rng = np.random.default_rng(0)
    if len(base) > MAX_PAIRWISE:
        base = rng.choice(base, MAX_PAIRWISE, replace=False)
    if len(cand) > MAX_PAIRWISE:
        cand = rng.choice(cand, MAX_PAIRWISE, replace=False)
    diffs = np.sort(np.subtract.outer(cand, base).ravel())
    n1, n2 = len(cand), len(base)
    k = int(math.floor(n1 * n2 / 2 - 1.959964 * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)))
    k = min(max(k, 0), len(diffs) - 1)
    return float(diffs[k]), float(diffs[len(diffs) - 1 - k])


def _change(result: MetricResult, base: float, cand: float) -> float:
    if result.mode == "absolute":
        return cand - base
    if base == 0:
        return 0.0 if cand == 0 else math.copysign(math.inf, cand)
    return (cand - base) / abs(base)


def _decide(result: MetricResult, alpha: float) -> None:
    change, p = result.change or 0.0, result.p_value if result.p_value is not None else 1.0
    bad = {"increase": change, "decrease": -change, "either": abs(change)}[result.direction]
    unit = "" if result.mode == "absolute" else " (relative)"
    shown = "from a zero baseline" if math.isinf(change) else f"{change:+.4g}{unit}"
    if bad > result.allowed_change and p < alpha:
        result.verdict = "fail"
        result.reason = (
            f"{result.name} changed {shown}: beyond the allowed {result.allowed_change:g} in the bad "
            f"direction ({result.direction}), p={p:.3g}"
        )
    else:
        result.verdict = "pass"
        why = "within the allowed change" if bad <= result.allowed_change else f"not significant (p={p:.3g})"
        result.reason = f"{result.name} changed {shown}: {why}"


def _combine(spec: CanaryIn, results: list[MetricResult]) -> Judgement:
    total = sum(r.weight for r in results)
    passed = sum(r.weight for r in results if r.verdict == "pass")
    waiting = [r for r in results if r.verdict == "wait"]
    failed = [r for r in results if r.verdict == "fail"]
    critical = [r for r in failed if r.critical]
    if critical:
        return Judgement(
            "fail", None, "critical metric failed: " + "; ".join(r.reason for r in critical), results
        )
    best = 100 * (passed + sum(r.weight for r in waiting)) / total
    if failed and best < spec.marginal_score:
        reason = f"score at most {best:.0f} < {spec.marginal_score:g}: " + "; ".join(r.reason for r in failed)
        return Judgement("fail", None, reason, results)
    if waiting:
        return Judgement("wait", None, "; ".join(r.reason for r in waiting), results)
    score = 100 * passed / total
    if score >= spec.pass_score:
        return Judgement("pass", score, f"score {score:.0f} >= {spec.pass_score:g}", results)
    detail = "; ".join(r.reason for r in failed)
    if score >= spec.marginal_score:
        return Judgement("marginal", score, f"score {score:.0f} is marginal: {detail}", results)
    return Judgement("fail", score, f"score {score:.0f} < {spec.marginal_score:g}: {detail}", results)

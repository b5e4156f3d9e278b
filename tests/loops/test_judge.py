"""The canary judge on samples with known answers, including the cases Kayenta's users were bitten by:
too few samples, zero and NaN baselines, outliers, and how often two equal arms are wrongly failed."""

import math

import numpy as np
import pytest

from keel.gateway.canary_schemas import CanaryIn, CanaryMetricIn
from keel.loops.judge import judge

TARGET = {"provider": "b", "model": "m2"}


def spec(**changes: object) -> CanaryIn:
    return CanaryIn.model_validate({"target": TARGET, "min_calls": 30, **changes})


def rates(errors: int, calls: int) -> list[float]:
    return [1.0] * errors + [0.0] * (calls - errors)


def arms(base_err: list[float], cand_err: list[float], base_lat: list[float], cand_lat: list[float]):  # type: ignore[no-untyped-def]
    return (
        {"error_rate": base_err, "latency_p95": base_lat},
        {"error_rate": cand_err, "latency_p95": cand_lat},
    )


def test_a_candidate_failing_30_percent_fails_on_the_critical_error_rate() -> None:
    rng = np.random.default_rng(1)
    lat = list(rng.normal(100, 5, 300))
    base, cand = arms(rates(0, 300), rates(15, 50), lat, lat[:35])
    result = judge(spec(), base, cand)
    assert result.verdict == "fail"
    error = next(m for m in result.metrics if m.name == "error_rate")
    assert error.verdict == "fail"
    assert error.critical
    assert error.baseline == 0.0
    assert error.canary == pytest.approx(0.3)
    assert error.p_value is not None
    assert error.p_value < 0.001
    assert "critical metric failed" in result.reason


def test_too_few_samples_waits_even_for_a_huge_deviation() -> None:
    """Kayenta #633: +650% on a handful of calls passed. Here it waits: no verdict before min_calls."""
    base, cand = arms(rates(0, 300), rates(0, 8), [100.0] * 300, [750.0] * 8)
    result = judge(spec(), base, cand)
    assert result.verdict == "wait"
    assert result.score is None
    assert "8 candidate" in result.reason


def test_no_data_at_all_never_passes() -> None:
    result = judge(spec(), {}, {})
    assert result.verdict == "wait"


def test_zero_baselines_compare_in_absolute_terms_and_can_fail() -> None:
    """Kayenta #377/#799: a zero baseline never failed. A cost that goes from 0 to something does."""
    metric = CanaryMetricIn(name="cost_per_call", critical=True)
    base = {"cost_per_call": [0.0] * 100}
    cand = {"cost_per_call": list(np.random.default_rng(2).uniform(0.001, 0.002, 100))}
    result = judge(spec(metrics=[metric.model_dump()]), base, cand)
    assert result.verdict == "fail"
    assert result.metrics[0].change == math.inf
    assert "zero baseline" in result.metrics[0].reason
    assert result.as_json()[0]["change"] is None  # JSON has no infinity


def test_identical_constant_arms_pass_with_no_difference() -> None:
    base, cand = arms(rates(0, 100), rates(0, 100), [50.0] * 100, [50.0] * 100)
    result = judge(spec(), base, cand)
    assert result.verdict == "pass"
    assert result.score == 100
    assert all(m.p_value == 1.0 for m in result.metrics)


def test_nan_values_are_dropped_not_counted() -> None:
    lat = [100.0] * 40 + [math.nan] * 60
    base, cand = arms(rates(0, 100), rates(0, 100), lat, lat)
    result = judge(spec(), base, cand)
    latency = next(m for m in result.metrics if m.name == "latency_p95")
    assert latency.canary_n == 40
    assert result.verdict == "pass"


def test_one_outlier_is_clipped_and_does_not_fail_the_step() -> None:
    """Kayenta #420: outlier removal zeroed the data. Clipping keeps every sample and tames the one."""
    rng = np.random.default_rng(3)
    base_lat = list(rng.normal(100, 10, 300))
    cand_lat = list(rng.normal(100, 10, 299)) + [1e9]
    base, cand = arms(rates(0, 300), rates(0, 300), base_lat, cand_lat)
    result = judge(spec(), base, cand)
    latency = next(m for m in result.metrics if m.name == "latency_p95")
    assert latency.canary_n == 300
    assert latency.canary is not None
    assert latency.canary < 200
    assert result.verdict == "pass"


def test_a_slower_candidate_fails_on_latency_alone() -> None:
    rng = np.random.default_rng(4)
    base, cand = arms(rates(0, 300), rates(0, 60), list(rng.normal(20, 2, 300)), list(rng.normal(30, 3, 60)))
    result = judge(spec(), base, cand)
    latency = next(m for m in result.metrics if m.name == "latency_p95")
    assert latency.verdict == "fail"
    assert latency.change == pytest.approx(0.5, abs=0.15)
    assert latency.interval is not None
    assert latency.interval[0] > 0  # the shift's confidence interval lies above zero
    assert result.verdict == "fail"
    assert result.score is None or result.score < 75


def test_a_small_change_within_the_allowance_is_marginal_or_pass_by_weights() -> None:
    rng = np.random.default_rng(5)
    metrics = [
        {"name": "error_rate"},
        {"name": "latency_p50", "weight": 1},
        {"name": "latency_p95", "weight": 4},
    ]
    base = {"error_rate": rates(0, 300), "latency_p50": list(rng.normal(20, 1, 300))}
    base["latency_p95"] = base["latency_p50"]
    slower = list(rng.normal(30, 1, 300))
    cand = {"error_rate": rates(0, 300), "latency_p50": slower, "latency_p95": base["latency_p50"]}
    result = judge(spec(metrics=metrics), base, cand)
    assert result.verdict == "marginal"  # 5 of 6 weight passes: 83, between 75 and 95
    assert result.score == pytest.approx(100 * 5 / 6)


def test_feedback_scores_fail_when_they_drop() -> None:
    metric = {"name": "feedback:thumbs", "allowed_change": 0.1}
    base = {"feedback:thumbs": rates(80, 100)}  # 80% thumbs up
    cand = {"feedback:thumbs": rates(40, 100)}
    result = judge(spec(metrics=[metric]), base, cand)
    assert result.metrics[0].verdict == "fail"
    assert result.metrics[0].direction == "decrease"


def test_equal_arms_are_rarely_failed() -> None:
    """The false-fail rate over 200 repeated equal steps stays under the test's 5% level."""
    rng = np.random.default_rng(6)
    failures = 0
    for _ in range(200):
        base, cand = arms(
            list((rng.random(400) < 0.02).astype(float)),
            list((rng.random(100) < 0.02).astype(float)),
            list(rng.lognormal(3, 0.3, 400)),
            list(rng.lognormal(3, 0.3, 100)),
        )
        failures += judge(spec(), base, cand).verdict == "fail"
    assert failures / 200 < 0.05


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": [50, 25, 100]}, "increasing"),
        ({"steps": [5, 25, 50]}, "end at 100"),
        ({"metrics": [{"name": "vibes"}]}, "unknown canary metric"),
        ({"interval": "soon"}, "not a duration"),
        ({"marginal_score": 99, "pass_score": 90}, "marginal_score"),
    ],
)
def test_bad_specs_name_the_problem(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec(**changes)

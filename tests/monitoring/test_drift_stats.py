"""The drift tests on their own: a shifted distribution drifts, the same distribution does not, and the
false-positive rate over repeated controls stays near the test's level (small samples: KS and χ²; large:
normalised Wasserstein and Jensen–Shannon)."""

import numpy as np
import pytest

from keel.monitoring.drift import compare


@pytest.mark.parametrize("size", [300, 20_000])
def test_a_shifted_latency_drifts_and_a_control_does_not(size: int) -> None:
    rng = np.random.default_rng(7)
    reference = rng.lognormal(6.0, 0.4, size)
    shifted = compare("latency_ms", reference, rng.lognormal(6.3, 0.4, size))
    assert shifted.drifted is True
    assert shifted.test == ("ks" if size <= 1000 else "wasserstein_normed")
    assert len(shifted.histogram["reference"]) == 20
    control = compare("latency_ms", reference, rng.lognormal(6.0, 0.4, size))
    assert control.drifted is False
    assert control.effect_size < shifted.effect_size / 3


def test_false_positive_rate_over_repeated_controls() -> None:
    rng = np.random.default_rng(11)
    small = [compare("x", rng.normal(0, 1, 200), rng.normal(0, 1, 200)).drifted for _ in range(200)]
    large = [compare("x", rng.normal(0, 1, 5000), rng.normal(0, 1, 5000)).drifted for _ in range(50)]
    assert sum(small) / len(small) <= 0.10  # KS at p < 0.05
    assert sum(large) == 0


@pytest.mark.parametrize("size", [400, 10_000])
def test_an_error_rate_jump_drifts_as_a_category(size: int) -> None:
    rng = np.random.default_rng(3)
    reference = (rng.random(size) < 0.02).astype(float)
    jumped = compare("error", reference, (rng.random(size) < 0.30).astype(float))
    assert jumped.kind == "categorical"
    assert jumped.drifted is True
    assert compare("error", reference, (rng.random(size) < 0.02).astype(float)).drifted is False


def test_too_few_values_give_no_verdict() -> None:
    result = compare("x", np.arange(10.0), np.arange(100.0))
    assert result.drifted is None
    assert "fewer than 30" in result.note

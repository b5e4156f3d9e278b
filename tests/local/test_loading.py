"""The local models load safely however the first calls race the warm-up, and failures say what to do."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from keel.local.loading import LocalUnavailable, explain
from keel.local.runtime import installed

RACES = 4


@pytest.mark.slow
@pytest.mark.skipif(not installed(), reason="the `local` extra is not installed")
def test_first_chat_and_embedding_calls_racing_the_warm_up_never_fail(tmp_path: Path) -> None:
    # The race is in a process's first import of transformers, so each round is a fresh interpreter.
    script = Path(__file__).with_name("first_calls.py")

    def round_(number: int) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / str(number))],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(round_, range(RACES)))
    assert results == [{"errors": [], "warm_up_error": None}] * RACES


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (MemoryError(), "out of memory while loading x"),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory"), "lower max_tokens"),
        (ImportError("cannot import name 'AutoModelForCausalLM'"), "run `make up`"),
        (ValueError("The version of PEFT you are using is not compatible"), "an incompatible library"),
        (FileNotFoundError("model.safetensors"), "a model file is missing"),
        (KeyError("weird"), "the local runtime failed while loading x (KeyError: 'weird')"),
    ],
)
def test_failures_name_the_cause_and_the_fix(failure: Exception, expected: str) -> None:
    reason = explain(failure, "loading x")
    assert isinstance(reason, LocalUnavailable)
    assert expected in str(reason)


def test_an_explained_failure_is_kept_as_it_is() -> None:
    given = LocalUnavailable("already clear")
    assert explain(given, "anything") is given

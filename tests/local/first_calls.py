"""Run as a fresh process: the first chat and embedding calls race the warm-up thread's load.

Prints one JSON line: the errors each racing call raised (none when loading is safe).
"""

import json
import sys
import threading
from pathlib import Path
from typing import Any

from keel.local.runtime import LocalModels
from keel.settings import Settings


class Runtime:
    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(data_dir=data_dir, local_preload=True, local_threads=1)


def main(data_dir: str) -> None:
    models = LocalModels(Runtime(Path(data_dir)))
    gate = threading.Barrier(3)
    errors: list[str] = []

    def call(work: Any) -> None:
        gate.wait()
        try:
            work()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    calls = [
        lambda: models.chat.generate([{"role": "user", "content": "hi"}], {"max_tokens": 1}),
        lambda: models.embedder.embed(["hi"]),
    ]
    threads = [threading.Thread(target=call, args=(work,)) for work in calls]
    for thread in threads:
        thread.start()
    gate.wait()
    models.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"errors": errors, "warm_up_error": models.error}))


if __name__ == "__main__":
    main(sys.argv[1])

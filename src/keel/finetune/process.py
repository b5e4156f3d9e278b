"""The training process seen from the job: start it, read its events, stop it, explain how it ended."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

STOP_GRACE_S = 15


class TrainingProcess:
    def __init__(self, spec: Path, log_path: Path, threads: int) -> None:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self._log = log_path.open("a", encoding="utf-8")
        self._lines: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "keel.finetune.train", str(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,  # its own process group: stop() reaches any children too
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, "out"), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, "err"), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str] | None, name: str) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put((name, line.rstrip("\n")))
        self._lines.put(None)

    def lines(self, check: Callable[[], None]) -> Iterator[tuple[str, Any]]:
        """(`event`, dict) for protocol lines and (`log`, text) for the rest, until both pipes close;
        `check()` runs at least every second and may raise to stop (the process is then stopped)."""
        open_streams = 2
        while open_streams:
            check()
            try:
                entry = self._lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if entry is None:
                open_streams -= 1
                continue
            stream, line = entry
            self._log.write(line + "\n")
            if stream == "out" and line.startswith('{"event"'):
                try:
                    yield "event", json.loads(line)
                    continue
                except json.JSONDecodeError:
                    pass
            if line.strip():
                yield "log", line
        self.process.wait()
        self._log.flush()

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it after a grace period."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.close()

    def close(self) -> None:
        self._log.close()

    def exit_reason(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (killed by the kernel: out of memory?)" if -code == signal.SIGKILL else ""
            return f"the training process was stopped by {name}{hint}"
        return f"the training process exited with status {code}"

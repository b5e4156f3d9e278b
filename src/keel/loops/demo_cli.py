"""`keel demo`: run the closed-loop demo (keel.loops.demo) and, by default, keep its server up for the UI."""

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from keel.cli.output import console, fail


def demo(
    data_dir: Annotated[
        Path | None, typer.Option(help="A fresh directory (default: a new temporary one)")
    ] = None,
    steps: Annotated[int, typer.Option(help="LoRA training steps")] = 30,
    interval: Annotated[str, typer.Option(help="How long each canary step lasts")] = "20s",
    keep: Annotated[bool, typer.Option(help="Keep the server running afterwards, for the UI")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON at the end")] = False,
) -> None:
    """The closed loop in minutes on this machine: production traffic, feedback, dataset, LoRA fine-tune,
    evaluation gate, canary, and the judge's promotion or rollback."""
    from keel.loops.demo import Demo, fresh_dir

    try:
        directory = fresh_dir(data_dir)
    except ValueError as exc:
        fail(str(exc))
    runner = Demo(
        directory,
        lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True),
        steps,
        interval,
    )
    try:
        result = runner.run()
        if as_json:
            print(json.dumps(result, default=str))
        if keep:
            console.print(f"The server keeps running at {runner.url} (Ctrl-C stops it).")
            while runner.process is not None and runner.process.poll() is None:
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        fail(str(exc))
    finally:
        runner.stop()

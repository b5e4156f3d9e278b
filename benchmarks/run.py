"""`make bench`: run every benchmarks/bench_*.py and write docs/benchmarks.md with the machine it ran on."""

import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        values = [row.get(column, "") for column in columns]
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    sections = []
    for path in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        module = importlib.import_module(f"benchmarks.{path.stem}")
        print(f"running {path.stem} ...", flush=True)
        rows = module.run()
        doc = (module.__doc__ or "").strip()
        sections.append(f"## {path.stem}\n\n{doc}\n\n{table(rows)}\n")
        print(table(rows), flush=True)
    header = (
        "# Benchmarks\n\nWritten by `make bench` (benchmarks/run.py). Compare ratios, not absolute times: "
        "these machines are shared and noisy.\n\n"
        f"Run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine()}.\n\n"
    )
    (ROOT / "docs" / "benchmarks.md").write_text(header + "\n".join(sections))


if __name__ == "__main__":
    main()

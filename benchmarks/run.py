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


def section(name: str) -> str:
    module = importlib.import_module(f"benchmarks.{name}")
    print(f"running {name} ...", flush=True)
    rows = module.run()
    print(table(rows), flush=True)
    doc = (module.__doc__ or "").strip()
    stamp = f"Run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine()}."
    return f"## {name}\n\n{doc}\n\n{stamp}\n\n{table(rows)}\n"


def main(only: list[str]) -> None:
    """Every benchmark; or, given names, only those, replacing their sections of docs/benchmarks.md."""
    target = ROOT / "docs" / "benchmarks.md"
    names = only or [p.stem for p in sorted((ROOT / "benchmarks").glob("bench_*.py"))]
    kept: dict[str, str] = {}
    earlier = ""
    if only and target.exists():
        text = target.read_text()
        earlier = next((line for line in text.split("\n## ")[0].splitlines() if line.startswith("Run: ")), "")
        for part in text.split("\n## ")[1:]:
            kept["bench_" + part.split("bench_", 1)[1].split("\n", 1)[0]] = "## " + part.rstrip("\n") + "\n"
    for name in names:
        kept[name] = section(name)
        write(target, earlier, kept)


def write(target: Path, earlier: str, kept: dict[str, str]) -> None:
    """Written after each benchmark, so a later one that fails loses nothing already measured."""
    header = (
        "# Benchmarks\n\nWritten by `make bench` (benchmarks/run.py; `python benchmarks/run.py bench_x` "
        "re-runs one). Compare ratios, not absolute times: these machines are shared and noisy.\n\n"
        + (f"{earlier} (sections without their own date)\n\n" if earlier else "")
    )
    target.write_text(header + "\n".join(kept[name] for name in sorted(kept)))


if __name__ == "__main__":
    main(sys.argv[1:])

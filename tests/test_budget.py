"""The file-size budget from DESIGN.md: median under 200 lines, hard cap 600 per file."""

import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARD_CAP = 600
MEDIAN_CAP = 200


def line_counts() -> dict[str, int]:
    files = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    return {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in files}


def test_no_file_over_hard_cap() -> None:
    over = {path: n for path, n in line_counts().items() if n > HARD_CAP}
    assert not over, f"split these files (> {HARD_CAP} lines): {over}"


def test_median_file_is_small() -> None:
    counts = [n for n in line_counts().values() if n > 0]
    assert statistics.median(counts) < MEDIAN_CAP

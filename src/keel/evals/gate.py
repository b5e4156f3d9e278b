"""`--fail-if` conditions for `keel eval run`: `METRIC OP VALUE`, where VALUE is a number, `baseline`, or
`baseline ± NUMBER` (the baseline experiment's mean of the same metric). Parsed, never `eval`-ed.

    rougeL < baseline - 0.02      exact_match < 0.8      llm_judge <= baseline
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<baseline>baseline)\s*(?:(?P<sign>[+-])\s*(?P<delta>\d+(?:\.\d+)?))?)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Condition:
    text: str
    metric: str
    op: str
    number: float | None
    delta: float

    @property
    def uses_baseline(self) -> bool:
        return self.number is None

    def check(self, summary: dict[str, Any], baseline: dict[str, Any] | None) -> tuple[bool, str]:
        """(failed, explanation); raises ValueError when a metric is missing."""
        value = _mean(summary, self.metric, "this experiment")
        if self.number is not None:
            threshold = self.number
            described = f"{self.number:g}"
        else:
            if baseline is None:
                raise ValueError(f"`{self.text}` needs --baseline")
            base = _mean(baseline, self.metric, "the baseline")
            threshold = base + self.delta
            described = f"baseline {base:.4f}{self.delta:+g} = {threshold:.4f}"
        failed = _OPS[self.op](value, threshold)
        verdict = "FAIL" if failed else "ok"
        return failed, f"{verdict}: {self.metric} = {value:.4f} {self.op} {described} is {failed}"


def _mean(summary: dict[str, Any], metric: str, whose: str) -> float:
    entry = summary.get(metric)
    if not entry or entry.get("mean") is None:
        known = ", ".join(sorted(summary)) or "none"
        raise ValueError(f"{whose} has no scores for `{metric}` (metrics: {known})")
    return float(entry["mean"])


def parse(text: str) -> Condition:
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(
            f"cannot read condition {text!r}: write METRIC OP VALUE, "
            "e.g. 'rougeL < baseline - 0.02' or 'exact_match < 0.8'"
        )
    number = match["number"]
    delta = float(match["delta"] or 0) * (-1 if match["sign"] == "-" else 1)
    return Condition(text, match["metric"], match["op"], float(number) if number is not None else None, delta)

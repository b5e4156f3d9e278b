"""What a guardrail check is: a name, parameters it validates up front, and a verdict with character spans."""

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Finding:
    type: str  # e.g. EMAIL_ADDRESS, CREDIT_CARD, AWS_ACCESS_KEY; redaction writes it as [TYPE]
    start: int
    end: int


@dataclass
class Result:
    check: str
    flagged: bool
    score: float
    findings: list[Finding] = field(default_factory=list)
    detail: str = ""  # why, in words, when the findings do not say it (a schema violation's message)


class Check(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def prepare(self, params: dict[str, Any], where: str) -> Any:
        """Validate `params` once (raise keel.core.errors.InvalidInput with `param=f"{where}.<field>"`) and
        return what `run` needs; policies prepare when they are saved, not per call."""

    def run(self, text: str, prepared: Any) -> Result: ...


def flagged_by(check: str, findings: list[Finding]) -> Result:
    return Result(check, bool(findings), 1.0 if findings else 0.0, sorted(findings, key=lambda f: f.start))

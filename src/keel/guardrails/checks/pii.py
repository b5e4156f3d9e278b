"""`pii`: personal data found by rule and checksum, offline: e-mail addresses, phone numbers (libphonenumber's
rules, through `phonenumbers`), payment cards (Luhn), IBANs (mod-97) and US social security numbers
(`python-stdnum`), IPv4/IPv6 addresses. Candidates come from broad patterns and only the ones whose checksum
or numbering plan holds are findings, which keeps precision high on numbers that merely look like ids."""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

from keel.core.errors import InvalidInput
from keel.guardrails.checks.base import Finding, Result, flagged_by

TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
PHONE_CANDIDATE = re.compile(r"[+(]?\d[\d \t().\-]{5,22}\d")  # where libphonenumber's matcher can find one
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")


@dataclass(frozen=True)
class Prepared:
    types: frozenset[str]
    regions: tuple[str, ...]


class PII:
    name = "pii"
    description = "E-mail, phone numbers, payment cards (Luhn), IBANs, US SSNs (checksums), IP addresses."

    def prepare(self, params: dict[str, Any], where: str) -> Prepared:
        unknown = set(params) - {"types", "regions"}
        if unknown:
            raise InvalidInput(f"pii takes types and regions; not {', '.join(sorted(unknown))}", param=where)
        types = params.get("types", list(TYPES))
        if not isinstance(types, list) or not types or not set(types) <= set(TYPES):
            raise InvalidInput(f"pii types must be some of {', '.join(TYPES)}", param=f"{where}.types")
        regions = params.get("regions", ["US"])
        supported = phonenumbers.SUPPORTED_REGIONS
        if not isinstance(regions, list) or not all(isinstance(r, str) and r in supported for r in regions):
            raise InvalidInput(
                "pii regions must be ISO 3166 region codes (US, GB, DE, ...)", param=f"{where}.regions"
            )
        return Prepared(frozenset(types), tuple(regions))

    def run(self, text: str, prepared: Prepared) -> Result:
        found: list[Finding] = []
        want = prepared.types
        if "EMAIL_ADDRESS" in want:
            found += [Finding("EMAIL_ADDRESS", m.start(), m.end()) for m in EMAIL.finditer(text)]
        if "CREDIT_CARD" in want:
            found += [Finding("CREDIT_CARD", m.start(), m.end()) for m in CARD.finditer(text) if _card(m[0])]
        if "IBAN" in want:
            found += [Finding("IBAN", m.start(), m.end()) for m in IBAN.finditer(text) if iban.is_valid(m[0])]
        if "US_SSN" in want:
            found += [Finding("US_SSN", m.start(), m.end()) for m in SSN.finditer(text) if ssn.is_valid(m[0])]
        if "IP_ADDRESS" in want:
            found += [Finding("IP_ADDRESS", m.start(), m.end()) for m in _ips(text)]
        if "PHONE_NUMBER" in want:
            taken = [(f.start, f.end) for f in found]
            found += [f for f in _phones(text, prepared.regions) if not _overlaps(f, taken)]
        return flagged_by(self.name, found)


def _card(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    return 13 <= len(digits) <= 19 and digits[0] in "2345689" and luhn.is_valid(digits)


def _ips(text: str) -> list[re.Match[str]]:
    matches = []
    for pattern in (IPV4, IPV6) if text.count(":") >= 2 else (IPV4,):
        for match in pattern.finditer(text):
            if pattern is IPV6 and match[0].count(":") < 2:
                continue
            try:
                ipaddress.ip_address(match[0])
            except ValueError:
                continue
            matches.append(match)
    return matches


def _phones(text: str, regions: tuple[str, ...]) -> list[Finding]:
    """libphonenumber's matcher on the stretches that could hold a number (it costs ~0.4 ms per 1,000
    characters of prose otherwise); a little context on each side keeps its boundary rules intact."""
    spans: dict[tuple[int, int], Finding] = {}
    for candidate in PHONE_CANDIDATE.finditer(text):
        start = max(0, candidate.start() - 1)
        window = text[start : candidate.end() + 1]
        for region in regions:
            matcher = phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.VALID)
            for match in matcher:
                begin, end = start + match.start, start + match.end
                spans.setdefault((begin, end), Finding("PHONE_NUMBER", begin, end))
    return list(spans.values())


def _overlaps(finding: Finding, taken: list[tuple[int, int]]) -> bool:
    return any(finding.start < end and start < finding.end for start, end in taken)

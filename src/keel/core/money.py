"""Money as integer micro-dollars in storage and arithmetic, `Decimal` dollars at the edges."""

from decimal import Decimal

MICROS_PER_USD = 1_000_000


def to_usd(micros: int) -> Decimal:
    return Decimal(micros) / MICROS_PER_USD


def to_micros(usd: Decimal) -> int:
    return int((usd * MICROS_PER_USD).to_integral_value())

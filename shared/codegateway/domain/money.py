"""Money: integer nano-USD, basis points, and amounts people type (admin API bodies, CLI arguments)
-> integer nano-USD. No I/O.

Only plain decimal strings are accepted: a JSON number may already have passed through a float,
and exponents, signs or NaN in a money field are typos, not intent.
"""

from __future__ import annotations

import re
from decimal import Decimal

from codegateway.errors import InvalidRequest

NANO_PER_USD = 1_000_000_000
BASIS_POINTS = 10_000

# A guard against an extra zero or two, not a business rule: larger credits are split.
MAX_TOP_UP_NANO = 1_000_000 * NANO_PER_USD
_USD_RE = re.compile(r"^(\d{1,7})(?:\.(\d{1,9}))?$")


def parse_usd(text: object, field: str = "amount_usd", *, allow_zero: bool = False) -> int:
    """'12.5' -> 12_500_000_000. Positive (or zero where allowed), at most 9 decimals (nano-USD is
    the smallest unit)."""
    if not isinstance(text, str):
        raise InvalidRequest(f'{field}: send US dollars as a decimal string ("12.50"), not a JSON number.')
    match = _USD_RE.match(text.strip())
    if match is None:
        raise InvalidRequest(
            f'{field}: expected a decimal string of US dollars with at most 9 decimals, e.g. "25" or "12.50".'
        )
    nano = int(Decimal(match.group(0)) * NANO_PER_USD)
    if nano < 0 or (nano == 0 and not allow_zero):
        raise InvalidRequest(f"{field}: must be more than zero.")
    if nano > MAX_TOP_UP_NANO:
        raise InvalidRequest(f"{field}: at most {MAX_TOP_UP_NANO // NANO_PER_USD} USD at once.")
    return nano

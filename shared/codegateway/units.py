"""Units every money path shares: integer nano-USD and basis points."""

NANO_PER_USD = 1_000_000_000
BASIS_POINTS = 10_000

"""Money: amounts of yuan as `Decimal` with two places, never float. One definition for every
app: the column every amount is stored in and the constants rounding and limits are written
with."""

from decimal import Decimal

MONEY = {"max_digits": 14, "decimal_places": 2}  # DecimalField options of every amount
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a MONEY column holds; checked before quantize, which cannot hold 1e309.
MAX_AMOUNT = Decimal("9" * (MONEY["max_digits"] - MONEY["decimal_places"]) + ".99")

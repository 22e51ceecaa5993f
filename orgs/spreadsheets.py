"""Shared by every workbook the product writes (rosters, bank batches, statements)."""

# A cell starting with one of these is run as a formula by Excel and WPS (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading quote; the rest is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value

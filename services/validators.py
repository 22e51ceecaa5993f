"""Checks for what a clerk types at the counter: the resident ID rules are the households app's
(`households.idnumbers`, GB 11643); these names stay because migrations refer to them."""

from households.idnumbers import check_char as id_check_char  # noqa: F401
from households.idnumbers import normalise as normalise_id_number  # noqa: F401
from households.idnumbers import validate_id_number


def validate_resident_id_number(value: str) -> None:
    """An 18-character resident ID number with a plausible birth date and a valid check digit."""
    validate_id_number(value)

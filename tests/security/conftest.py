"""Fixtures of the security tests: the module-wide dataset of the matrix (world.py) and the
funds and household factories the drills and segregation tests reuse."""

from tests.funds.conftest import (  # noqa: F401
    add_user,
    approve,
    ask,
    filed,
    pay,
    receive,
    sources,
    standard,
    types,
)
from tests.households.conftest import dibao, make_household, walk  # noqa: F401
from tests.security.world import world  # noqa: F401

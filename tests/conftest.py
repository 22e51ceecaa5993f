"""Shared fixtures: the demo organisation tree, users by role, logged-in clients."""

import pytest
from django.db import connection

from orgs.demo import seed_organisations_and_users


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres_only" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))


@pytest.fixture
def orgs(db):
    """The demo tree: region 450000 → city 450100 → counties 450102, 450103 → base unions."""
    return seed_organisations_and_users()


@pytest.fixture
def users(orgs):
    from orgs.models import User

    return {user.username: user for user in User.objects.select_related("organisation")}


@pytest.fixture
def login(client, users):
    """login("clerk_450102") logs the test client in as that demo user and returns it."""

    def _login(username):
        if username is None:
            client.logout()
            return client
        client.force_login(users[username])
        return client

    return _login

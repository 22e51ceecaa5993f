"""Shared fixtures: the demo organisation tree, users by role, logged-in clients."""

import os
import threading
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from orgs.demo import seed_organisations_and_users

# Property-based tests run the same examples on every run of the suite (CI included), so a green
# run stays green and a failure reproduces; HYPOTHESIS_PROFILE=explore searches new examples.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres_only" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A test client's request activates its
    language for the thread and nothing deactivates it: a request in English left the next
    test on that worker speaking English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_teardown(django_db_setup, django_db_blocker):
    """PostgreSQL refuses to drop a test database while another session uses it. A live server's
    request thread still serving the browser's last keep-alive request, or a test's own thread,
    may hold one for a moment after its test ended (CI once failed on "being accessed by other
    users" with every test passed): end them before pytest-django drops the database."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# Data migrations that seed reference rows (causes, categories, windows, sources, types).
REFERENCE_SEEDS = [
    ("households.migrations.0002_reference_data", "seed"),
    ("services.migrations.0002_default_windows", "create_windows"),
    ("funds.migrations.0002_reference_data", "seed"),
]
DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _reference_rows(request):
    """A transactional test (browser, concurrency) ends by emptying every table, the rows the
    data migrations seeded included; put them back for whichever database test runs next."""
    if not (
        request.node.get_closest_marker("django_db") or DB_FIXTURES & set(request.fixturenames)
    ):
        return
    request.getfixturevalue("_django_db_helper")
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from households.models import Cause

    if Cause.objects.exists() and Group.objects.exists():
        return
    # A flush before a serialized rollback skips post_migrate: content types, permissions and
    # the role groups (orgs.roles) come back with it.
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    editor = SimpleNamespace(connection=connection)  # what the migrations read of it
    for module, function in REFERENCE_SEEDS:
        getattr(import_module(module), function)(apps, editor)


@pytest.fixture
def migrator():
    """The migration executor of a data migration's test, which migrates back to the state before
    it and forward again. Afterwards it puts the schema back on the latest migrations: else every
    later test on the same worker ran on the older schema, without a column added since."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


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


# --- Browser tests: Debian's Chromium driven by Playwright against the live test server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures
    # and assertions here are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_users(django_db_serialized_rollback, transactional_db):
    """The demo tree and users, committed so that the live server's thread sees them. The
    database is restored afterwards (serialized rollback), so the reference rows seeded by
    migrations (causes, windows, fund sources, roles) are there for the tests that follow."""
    from orgs.models import User

    seed_organisations_and_users()
    return {user.username: user for user in User.objects.select_related("organisation")}


@pytest.fixture
def page(browser, live_server, live_users):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    """browser_login("clerk_450102") signs in through the login form."""
    from orgs.demo import DEMO_PASSWORD

    def _login(username):
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(page.base_url + "/")
        return page

    return _login


@contextmanager
def on_day(day):
    """As if it were `day` in China, for a step a test takes in the past (a notice posted a
    month ago: the service refuses to date one back). Only today moves; converting a given
    datetime still works."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    with mock.patch("django.utils.timezone.localdate", localdate):
        yield


# Browser tests: every match of the pattern (a regular expression's source) whose characters lie on
# more than one line (page.evaluate(BROKEN, pattern)).
BROKEN = """(pattern) => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(new RegExp(pattern, 'g'))) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (lines.size > 1) found.push(match[0]);
    }
  }
  return found;
}"""


def run_at_once(jobs):
    """Run each job in its own thread (and database connection), all released together."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            job()
            outcomes[index] = "ok"
        except ValidationError as error:
            outcomes[index] = error.messages[0]
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes

"""Test settings: fast hashing, throwaway media, both databases selectable by DATABASE_URL."""

import tempfile

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="bangfu-test-media-")
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests

# A second alias standing for the read replica, mirroring the test database, so the reports'
# router is exercised by the tests (reports/routing.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
REPORTS_READ_REPLICA = False  # switched on by the routing test, which commits its data

# Background jobs run at once in the test's thread (a test that needs a real worker says so).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

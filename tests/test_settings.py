"""Settings come from the environment; a bad variable stops start-up with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3#Vq9!zP0m@Lr7$wT2^bY6&nH1*cJ5(dF8)gS4_eX0+uA9=iO3-tE7",
    "ALLOWED_HOSTS": "bangfu.example.org",
    "DATABASE_URL": "sqlite:////tmp/bangfu-settings-test.sqlite3",
    "PII_ENCRYPTION_KEYS": "n3iSMUjS0EAf8d8fh2-Y9NwGwl3rJOkaSjmIZYy6Ia8=",
    "PII_HASH_KEY": "0123456789abcdef0123456789abcdef-hash",
}


def manage(*args, **env):
    # Nothing of the test process's own environment that changes Django's behaviour leaks in.
    leaks = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", *env}
    clean = {k: v for k, v in os.environ.items() if k not in leaks}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_secret_key_stops_with_one_line():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "bangfu: SECRET_KEY is not set; it is required when DEBUG is false"
    ]


def test_weak_secret_key_is_refused_in_production():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/x", "not a url", "postgres://"],
)
def test_malformed_database_url_names_the_variable(url):
    result = manage("check", DATABASE_URL=url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bangfu: DATABASE_URL"), result.stderr


def test_bad_boolean_names_the_variable():
    result = manage("check", DEBUG="maybe")
    assert result.stderr.strip() == "bangfu: DEBUG must be true or false, not 'maybe'"


def test_defaults_are_sqlite_shanghai_and_chinese(settings):
    from django.conf import settings as live

    assert live.TIME_ZONE == "Asia/Shanghai"
    assert live.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in live.LANGUAGES] == ["zh-hans", "en"]


def test_postgres_url_selects_psycopg_backend():
    from config.env import env, read_database

    os.environ["BANGFU_TEST_DB"] = "postgres://u:p@db.example:5433/bangfu"
    try:
        config = read_database("BANGFU_TEST_DB", None)
    finally:
        del os.environ["BANGFU_TEST_DB"]
    assert env  # the module-level reader is shared
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "bangfu")


def test_production_security_settings():
    """The values `check --deploy` does not look at, read from a production start-up."""
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, "
        "s.SECURE_CROSS_ORIGIN_OPENER_POLICY, s.SECURE_CONTENT_TYPE_NOSNIFF, "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'], s.AXES_COOLOFF_TIME, "
        "s.AXES_FAILURE_LIMIT, s.ACCESS_LOG_RETENTION_DAYS)"
    )
    env = {**PRODUCTION, "AXES_COOLOFF_MINUTES": "30", "ACCESS_LOG_RETENTION_DAYS": "365"}
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    # The last line: Django 5.2's shell first says how many objects it imported.
    assert result.stdout.strip().splitlines()[-1].split() == [
        *("True", "True", "True", "Lax", "Lax", "31536000", "True", "True", "DENY"),
        *("same-origin", "True", "[\"'self'\"]", "0:30:00", "5", "365"),
    ]


def test_blank_numbers_take_their_default_and_bad_ones_name_the_variable():
    # A copied .env.example leaves the numbers blank.
    assert manage("check", CONN_MAX_AGE="", AXES_FAILURE_LIMIT="").returncode == 0
    result = manage("check", ACCESS_LOG_RETENTION_DAYS="a year")
    assert result.stderr.strip() == (
        "bangfu: ACCESS_LOG_RETENTION_DAYS must be a whole number, not 'a year'"
    )
    result = manage("check", AXES_COOLOFF_MINUTES="0")
    assert result.stderr.strip() == "bangfu: AXES_COOLOFF_MINUTES must be at least 1, not 0"


WRITE_AFTER_READ = """
import time
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS receipt (amount INTEGER)")
start = time.time()
while time.time() < {start}:  # both begin together
    time.sleep(0.01)
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM receipt")
        time.sleep(0.5)  # both have read before either writes
        cursor.execute("INSERT INTO receipt VALUES (1)")
print("written")
"""


def test_two_requests_writing_sqlite_at_once_wait_for_each_other(tmp_path):
    """Each reads, then writes, as a form's service does. With SQLite's default (deferred)
    transactions both hold a read lock and one fails with "database is locked" when it turns
    into a write (a 500 for its user); the settings make the second wait for the first."""
    import time

    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'two.sqlite3'}"
    code = WRITE_AFTER_READ.format(start=time.time() + 4)
    runs = [
        subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [out.strip().splitlines()[-1:] for out, _err in outputs] == [["written"]] * 2, outputs

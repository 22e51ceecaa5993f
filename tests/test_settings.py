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

"""Reading and checking the environment, so that a bad variable stops start-up with one line."""

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
SUPPORTED_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}


class ConfigError(ImproperlyConfigured):
    """A missing or malformed environment variable; the message names it."""


env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (as in a copied .env.example)."""
    value = env.str(name, default=None)
    return value if value not in (None, "") else None


def read_bool(name: str, default: bool) -> bool:
    raw_value = raw(name)
    if raw_value is None:
        return default
    value = raw_value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw_value!r}")


def read_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw_value = raw(name)
    if raw_value is None:
        return default
    try:
        value = int(raw_value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw_value!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def read_secret_key(*, debug: bool) -> str:
    key = raw("SECRET_KEY") or ""
    if key:
        if not debug and (len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure")):
            raise ConfigError(
                "SECRET_KEY is too weak for DEBUG=false: use 50 or more random characters"
            )
        return key
    if debug:
        return "django-insecure-local-development-key-only-for-debug-mode"
    raise ConfigError("SECRET_KEY is not set; it is required when DEBUG is false")


def read_database(name: str, default: str | None) -> dict | None:
    url = raw(name) or default
    if url is None:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in SUPPORTED_DB_SCHEMES:
        raise ConfigError(
            f"{name} must start with sqlite:/// or postgres://, not {scheme or 'nothing'!r}"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ConfigError(f"{name} is malformed: {exc}") from exc
    if not config.get("NAME"):
        raise ConfigError(f"{name} names no database")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Two requests writing at once: each transaction takes the write lock when it begins and
        # waits for it (up to 20 s) instead of failing with "database is locked" when a read
        # turns into a write; WAL lets pages read while another request writes.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    return config


def read_list(name: str, default: list[str]) -> list[str]:
    value = raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def read_fernet_keys(name: str, *, debug: bool, secret_key: str) -> list[str]:
    """Comma-separated Fernet keys, newest first. With DEBUG a key derived from SECRET_KEY is
    used when none is set, so local runs need no setup; production must set its own."""
    from cryptography.fernet import Fernet

    value = raw(name)
    if value is None:
        if not debug:
            raise ConfigError(f"{name} is not set; it is required when DEBUG is false")
        digest = hashlib.sha256(f"{name}:{secret_key}".encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]
    keys = [key.strip() for key in value.split(",") if key.strip()]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{name} holds a malformed key (generate one with Fernet.generate_key())"
            ) from exc
    return keys


def read_derived_secret(name: str, *, debug: bool, secret_key: str) -> str:
    value = raw(name)
    if value is None:
        if not debug:
            raise ConfigError(f"{name} is not set; it is required when DEBUG is false")
        return hashlib.sha256(f"{name}:{secret_key}".encode()).hexdigest()
    if len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 characters")
    return value

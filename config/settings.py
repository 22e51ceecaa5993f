"""Bangfu settings. Every deployment-specific value comes from the environment (.env.example)."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.env import (
    BASE_DIR,
    env,
    read_bool,
    read_database,
    read_derived_secret,
    read_fernet_keys,
    read_int,
    read_list,
    read_secret_key,
)

DEBUG = read_bool("DEBUG", default=True)
SECRET_KEY = read_secret_key(debug=DEBUG)
ALLOWED_HOSTS = read_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = read_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = BASE_DIR / "data"
DATABASES = {"default": read_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'bangfu.sqlite3'}")}
replica = read_database("DATABASE_REPLICA_URL", None)
if replica:
    DATABASES["replica"] = replica
# Reports read from the replica (reports/routing.py); a user who wrote within this many seconds
# reads the primary instead.
DATABASE_ROUTERS = ["reports.routing.ReplicaRouter"]
REPORTS_READ_REPLICA = "replica" in DATABASES
REPLICA_LAG_SECONDS = read_int("REPLICA_LAG_SECONDS", 60)
for database in DATABASES.values():
    database["ATOMIC_REQUESTS"] = False
    if database["ENGINE"] == "django.db.backends.sqlite3":
        if database["NAME"] != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL and a busy timeout let the dev server and the task worker share the file.
        database.setdefault("OPTIONS", {}).update(
            {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        )
    else:
        database["CONN_MAX_AGE"] = read_int("CONN_MAX_AGE", 60)
        database["CONN_HEALTH_CHECKS"] = True

INSTALLED_APPS = [
    "config.apps.BangfuAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "simple_history",
    "import_export",
    "csp",
    "orgs.apps.LoginProtectionConfig",  # django-axes, named in Chinese
    "orgs",
    "households",
    "funds",
    "services",
    "reports",
    "imports",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "orgs.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "orgs.middleware.refuse_nul_in_query",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "reports.routing.RecentWriteMiddleware",
    # Last, as django-axes asks: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "orgs.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "orgs.User"
# django-axes first: it refuses a locked-out username + address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
# The empty choice of every list filter (django-filter's default is "---------").
FILTERS_EMPTY_CHOICE_LABEL = _("全部")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=DATA_DIR / "media")
MEDIA_URL = "/media/"  # never served directly: downloads go through permission-checked views
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Supporting documents (scans of ID cards, diagnoses…): PDF, JPEG or PNG up to this size.
DOCUMENT_MAX_BYTES = read_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The covering indexes of the history (households.Transition) are a PostgreSQL optimisation;
# SQLite builds them without their INCLUDE columns, which only costs speed there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Security. Production values switch on with DEBUG off; `manage.py check --deploy` stays clean.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = read_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere, ours or the admin's (tests/security/test_headers.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Style attributes: none but the one of django-simple-history's history page
        # (`<p class="paginator" style="border-top: 0">`), allowed by its hash alone.
        "style-src-attr": [
            "'unsafe-hashes'",
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
        ],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = read_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = read_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Login throttling (django-axes): five wrong passwords for one username from one address lock
# that pair for the cool-off time; administrators unlock in the admin (访问尝试).
AXES_FAILURE_LIMIT = read_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=read_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_CLIENT_IP_CALLABLE = "orgs.audit.client_ip"  # the same address the access log records
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_ENABLE_ADMIN = False  # registered, scoped, in orgs/admin.py

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # ID and bank numbers never reach a log line or an error mail (orgs/logging.py). Django's
    # own loggers are redefined here so that none keeps a default handler without the filter.
    "filters": {
        "mask_pii": {"()": "orgs.logging.MaskPersonalDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_pii"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_pii"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "mask_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},  # and the root's console
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # WeasyPrint and fontTools are chatty about fonts at INFO.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}

# django-import-export (the reference tables' admin, orgs/reference_admin.py): formulas escaped
# on export, import needs the change permission, export downloads at once (its options page
# relies on an inline event handler, which the CSP forbids).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI = True
IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI = True

# Background jobs (imports and large exports): django-tasks with the database backend; run the
# worker with `python manage.py db_worker` (scripts/bangfu.sh serve starts it).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Limits of an uploaded workbook (imports/workbook.py): the file, what it unpacks to, its parts.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=600 * 1024 * 1024)
IMPORT_MAX_ZIP_ENTRIES = env.int("IMPORT_MAX_ZIP_ENTRIES", default=500)
# A job whose worker has reported nothing for this long may be run again (imports.tasks).
IMPORT_STALL_MINUTES = env.int("IMPORT_STALL_MINUTES", default=15)

# Field history is shown, never reverted: a change is a new, recorded change.
SIMPLE_HISTORY_REVERT_DISABLED = True
# The personal-data access log is kept this many days (Cybersecurity Law art. 21: at least six
# months); `manage.py prune_access_log` deletes older entries.
ACCESS_LOG_RETENTION_DAYS = read_int("ACCESS_LOG_RETENTION_DAYS", 400)

# Personal identifiers (orgs/pii.py): Fernet keys, newest first, and the key of the search hashes.
PII_ENCRYPTION_KEYS = read_fernet_keys("PII_ENCRYPTION_KEYS", debug=DEBUG, secret_key=SECRET_KEY)
PII_HASH_KEY = read_derived_secret("PII_HASH_KEY", debug=DEBUG, secret_key=SECRET_KEY)

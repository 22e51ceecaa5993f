"""Reports and rosters read from a PostgreSQL replica when DATABASE_REPLICA_URL is set.

Reads go to the replica only inside `reporting()`; writes always go to the primary. A user who
has just written something reads the primary for REPLICA_LAG_SECONDS, so their own data is
never missing from a report because the replica is a moment behind."""

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_use_replica: ContextVar[bool] = ContextVar("bangfu_use_replica", default=False)
LAST_WRITE_KEY = "_bangfu_last_write"


def replica_configured() -> bool:
    return "replica" in settings.DATABASES and settings.REPORTS_READ_REPLICA


def wrote_recently(request) -> bool:
    if request is None or not hasattr(request, "session"):
        return False
    last = request.session.get(LAST_WRITE_KEY, 0)
    return time.time() - last < settings.REPLICA_LAG_SECONDS


@contextmanager
def reporting(request=None):
    token = _use_replica.set(replica_configured() and not wrote_recently(request))
    try:
        yield
    finally:
        _use_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return "replica" if _use_replica.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class RecentWriteMiddleware:
    """Remember when the user last changed something (any successful non-GET request, except
    those a view marks `request.reads_only`: searches posted to keep ID numbers out of URLs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and not getattr(request, "reads_only", False)
            and response.status_code < 400
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            request.session[LAST_WRITE_KEY] = time.time()
        return response

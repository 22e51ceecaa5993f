"""The personal-data access log: one call wherever a full file is viewed, a full number is
revealed, personal data is exported or a document is downloaded."""

from orgs.models import AccessLog


def client_ip(request) -> str | None:
    # REMOTE_ADDR is the proxy's address behind gunicorn + nginx; the proxy must set
    # X-Forwarded-For and nothing else may reach gunicorn, so its last hop is trustworthy.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def log_access(request, *, action: str, obj=None, organisation=None, detail: str = "") -> AccessLog:
    """Record that request.user did `action` (AccessLog.Action) on `obj`."""
    if organisation is None and obj is not None:
        organisation = getattr(obj, "organisation", None)
    target = f"{obj._meta.label}:{obj.pk}" if obj is not None else ""
    return AccessLog.objects.create(
        user=request.user if request.user.is_authenticated else None,
        organisation=organisation,
        action=action,
        target=target[:100],
        detail=detail[:200],
        ip_address=client_ip(request),
    )

"""Security writes: API tokens, password changes, the audit log and its retention.

Every function here is the one path for its change; views, API views, signals and
commands call them.
"""

from __future__ import annotations

import contextvars
import datetime
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction
from django.utils import timezone

from .models import ApiToken, AuditEvent, AuditEventKind

TOKEN_PREFIX_LENGTH = 8
TOKEN_SCHEME = "cpd_"

# The request being served, so that audit rows written from model signals know who and where.
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar("cpd_current_request", default=None)


# --- audit ------------------------------------------------------------------------------


def client_ip(request: Any) -> str | None:
    """The peer address (REMOTE_ADDR): proxies are trusted only through Django's own settings."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    event: str,
    actor: Any = None,
    request: Any = None,
    role: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    details: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one audit event. `details` must never carry a full ID number (pass masked values)."""
    if request is None:
        request = current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            actor = user
    if role is None and request is not None:
        role = getattr(request, "role", None)
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or obj.pk
    actor_pk = getattr(actor, "pk", None)
    return AuditEvent.objects.create(
        event=str(event),
        actor_id=actor_pk,
        actor_username=(getattr(actor, "username", "") or username)[:150],
        role=str(role)[:100] if role is not None else "",
        ip_address=client_ip(request),
        object_type=object_type[:60],
        object_id=str(object_id or "")[:40],
        details=details or {},
    )


def audit_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete audit events older than the configured retention; nothing when none is configured.

    Retention below 180 days is refused (等保 2.0 asks for six months of audit records).
    """
    days = settings.CPD_AUDIT_RETENTION_DAYS
    if not days:
        return 0
    if days < 180:
        raise ValueError("CPD_AUDIT_RETENTION_DAYS must be at least 180.")
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    # The queryset refuses delete(); the prune is the one sanctioned path, so go under it.
    old: models.QuerySet[AuditEvent] = models.QuerySet(model=AuditEvent).filter(time__lt=cutoff)
    deleted, _ = old.delete()
    return deleted


# --- API tokens ------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, user: Any, name: str = "", request: Any = None) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns the row and the secret (shown once, never stored)."""
    prefix = secrets.token_hex(TOKEN_PREFIX_LENGTH // 2)
    key = f"{TOKEN_SCHEME}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            prefix=prefix,
            digest=_digest(key),
            name=name[:100],
            created_at=now,
            expires_at=now + datetime.timedelta(hours=settings.CPD_API_TOKEN_LIFETIME_HOURS),
        )
        audit_record(event=AuditEventKind.TOKEN_ISSUE, actor=user, request=request, obj=token, details={"prefix": prefix})
    return token, key


def api_token_for_key(key: str) -> ApiToken | None:
    """The live token whose secret is `key`, or None (unknown, expired or revoked)."""
    if not key.startswith(TOKEN_SCHEME) or len(key) < len(TOKEN_SCHEME) + TOKEN_PREFIX_LENGTH + 2:
        return None
    prefix = key[len(TOKEN_SCHEME) : len(TOKEN_SCHEME) + TOKEN_PREFIX_LENGTH]
    digest = _digest(key)
    for token in ApiToken.objects.live().filter(prefix=prefix).select_related("user"):
        if hmac.compare_digest(token.digest, digest):
            return token  # type: ignore[no-any-return]
    return None


def api_token_touch(*, token: ApiToken) -> None:
    """Record use, at most once a minute per token (no write on every request)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_token_revoke(*, token: ApiToken, request: Any = None) -> ApiToken:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if updated:
            audit_record(
                event=AuditEventKind.TOKEN_REVOKE, actor=token.user, request=request, obj=token, details={"prefix": token.prefix}
            )
    token.refresh_from_db()
    return token


def api_tokens_revoke_all(*, user: Any, reason: str, request: Any = None) -> int:
    """Revoke every live token of `user` (logout, password change)."""
    with transaction.atomic():
        count = ApiToken.objects.live().filter(user=user).update(revoked_at=timezone.now())
        if count:
            audit_record(
                event=AuditEventKind.TOKEN_REVOKE,
                actor=user,
                request=request,
                object_type="security.ApiToken",
                details={"count": count, "reason": reason},
            )
    return count


# --- passwords -------------------------------------------------------------------------


def password_change(*, user: Any, new_password: str, request: Any = None) -> None:
    """Set a password the user chose: validated, clears the first-login flag, revokes API tokens.

    Raises ValidationError with the validators' messages.
    """
    validate_password(new_password, user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        api_tokens_revoke_all(user=user, reason="password_change", request=request)
        audit_record(event=AuditEventKind.PASSWORD_CHANGE, actor=user, request=request, obj=user)

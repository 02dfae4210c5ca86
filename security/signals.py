"""Audit receivers: logins, logouts, failures, and administrative changes of roles, policies and deadlines.

Changes of the tracked models are caught at the model (admin, pages, API and services alike);
the request being served (security.middleware.RequestContextMiddleware) names the actor.
"""

from __future__ import annotations

import time

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from import_export.signals import post_export

from . import services
from .models import AuditEventKind

# model label -> (event, fields whose change is recorded)
TRACKED = {
    "accounts.Role": (AuditEventKind.ROLE_CHANGE, ["user_id", "kind", "organisation_id"]),
    "verification.YearPolicy": (AuditEventKind.POLICY_CHANGE, None),
    "verification.CyclePolicy": (AuditEventKind.POLICY_CHANGE, None),
    "hours.Year": (
        AuditEventKind.DEADLINE_CHANGE,
        ["declaration_deadline", "school_review_deadline", "district_review_deadline", "locked_at"],
    ),
}


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    from .middleware import SESSION_AUTH_AT, SESSION_LAST_SEEN

    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_LAST_SEEN] = now
    services.audit_record(event=AuditEventKind.LOGIN, actor=user, request=request, role="")


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username", ""))[:150]
    services.audit_record(event=AuditEventKind.LOGIN_FAILED, request=request, username=username, role="")


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    expired = getattr(request, "cpd_session_expired", False)
    services.audit_record(
        event=AuditEventKind.LOGOUT, actor=user, request=request, details={"reason": "timeout" if expired else "logout"}
    )
    if not expired:
        services.api_tokens_revoke_all(user=user, reason="logout", request=request)


@receiver(post_export)
def _on_admin_export(sender, model, **kwargs):
    """The Django admin's export (django-import-export): the teachers' export carries full ID numbers."""
    services.audit_record(
        event=AuditEventKind.EXPORT,
        object_type=model._meta.label,
        details={"via": "admin", "full_id_numbers": model._meta.label == "accounts.Teacher"},
    )


def _tracked_fields(instance, fields):
    if fields is None:
        fields = [f.attname for f in instance._meta.concrete_fields if not f.primary_key]
    return {name: getattr(instance, name) for name in fields}


def _on_pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    _event, fields = TRACKED[sender._meta.label]
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _tracked_fields(old, fields) if old is not None else None


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    event, fields = TRACKED[sender._meta.label]
    after = _tracked_fields(instance, fields)
    before = getattr(instance, "_audit_before", None)
    if before is None:
        # A year's row is created with default deadlines on first use, by whoever touches the year
        # first: not an administrator's act. Changing its deadlines is.
        if sender._meta.label == "hours.Year":
            return
        changes = {name: [None, _plain(value)] for name, value in after.items()}
        action = "create"
    else:
        changes = {name: [_plain(before[name]), _plain(value)] for name, value in after.items() if before[name] != value}
        action = "update"
        if not changes:
            return
    services.audit_record(event=event, obj=instance, details={"action": action, "changes": changes})


def _on_post_delete(sender, instance, **kwargs):
    event, fields = TRACKED[sender._meta.label]
    before = {name: _plain(value) for name, value in _tracked_fields(instance, fields).items()}
    services.audit_record(event=event, obj=instance, details={"action": "delete", "before": before})


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


for _label in TRACKED:
    try:
        _model = apps.get_model(_label)
    except LookupError:  # a model moved to another app: tests/security/test_audit.py notices
        continue
    pre_save.connect(_on_pre_save, sender=_model, dispatch_uid=f"audit-pre-{_label}")
    post_save.connect(_on_post_save, sender=_model, dispatch_uid=f"audit-post-{_label}")
    post_delete.connect(_on_post_delete, sender=_model, dispatch_uid=f"audit-del-{_label}")

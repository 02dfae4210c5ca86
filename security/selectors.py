from __future__ import annotations

import datetime

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEvent


def can_read_audit(role) -> bool:
    """The city administrator reads the audit log (role: an accounts.models.Role or None)."""
    return role is not None and role.kind == "city_admin"


def api_role(request):
    """The role an API request acts in: the X-CPD-Role header's (a role of the caller's), else the session's, else the first.

    The same choice as accounts.api.api_role, which this app (below accounts) cannot import.
    """
    Role = apps.get_model("accounts", "Role")
    priority = ["province_admin", "city_admin", "district_admin", "principal", "school_admin", "provider", "teacher"]
    roles = sorted(
        Role.objects.filter(user=request.user).select_related("organisation"),
        key=lambda r: (priority.index(r.kind) if r.kind in priority else len(priority), r.organisation.code),
    )
    requested = request.headers.get("X-CPD-Role") or getattr(request, "session", {}).get("active_role_id")
    for role in roles:
        if requested not in (None, "") and str(role.pk) == str(requested):
            return role
    return roles[0] if roles else None


def audit_events(
    *,
    event: str = "",
    actor: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, filtered; dates are local calendar days, both ends included."""
    qs = AuditEvent.objects.all()
    if event:
        qs = qs.filter(event=event)
    if actor:
        qs = qs.filter(actor_username=actor)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(time__gte=datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(time__lt=datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz))
    return qs

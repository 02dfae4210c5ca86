from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, RoleKind

from .models import AuditEvent


def can_read_audit(role: Role | None) -> bool:
    return role is not None and role.kind == RoleKind.CITY_ADMIN


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

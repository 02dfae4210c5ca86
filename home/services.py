"""Writes of the home app: the user's calendar feed secret and reminder e-mail preference."""

from __future__ import annotations

from django.db import transaction

from .models import UserPreference, new_calendar_token


def _preference(user) -> UserPreference:
    pref, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
    return pref


@transaction.atomic
def calendar_token_renew(*, user) -> str:
    """A new secret for the user's iCalendar feed; the previous URL stops working at once."""
    pref = _preference(user)
    pref.calendar_token = new_calendar_token()
    pref.save(update_fields=["calendar_token", "updated_at"])
    return pref.calendar_token


@transaction.atomic
def calendar_token_revoke(*, user) -> None:
    pref = _preference(user)
    pref.calendar_token = None
    pref.save(update_fields=["calendar_token", "updated_at"])


@transaction.atomic
def email_reminders_set(*, user, enabled: bool) -> UserPreference:
    pref = _preference(user)
    pref.email_reminders = enabled
    pref.save(update_fields=["email_reminders", "updated_at"])
    return pref

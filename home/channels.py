"""Reminder channels behind one small interface. A deployment lists the classes it uses in
`CPD_REMINDER_CHANNELS` (dotted paths); WeCom, DingTalk or SMS are further classes with the same
`deliver`, added by configuration without touching the callers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from hours.models import Notification


@dataclass(frozen=True)
class Message:
    user_id: int
    subject: str
    body: str
    link: str = ""


class Channel:
    """A way to reach people. `deliver` takes a batch (one deadline and offset) and returns how many it reached."""

    name = "base"

    def deliver(self, messages: list[Message]) -> int:
        raise NotImplementedError


class InAppChannel(Channel):
    """The platform's own notifications (the bell in the header): one bulk insert per batch."""

    name = "in_app"

    def deliver(self, messages: list[Message]) -> int:
        from django.utils import timezone

        from .bulk import insert_many

        now = timezone.now()
        insert_many(
            Notification,
            ("user", "message", "link", "created_at"),
            ((m.user_id, m.body[:500], m.link[:200], now) for m in messages),
        )
        return len(messages)


class EmailChannel(Channel):
    """E-mail through Django's e-mail backend, over one connection per batch. Users without an address
    and users who opted out of reminder e-mails are skipped (one query for the batch)."""

    name = "email"

    def deliver(self, messages: list[Message]) -> int:
        addresses = email_addresses([m.user_id for m in messages])
        mails = [
            EmailMessage(subject=m.subject, body=f"{m.body}\n\n{settings.CPD_SITE_URL}{m.link}", to=[addresses[m.user_id]])
            for m in messages
            if m.user_id in addresses
        ]
        if not mails:
            return 0
        with get_connection() as connection:
            return connection.send_messages(mails) or 0


def email_addresses(user_ids: list[int]) -> dict[int, str]:
    """{user id: address} of the users who have one (the login's, else the teacher record's) and did not opt out."""
    from accounts.models import User

    out: dict[int, str] = {}
    for start in range(0, len(user_ids), 5000):
        rows = (
            User.objects.filter(pk__in=user_ids[start : start + 5000], is_active=True)
            .exclude(home_preference__email_reminders=False)
            .values_list("pk", "email", "teacher__email")
        )
        for pk, email, teacher_email in rows:
            if email or teacher_email:
                out[pk] = email or teacher_email
    return out


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[type[Channel], ...]:
    return tuple(import_string(p) for p in paths)


def channels() -> list[Channel]:
    return [cls() for cls in _load(tuple(settings.CPD_REMINDER_CHANNELS))]

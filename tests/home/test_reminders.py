"""Deadline reminders: the right people at each offset, once, on every channel, honouring the
e-mail opt-out; the daily job's command; a real SMTP server receives the mail."""

from __future__ import annotations

import datetime
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from home import services
from home.models import Reminder, ReminderSettings
from home.reminders import send_reminders
from hours.models import DeclarationState, Notification

from ..factories import TeacherFactory, UserFactory
from ..verification.conftest import give
from .conftest import at, policy
from .test_todos import declare

D = datetime.date


@pytest.fixture
def city(world, settings):
    """2026 policy; teacher_a1 done, the three others short; everyone has an e-mail address."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    policy(2026)
    give(world.teachers["teacher_a1"], 2026, public=30, professional=42, elective=18)
    give(world.teachers["teacher_b1"], 2026, public=30, professional=42, elective=10)  # elective short
    for name, user in world.users.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    return world


def _users(world, *personas):
    return {world.users[p].pk for p in personas}


def _reminded(key, offset):
    return set(Reminder.objects.filter(deadline_key=key, offset=offset).values_list("user_id", flat=True))


def test_thirty_days_before_the_declaration_deadline_teachers_still_short_are_reminded(city):
    with at(2026, 12, 1):
        report = send_reminders(today=D(2026, 12, 1))
    assert _reminded("2026:declaration", 30) == _users(city, "teacher_a2", "teacher_b1", "teacher_c1")
    assert report["2026:declaration@30"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["teacher_a2@example.org", "teacher_b1@example.org", "teacher_c1@example.org"]
    assert "学时申报截止还剩30天" in mail.outbox[0].subject
    note = Notification.objects.get(user=city.users["teacher_b1"])
    assert "2026-12-31" in note.message and note.link == "/"


def test_a_teacher_with_a_returned_declaration_is_reminded_even_when_done(city):
    declare(city.teachers["teacher_a1"], DeclarationState.RETURNED)
    send_reminders(today=D(2026, 12, 24))
    assert city.users["teacher_a1"].pk in _reminded("2026:declaration", 7)


def test_days_that_are_not_an_offset_remind_nobody(city):
    assert send_reminders(today=D(2026, 12, 15)) == {"in_app": 0, "email": 0}
    assert not Reminder.objects.exists() and not mail.outbox


def test_a_second_run_sends_nothing_twice(city):
    send_reminders(today=D(2026, 12, 30))
    notes, mails = Notification.objects.count(), len(mail.outbox)
    report = send_reminders(today=D(2026, 12, 30))
    assert report["2026:declaration@1"] == 0
    assert Notification.objects.count() == notes and len(mail.outbox) == mails == 3


def test_each_offset_reminds_again(city):
    for day in (D(2026, 12, 1), D(2026, 12, 24), D(2026, 12, 30)):
        send_reminders(today=day)
    assert Notification.objects.filter(user=city.users["teacher_a2"]).count() == 3


def test_email_opt_out_keeps_the_in_app_reminder(city):
    services.email_reminders_set(user=city.users["teacher_c1"], enabled=False)
    send_reminders(today=D(2026, 12, 1))
    assert "teacher_c1@example.org" not in [m.to[0] for m in mail.outbox]
    assert Notification.objects.filter(user=city.users["teacher_c1"]).count() == 1


def test_opt_out_from_the_calendar_page(city):
    client = city.client("teacher_c1")
    assert client.post("/calendar/email/", {"email_reminders": "0"}).status_code == 302
    send_reminders(today=D(2026, 12, 1))
    assert "teacher_c1@example.org" not in [m.to[0] for m in mail.outbox]


def test_reviewers_with_work_waiting_are_reminded_before_their_deadlines(city):
    declare(city.teachers["teacher_a1"], DeclarationState.SUBMITTED)
    declare(city.teachers["teacher_b1"], DeclarationState.SCHOOL_APPROVED)
    send_reminders(today=D(2027, 1, 24))  # school review closes 2027-01-31
    assert _reminded("2026:school_review", 7) == _users(city, "school_a1_admin")
    send_reminders(today=D(2027, 2, 21))  # district review closes 2027-02-28
    assert _reminded("2026:district_review", 7) == _users(city, "district_b_admin")


def test_the_city_sets_the_offsets(city):
    ReminderSettings.objects.create(offsets="10")
    send_reminders(today=D(2026, 12, 1))
    assert not Reminder.objects.exists()
    send_reminders(today=D(2026, 12, 21))
    assert _reminded("2026:declaration", 10) == _users(city, "teacher_a2", "teacher_b1", "teacher_c1")


def test_the_command_takes_a_date_and_is_idempotent(city, capsys):
    call_command("send_reminders", "--date", "2026-12-01")
    call_command("send_reminders", "--date", "2026-12-01")
    out = capsys.readouterr().out
    assert "2026:declaration@30\t3" in out and "2026:declaration@30\t0" in out
    assert Reminder.objects.count() == 3


def test_the_job_is_set_based(city, world):
    def queries():
        Reminder.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            send_reminders(today=D(2026, 12, 1))
        return len(ctx.captured_queries)

    few = queries()
    for i in range(60):
        TeacherFactory(school=world.school_a2, user=UserFactory(email=f"more{i}@example.org"))
    assert queries() == few


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_smtp_server_receives_the_reminder(city, settings):
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        report = send_reminders(today=D(2026, 12, 1))
    finally:
        controller.stop()
    assert report["email"] == 3
    rcpts = sorted(r for e in inbox.messages for r in e.rcpt_tos)
    assert rcpts == ["teacher_a2@example.org", "teacher_b1@example.org", "teacher_c1@example.org"]
    import email
    from email.header import decode_header, make_header

    message = email.message_from_bytes(inbox.messages[0].content)
    assert str(make_header(decode_header(message["Subject"]))) == "【继续教育】学时申报截止还剩30天"
    assert "2026-12-31" in message.get_payload(decode=True).decode()


def test_a_deployment_adds_a_channel_by_configuration(city, settings):
    settings.CPD_REMINDER_CHANNELS = ["home.channels.InAppChannel", "tests.home.sms.FakeSmsChannel"]
    from .sms import FakeSmsChannel

    FakeSmsChannel.sent.clear()
    report = send_reminders(today=D(2026, 12, 1))
    assert report["sms"] == 3 and len(FakeSmsChannel.sent) == 3 and not mail.outbox


def test_celery_beat_runs_the_job_daily(city, settings):
    from cpd.celery import app
    from home.tasks import send_reminders as task

    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == "home.tasks.send_reminders" and entry["schedule"] == 60 * 60 * 24
    assert "home.tasks.send_reminders" in app.tasks
    with at(2026, 12, 1):
        report = task.delay().get()
    assert report["2026:declaration@30"] == 3

"""Every scheduled job can be run by an operator for a past day, to catch up after beat was down:
it catches up exactly once (a second run, or beat's next tick, changes nothing)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from hours.models import Declaration, DeclarationEvent, DeclarationState, Notification, Year
from hours.tasks import close_due_years
from points.models import EntryKind, PointsEntry
from points.tasks import expire_due
from verification.models import RunStatus, VerificationRun
from verification.tasks import auto_verify_due

from ..hours.conftest import declare, in_year, private_media  # noqa: F401  (fixtures)
from ..points.conftest import earn
from ..verification.conftest import give

CST = datetime.timezone(datetime.timedelta(hours=8))


def command(name: str, *args: str) -> dict:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return json.loads(out.getvalue())


def beat_back_on(day: datetime.date):
    """The clock when beat comes back (and the operator catches up): 09:00 on `day`, Beijing."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 9, 0, tzinfo=CST), tick=False)


def test_year_close_caught_up_for_a_missed_day_acts_once(world, in_year, private_media):  # noqa: F811
    for state in ("submitted", "school_approved", "approved"):
        declare(world, "teacher_a1", state=state)
    # Beat was down from 25 February to 10 March 2027; the 2026 district deadline was 28 February.
    in_year.move_to(datetime.datetime(2027, 3, 10, 9, 0, tzinfo=CST))

    first = command("close_due_years", "--date", "2027-03-01")
    snapshot = (
        list(Declaration.objects.values_list("pk", "state").order_by("pk")),
        DeclarationEvent.objects.count(),
        Notification.objects.count(),
        Year.objects.get(pk=2026).locked_at,
    )
    again = command("close_due_years", "--date", "2027-03-01")
    beat = close_due_years()  # beat's first tick after the outage

    assert first == {"job": "close_due_years", "date": "2027-03-01", "result": {"2026": {"voided": 2, "locked": 1}}}
    assert again["result"] == {} and beat == {}
    assert Year.objects.get(pk=2026).is_locked
    assert sorted(Declaration.objects.values_list("state", flat=True)) == [
        DeclarationState.APPROVED,
        DeclarationState.VOID,
        DeclarationState.VOID,
    ]
    assert (
        list(Declaration.objects.values_list("pk", "state").order_by("pk")),
        DeclarationEvent.objects.count(),
        Notification.objects.count(),
        Year.objects.get(pk=2026).locked_at,
    ) == snapshot


def test_year_close_for_a_day_before_the_deadline_does_nothing(world, in_year, private_media):  # noqa: F811
    declare(world, "teacher_a1", state="submitted")
    in_year.move_to(datetime.datetime(2027, 3, 10, 9, 0, tzinfo=CST))
    assert command("close_due_years", "--date", "2027-02-28")["result"] == {}
    assert not Year.objects.get(pk=2026).is_locked


def test_points_expiry_caught_up_for_a_missed_day_expires_once(world):
    teacher = world.teachers["teacher_a1"]
    with beat_back_on(datetime.date(2026, 6, 15)):
        earn(teacher, 300)
    with beat_back_on(datetime.date(2027, 1, 9)):  # beat was down over the new year
        first = command("expire_points", "--date", "2027-01-01")
        again = command("expire_points", "--date", "2027-01-01")
        beat = expire_due()

    assert first["result"] == {"2026": {"cancelled": 0, "expired_accounts": 1}}
    assert again["result"] == {} and beat == {}
    expired = PointsEntry.objects.filter(kind=EntryKind.EXPIRED)
    assert list(expired.values_list("account__teacher", "delta")) == [(teacher.pk, -300)]


def test_automatic_verification_caught_up_for_a_missed_day_runs_once(world):
    give(world.teachers["teacher_a1"], 2026, public=30, professional=42, elective=18)
    Year.get_or_create_for(2026)  # the year's deadlines (defaults: district review until 28 February 2027)
    with beat_back_on(datetime.date(2027, 3, 10)):  # the 2026 district deadline was 28 February
        before_deadline = command("auto_verify_due", "--date", "2027-02-28")
        first = command("auto_verify_due", "--date", "2027-03-02")
        again = command("auto_verify_due", "--date", "2027-03-02")
        beat = auto_verify_due()

    assert before_deadline["result"] == {"run": None, "status": None}
    run = VerificationRun.objects.get()
    assert first["result"] == {"run": run.pk, "status": RunStatus.DONE}
    assert again["result"] == {"run": None, "status": None} and beat is None
    assert (run.year, run.total, sum(run.counts.values())) == (2026, 4, 4)  # the four teachers of the world


@pytest.mark.parametrize("name", ["close_due_years", "expire_points", "auto_verify_due"])
def test_a_job_refuses_a_malformed_or_future_date(db, name):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(name, "--date", "10/03/2027")
    with pytest.raises(CommandError, match="future"):
        call_command(name, "--date", "2999-01-01")

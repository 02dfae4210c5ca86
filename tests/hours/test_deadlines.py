"""Per-year deadlines, the year-end close and the locked, append-only ledger (SPEC §3–4)."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from hours import ledger, services
from hours.models import Declaration, DeclarationEvent, DeclarationState, LedgerEntry, Notification, Source, Year
from hours.tasks import close_due_years

from .conftest import declaration_payload, declare, pdf

CST = datetime.timezone(datetime.timedelta(hours=8))


def at(y, m, d, hh=12, mm=0):
    """A moment in the platform's time zone (Asia/Shanghai)."""
    return datetime.datetime(y, m, d, hh, mm, tzinfo=CST)


def _create(world, submit=True):
    return world.api("teacher_a1").post(
        "/api/v1/declarations/", {**declaration_payload(), "certificate": [pdf()], "submit": submit}, format="multipart"
    )


# --- declaration deadline ---------------------------------------------------------------


def test_submitting_on_the_last_evening_of_the_year_works(world, in_year, private_media):
    in_year.move_to(at(2026, 12, 31, 23, 59))

    response = _create(world)

    assert response.status_code == 201, response.json()
    assert response.json()["state"] == "submitted"


def test_submitting_after_midnight_of_jan_1_is_refused_naming_the_deadline(world, in_year, private_media):
    # 00:01 in Guangzhou is still Dec 31 in UTC: the deadline is in the platform's time zone.
    in_year.move_to(at(2027, 1, 1, 0, 1))

    response = _create(world)

    assert response.status_code == 409
    assert "2026-12-31" in response.json()["detail"]
    assert Declaration.objects.count() == 0


def test_submitting_a_draft_after_the_deadline_is_refused(world, in_year, private_media):
    draft = declare(world, "teacher_a1", state="draft")
    in_year.move_to(at(2027, 1, 2))

    response = world.api("teacher_a1").post(f"/api/v1/declarations/{draft.pk}/submit/")
    browser = world.client("teacher_a1").post(f"/hours/declarations/{draft.pk}/submit/", follow=True)

    assert response.status_code == 409 and "2026-12-31" in response.json()["detail"]
    assert "2026-12-31" in browser.content.decode()
    assert Declaration.objects.get(pk=draft.pk).state == DeclarationState.DRAFT


# --- review deadlines -------------------------------------------------------------------


@pytest.mark.parametrize(
    "state, reviewer, action, last_day, first_late_day, deadline",
    [
        ("submitted", "school_a1_admin", "approve", at(2027, 1, 31, 23, 59), at(2027, 2, 1, 0, 1), "2027-01-31"),
        ("submitted", "school_a1_admin", "return", at(2027, 1, 31), at(2027, 2, 1), "2027-01-31"),
        ("submitted", "school_a1_admin", "reject", at(2027, 1, 31), at(2027, 2, 1), "2027-01-31"),
        ("school_approved", "district_a_admin", "approve", at(2027, 2, 28, 23, 59), at(2027, 3, 1, 0, 1), "2027-02-28"),
        ("school_approved", "district_a_admin", "return", at(2027, 2, 28), at(2027, 3, 1), "2027-02-28"),
        ("school_approved", "district_a_admin", "reject", at(2027, 2, 28), at(2027, 3, 1), "2027-02-28"),
    ],
)
def test_review_works_until_its_deadline_and_not_after(
    world, in_year, private_media, state, reviewer, action, last_day, first_late_day, deadline
):
    on_time = declare(world, "teacher_a1", state=state)
    late = declare(world, "teacher_a1", state=state)
    api = world.api(reviewer)

    in_year.move_to(last_day)
    ok = api.post(f"/api/v1/declarations/{on_time.pk}/{action}/", {"reason": "核对结果"})
    in_year.move_to(first_late_day)
    refused = api.post(f"/api/v1/declarations/{late.pk}/{action}/", {"reason": "核对结果"})

    assert ok.status_code == 200, ok.json()
    assert refused.status_code == 409
    assert deadline in refused.json()["detail"]
    assert Declaration.objects.get(pk=late.pk).state == state
    assert not DeclarationEvent.objects.filter(declaration=late).exclude(action__in=["submit", "school_approve"]).exists()


def test_late_review_in_the_browser_shows_the_deadline(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")
    in_year.move_to(at(2027, 2, 1))

    response = world.client("school_a1_admin").post(f"/hours/declarations/{decl.pk}/review/", {"action": "approve"}, follow=True)

    assert "2027-01-31" in response.content.decode()
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SUBMITTED


# --- the city moves deadlines -------------------------------------------------------------


def test_city_admin_extends_school_review_via_api_and_the_review_then_works(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")
    in_year.move_to(at(2027, 2, 3))
    school = world.api("school_a1_admin")
    assert school.post(f"/api/v1/declarations/{decl.pk}/approve/").status_code == 409

    response = world.api("city_admin").patch("/api/v1/years/2026/", {"school_review_deadline": "2027-02-10"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["school_review_deadline"] == "2027-02-10"
    assert school.post(f"/api/v1/declarations/{decl.pk}/approve/").status_code == 200
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SCHOOL_APPROVED


def test_city_admin_extends_declaration_deadline_in_the_browser_and_submitting_then_works(world, in_year, private_media):
    in_year.move_to(at(2027, 1, 5))
    assert _create(world).status_code == 409
    city = world.client("city_admin")

    page = city.get("/hours/years/?edit=2026")
    saved = city.post(
        "/hours/years/?edit=2026",
        {
            "year": "2026",
            "declaration_deadline": "2027-01-10",
            "school_review_deadline": "2027-01-31",
            "district_review_deadline": "2027-02-28",
        },
    )

    assert page.status_code == 200 and 'name="declaration_deadline"' in page.content.decode()
    assert saved.status_code == 302
    assert Year.objects.get(pk=2026).declaration_deadline == datetime.date(2027, 1, 10)
    assert _create(world).status_code == 201


def test_city_admin_cannot_put_deadlines_out_of_order(world, in_year):
    response = world.api("city_admin").patch("/api/v1/years/2026/", {"school_review_deadline": "2027-03-31"}, format="json")

    assert response.status_code == 400
    assert Year.of(2026).school_review_deadline == datetime.date(2027, 1, 31)


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin", "teacher_a1", "city_direct_admin"])
def test_only_the_city_admin_changes_deadlines(world, in_year, persona):
    response = world.api(persona).patch("/api/v1/years/2026/", {"school_review_deadline": "2027-02-10"}, format="json")
    page = world.client(persona).get("/hours/years/?edit=2026")
    posted = world.client(persona).post("/hours/years/?edit=2026", {"year": "2026", "school_review_deadline": "2027-02-10"})

    assert response.status_code == 403
    assert page.status_code == 403 and posted.status_code == 403
    assert Year.of(2026).school_review_deadline == datetime.date(2027, 1, 31)


# --- the year-end close -------------------------------------------------------------------


@pytest.fixture
def every_state(world, in_year, private_media):
    states = ["draft", "submitted", "school_approved", "returned", "approved", "rejected"]
    return {state: declare(world, "teacher_a1", state=state) for state in states}


def test_year_close_voids_undecided_declarations_and_locks_the_year(world, in_year, every_state):
    in_year.move_to(at(2027, 3, 1, 0, 30))
    notes_before = Notification.objects.count()

    result = services.years_close_due()

    assert result == {2026: {"voided": 4, "locked": 1}}
    for state, decl in every_state.items():
        decl.refresh_from_db()
        if state in ("approved", "rejected"):
            assert decl.state == state
            assert not decl.events.filter(action="void").exists()
        else:
            assert decl.state == DeclarationState.VOID, state
            event = decl.events.get(action="void")
            assert (event.from_state, event.actor_id) == (state, None)
            assert (
                Notification.objects.filter(declaration=decl, user=world.users["teacher_a1"], message__contains="作废").count()
                == 1
            )
    assert Notification.objects.count() == notes_before + 4
    assert Year.objects.get(pk=2026).is_locked
    assert LedgerEntry.objects.count() == 1  # the approved one only


def test_year_close_does_nothing_on_the_last_review_day(world, in_year, every_state):
    in_year.move_to(at(2027, 2, 28, 23, 59))

    assert services.years_close_due() == {}
    assert not Year.objects.get(pk=2026).is_locked
    assert Declaration.objects.get(pk=every_state["submitted"].pk).state == DeclarationState.SUBMITTED


def test_year_close_twice_changes_nothing_the_second_time(world, in_year, every_state):
    in_year.move_to(at(2027, 3, 1))
    close_due_years()  # the daily Celery task
    locked_at = Year.objects.get(pk=2026).locked_at
    snapshot = (
        list(Declaration.objects.values_list("pk", "state", "updated_at").order_by("pk")),
        DeclarationEvent.objects.count(),
        Notification.objects.count(),
    )
    in_year.move_to(at(2027, 3, 2))

    second = close_due_years()

    assert second == {}
    assert Year.objects.get(pk=2026).locked_at == locked_at
    assert (
        list(Declaration.objects.values_list("pk", "state", "updated_at").order_by("pk")),
        DeclarationEvent.objects.count(),
        Notification.objects.count(),
    ) == snapshot


def test_an_extended_district_deadline_postpones_the_close(world, in_year, every_state):
    services.year_update(role=world.roles["city_admin"], year=2026, data={"district_review_deadline": datetime.date(2027, 3, 15)})
    in_year.move_to(at(2027, 3, 1))

    assert services.years_close_due() == {}
    assert (
        world.api("district_a_admin").post(f"/api/v1/declarations/{every_state['school_approved'].pk}/approve/").status_code
        == 200
    )

    in_year.move_to(at(2027, 3, 16))
    assert services.years_close_due() == {2026: {"voided": 3, "locked": 1}}


def test_a_locked_years_deadlines_cannot_be_moved(world, in_year, every_state):
    in_year.move_to(at(2027, 3, 1))
    services.years_close_due()

    response = world.api("city_admin").patch("/api/v1/years/2026/", {"district_review_deadline": "2027-03-31"}, format="json")

    assert response.status_code == 409
    assert Year.of(2026).district_review_deadline == datetime.date(2027, 2, 28)


def test_closing_a_year_leaves_the_next_year_open(world, in_year, private_media):
    in_year.move_to(at(2027, 3, 1))
    next_year = declare(
        world, "teacher_a1", state="submitted", year=2027, start_date="2027-02-01", end_date="2027-02-01", hours="6"
    )

    services.years_close_due()

    assert Declaration.objects.get(pk=next_year.pk).state == DeclarationState.SUBMITTED
    assert not Year.of(2027).is_locked


# --- the locked, append-only ledger -----------------------------------------------------------


@pytest.fixture
def locked_2026(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="approved")
    in_year.move_to(at(2027, 3, 1))
    services.years_close_due()
    assert Year.of(2026).is_locked
    return LedgerEntry.objects.get(declaration=decl)


def test_locked_year_refuses_a_new_ledger_entry(world, locked_2026):
    with pytest.raises(services.StateConflict):
        ledger.entry_create(
            teacher=world.teachers["teacher_a1"],
            year=2026,
            category="public",
            hours=Decimal("6"),
            source=Source.REGISTRATION,
            title="迟到的登记",
        )
    assert LedgerEntry.objects.count() == 1


def test_locked_year_accepts_a_city_correction_with_a_reason(world, locked_2026):
    city = world.api("city_admin")

    revoked = city.post("/api/v1/ledger/corrections/", {"revokes": locked_2026.pk, "reason": "证书系伪造"}, format="json")
    added = city.post(
        "/api/v1/ledger/corrections/",
        {"teacher": world.teachers["teacher_a1"].pk, "year": 2026, "category": "public", "hours": "6", "reason": "漏登"},
        format="json",
    )

    assert revoked.status_code == 201, revoked.json()
    assert Decimal(revoked.json()["hours"]) == -locked_2026.hours
    assert revoked.json()["revokes"] == locked_2026.pk and revoked.json()["reason"] == "证书系伪造"
    assert added.status_code == 201, added.json()
    totals = world.api("teacher_a1").get("/api/v1/ledger/?year=2026").json()["results"]
    assert sum(Decimal(e["hours"]) for e in totals) == Decimal("6")


@pytest.mark.parametrize("reason", ["", "   "])
def test_correction_without_a_reason_is_400(world, locked_2026, reason):
    response = world.api("city_admin").post(
        "/api/v1/ledger/corrections/", {"revokes": locked_2026.pk, "reason": reason}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    assert LedgerEntry.objects.count() == 1


def test_only_the_city_admin_corrects_the_ledger(world, locked_2026):
    response = world.api("district_a_admin").post(
        "/api/v1/ledger/corrections/", {"revokes": locked_2026.pk, "reason": "想撤销"}, format="json"
    )

    assert response.status_code == 403
    assert LedgerEntry.objects.count() == 1


def test_revoking_an_entry_twice_is_409(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="approved")
    entry = LedgerEntry.objects.get(declaration=decl)
    city = world.api("city_admin")

    first = city.post("/api/v1/ledger/corrections/", {"revokes": entry.pk, "reason": "重复登记"}, format="json")
    second = city.post("/api/v1/ledger/corrections/", {"revokes": entry.pk, "reason": "重复登记"}, format="json")
    revoke_the_revocation = city.post(
        "/api/v1/ledger/corrections/", {"revokes": first.json()["id"], "reason": "撤销错了"}, format="json"
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert revoke_the_revocation.status_code == 409
    assert LedgerEntry.objects.count() == 2


def test_ledger_refuses_update_and_delete(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="approved")
    entry = LedgerEntry.objects.get(declaration=decl)

    entry.hours = Decimal("60")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.save(update_fields=["hours"])
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(hours=Decimal("60"))
    with pytest.raises(TypeError), transaction.atomic():  # bulk_update fails inside its own atomic block
        LedgerEntry.objects.bulk_update([entry], ["hours"])
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.all().delete()
    with pytest.raises(TypeError):
        entry.delete()

    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert stored.hours == decl.hours == Decimal("12")

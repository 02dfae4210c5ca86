"""Exchanging points for hours (SPEC §6): 100 points an hour, whole hours, at most 10 professional and
10 elective hours a year (pending requests included), only inside the city's window; the school
confirms payment (the hours enter the ledger) or refuses (the points come back)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from hours.models import LedgerEntry, Source
from points.models import EntryKind, ExchangeRequest, PointsEntry, RequestState

from .conftest import account, assert_ledger_consistent, at, earn

URL = "/api/v1/points/exchange-requests/"

pytestmark = pytest.mark.usefixtures("in_window", "window")


def _request(world, hours, category="professional", persona="teacher_a1"):
    return world.api(persona).post(URL, {"category": category, "hours": hours}, format="json")


def _kinds(teacher):
    return list(PointsEntry.objects.filter(account__teacher=teacher).values_list("kind", "delta", "amount"))


def _points_ledger(teacher):
    return LedgerEntry.objects.filter(teacher=teacher, source=Source.POINTS_EXCHANGE)


# --- requesting ----------------------------------------------------------------------------------------


def test_exchanging_exactly_the_balance_holds_every_point(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 200)

    response = _request(world, 2)

    assert response.status_code == 201, response.json()
    assert response.json()["points"] == 200 and response.json()["state"] == RequestState.PENDING
    acc = account(teacher)
    assert (acc.balance, acc.held) == (0, 200)
    me = world.api("teacher_a1").get("/api/v1/points/me/").json()
    assert (me["balance"], me["held"]) == (0, 200)
    assert me["per_category"] == {"professional": 0, "elective": 0}
    assert _kinds(teacher)[-1] == (EntryKind.HELD, -200, 200)
    assert_ledger_consistent(teacher)


def test_one_hour_more_than_the_balance_is_refused_naming_the_hours(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 200)

    response = _request(world, 3)

    assert response.status_code == 400
    assert "积分不足" in response.json()["hours"][0]
    assert not ExchangeRequest.objects.exists()
    assert (account(teacher).balance, account(teacher).held) == (200, 0)
    assert_ledger_consistent(teacher)


@pytest.mark.parametrize("category", ["professional", "elective"])
def test_more_than_ten_hours_a_year_in_a_category_is_refused(world, category):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 1500)

    assert _request(world, 11, category).status_code == 400
    assert _request(world, 10, category).status_code == 201
    response = _request(world, 1, category)

    assert response.status_code == 400
    assert "每年最多兑换10学时" in response.json()["hours"][0]
    assert account(teacher).balance == 500
    assert ExchangeRequest.objects.filter(teacher=teacher).count() == 1
    assert_ledger_consistent(teacher)


def test_the_two_caps_are_separate(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 2000)

    assert _request(world, 10, "professional").status_code == 201
    assert _request(world, 10, "elective").status_code == 201

    assert (account(teacher).balance, account(teacher).held) == (0, 2000)


def test_pending_and_paid_requests_count_toward_the_cap_and_a_cancelled_one_does_not(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 1500)
    paid = _request(world, 4).json()["id"]
    world.api("school_a1_admin").post(f"{URL}confirm-paid/", {"ids": [paid]}, format="json")
    pending = _request(world, 5).json()["id"]

    over = _request(world, 2)

    assert over.status_code == 400
    assert "还可兑换 1 学时" in over.json()["hours"][0]
    world.api("teacher_a1").post(f"{URL}{pending}/cancel/")
    assert _request(world, 6).status_code == 201
    assert_ledger_consistent(teacher)


@pytest.mark.parametrize(
    "day",
    [datetime.date(2026, 2, 28), datetime.date(2026, 12, 1)],
    ids=["the-day-before-it-opens", "the-day-after-it-closes"],
)
def test_outside_the_window_a_request_is_a_conflict(world, day):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 300, on=datetime.date(2026, 2, 1))

    with at(day):
        response = _request(world, 1)

    assert response.status_code == 409
    assert "2026-03-01 ~ 2026-11-30" in response.json()["detail"]
    assert not ExchangeRequest.objects.exists()
    assert account(teacher).balance == 300


@pytest.mark.parametrize("day", [datetime.date(2026, 3, 1), datetime.date(2026, 11, 30)], ids=["opening-day", "closing-day"])
def test_the_first_and_last_days_of_the_window_are_open(world, day):
    earn(world.teachers["teacher_a1"], 100, on=datetime.date(2026, 2, 1))

    with at(day, hour=23):
        assert _request(world, 1).status_code == 201


def test_without_a_window_for_the_year_a_request_is_a_conflict(world, window):
    earn(world.teachers["teacher_a1"], 300)
    window.delete()

    response = _request(world, 1)

    assert response.status_code == 409
    assert "未设定" in response.json()["detail"]


def test_only_the_teacher_requests_an_exchange(world):
    assert _request(world, 1, persona="school_a1_admin").status_code == 403


# --- refusing and cancelling give the points back --------------------------------------------------------


def test_the_school_refuses_with_a_reason_and_the_points_come_back(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 300)
    pk = _request(world, 2).json()["id"]
    school = world.api("school_a1_admin")

    assert school.post(f"{URL}{pk}/refuse/", {"reason": "  "}, format="json").status_code == 400
    response = school.post(f"{URL}{pk}/refuse/", {"reason": "本月名额已满"}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == RequestState.REFUSED and response.json()["reason"] == "本月名额已满"
    assert (account(teacher).balance, account(teacher).held) == (300, 0)
    released = PointsEntry.objects.get(account__teacher=teacher, kind=EntryKind.RELEASED)
    assert (released.delta, released.amount, released.request_id, released.reason) == (200, 200, pk, "本月名额已满")
    assert not _points_ledger(teacher).exists()
    assert_ledger_consistent(teacher)


def test_the_teacher_cancels_and_the_points_come_back(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 300)
    pk = _request(world, 3, "elective").json()["id"]

    response = world.api("teacher_a1").post(f"{URL}{pk}/cancel/")

    assert response.status_code == 200 and response.json()["state"] == RequestState.CANCELLED
    assert (account(teacher).balance, account(teacher).held) == (300, 0)
    assert _kinds(teacher)[-2:] == [(EntryKind.HELD, -300, 300), (EntryKind.RELEASED, 300, 300)]
    assert_ledger_consistent(teacher)


def test_the_teacher_cancels_from_the_points_page(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 100)
    pk = _request(world, 1).json()["id"]

    response = world.client("teacher_a1").post(f"/points/requests/{pk}/cancel/", follow=True)

    assert response.status_code == 200
    assert "已取消，积分已退回。" in response.content.decode()
    assert ExchangeRequest.objects.get(pk=pk).state == RequestState.CANCELLED
    assert account(teacher).balance == 100


def test_a_refused_request_cannot_be_cancelled_again(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 100)
    pk = _request(world, 1).json()["id"]
    world.api("school_a1_admin").post(f"{URL}{pk}/refuse/", {"reason": "资料不全"}, format="json")

    response = world.api("teacher_a1").post(f"{URL}{pk}/cancel/")

    assert response.status_code == 409
    assert PointsEntry.objects.filter(account__teacher=teacher, kind=EntryKind.RELEASED).count() == 1
    assert account(teacher).balance == 100
    assert_ledger_consistent(teacher)


# --- confirming payment puts the hours in the ledger -------------------------------------------------------


def test_confirming_payment_spends_the_points_and_puts_the_hours_in_the_ledger(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 500)
    pk = _request(world, 3, "elective").json()["id"]

    response = world.api("school_a1_admin").post(f"{URL}confirm-paid/", {"ids": [pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"confirmed": [pk], "failed": []}
    assert ExchangeRequest.objects.get(pk=pk).state == RequestState.PAID
    assert (account(teacher).balance, account(teacher).held) == (200, 0)
    spent = PointsEntry.objects.get(account__teacher=teacher, kind=EntryKind.SPENT)
    assert (spent.delta, spent.amount, spent.request_id) == (0, 300, pk)
    [entry] = _points_ledger(teacher)
    assert (entry.year, entry.category, entry.hours) == (2026, "elective", Decimal("3"))
    assert entry.organiser == world.school_a1.name
    assert_ledger_consistent(teacher)


def test_confirming_twice_fails_the_second_time_and_leaves_one_ledger_entry(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 200)
    pk = _request(world, 2).json()["id"]
    school = world.api("school_a1_admin")
    school.post(f"{URL}confirm-paid/", {"ids": [pk]}, format="json")

    again = school.post(f"{URL}confirm-paid/", {"ids": [pk]}, format="json")

    assert again.json()["confirmed"] == []
    assert [f["id"] for f in again.json()["failed"]] == [pk]
    assert "已兑换" in again.json()["failed"][0]["error"]
    assert _points_ledger(teacher).count() == 1
    assert PointsEntry.objects.filter(account__teacher=teacher, kind=EntryKind.SPENT).count() == 1
    assert (account(teacher).balance, account(teacher).held) == (0, 0)
    assert_ledger_consistent(teacher)


def test_a_paid_request_can_no_longer_be_cancelled_or_refused(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 100)
    pk = _request(world, 1).json()["id"]
    world.api("school_a1_admin").post(f"{URL}confirm-paid/", {"ids": [pk]}, format="json")

    assert world.api("teacher_a1").post(f"{URL}{pk}/cancel/").status_code == 409
    assert world.api("school_a1_admin").post(f"{URL}{pk}/refuse/", {"reason": "弄错了"}, format="json").status_code == 409
    assert account(teacher).balance == 0
    assert _points_ledger(teacher).count() == 1
    assert_ledger_consistent(teacher)


def test_the_school_confirms_payment_on_the_requests_page(world):
    a1, other = world.teachers["teacher_a1"], world.teachers["teacher_a2"]
    earn(a1, 300)
    first = _request(world, 1).json()["id"]
    second = _request(world, 2, "elective").json()["id"]
    page = world.client("school_a1_admin")

    response = page.post("/points/requests/", {"ids": [first, second], "action": "confirm"}, follow=True)

    assert "已确认 2 份兑换，学时已计入。" in response.content.decode()
    assert sorted(_points_ledger(a1).values_list("category", "hours")) == [
        ("elective", Decimal("2")),
        ("professional", Decimal("1")),
    ]
    assert set(ExchangeRequest.objects.values_list("state", flat=True)) == {RequestState.PAID}
    again = page.post("/points/requests/", {"ids": [first], "action": "confirm"}, follow=True)
    assert f"#{first}: 该申请当前状态为“已兑换”。" in again.content.decode()
    assert _points_ledger(a1).count() == 2
    assert not _points_ledger(other).exists()
    assert_ledger_consistent(a1)


def test_the_school_refuses_on_the_requests_page_with_a_reason(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 200)
    pk = _request(world, 2).json()["id"]

    response = world.client("school_a1_admin").post(
        "/points/requests/", {"ids": [pk], "action": "refuse", "reason": "请下月再申请"}, follow=True
    )

    assert "已退回，积分已解冻。" in response.content.decode()
    req = ExchangeRequest.objects.get(pk=pk)
    assert (req.state, req.reason) == (RequestState.REFUSED, "请下月再申请")
    assert account(teacher).balance == 200
    assert_ledger_consistent(teacher)

"""The points pages and who may act: the teacher's page (balance, history, what can be exchanged now),
the school's payment queue limited to its own teachers, the city's rules and windows."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest

from hours.models import LedgerEntry, Source
from points import services
from points.models import EarningRule, EntryKind, ExchangeRequest, ExchangeWindow, PointsAccount, PointsEntry, RequestState

from .conftest import account, assert_ledger_consistent, at, earn

URL = "/api/v1/points/exchange-requests/"

pytestmark = pytest.mark.usefixtures("in_window", "window")


class _Tables(HTMLParser):
    """The text of every cell of the table with a given data-testid, row by row."""

    def __init__(self, testid: str):
        super().__init__()
        self.testid, self.depth, self.rows, self.cell = testid, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (dict(attrs).get("data-testid") == self.testid or self.depth):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _rows(html: str, testid: str) -> list[list[str]]:
    parser = _Tables(testid)
    parser.feed(html)
    assert parser.rows, f"no table {testid} on the page"
    return parser.rows[1:]  # without the header


def _testid(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', html)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


def _as(world, persona):
    role = world.roles[persona]
    return {"role": role, "actor": role.user}


def _request(world, hours, category="professional", persona="teacher_a1"):
    return services.exchange_request(**_as(world, persona), category=category, hours=hours)


# --- the teacher's page -------------------------------------------------------------------------------------


def test_the_teachers_page_shows_the_balance_every_kind_of_movement_and_what_can_be_exchanged_now(world):
    teacher = world.teachers["teacher_a1"]
    with at(datetime.date(2025, 8, 1)):
        earn(teacher, 80, rule=EarningRule.objects.create(action_code="post", name="发表研修帖子", points=20))
    with at(datetime.date(2026, 1, 1)):
        services.points_expire_due()
    earn(teacher, 1600)
    paid = _request(world, 8)
    services.exchange_confirm_paid(**_as(world, "school_a1_admin"), request_ids=[paid.pk])
    refused = _request(world, 2)
    services.exchange_refuse(**_as(world, "school_a1_admin"), request=refused, reason="名额已满")
    _request(world, 1, "elective")  # pending: 100 held

    html = world.client("teacher_a1").get("/points/").content.decode()

    assert _testid(html, "balance") == "700" and _testid(html, "held") == "100"
    # Professional: 10 − 8 paid = 2 left; elective: 10 − 1 pending = 9 left, but 700 points buy only 7.
    assert (_testid(html, "can-professional"), _testid(html, "can-elective")) == ("2", "7")
    history = _rows(html, "points-history")
    kinds = [row[2] for row in history]
    assert set(kinds) == {"获得", "兑换冻结", "已兑换", "解冻退回", "年末清零"}
    # Every movement is signed (a real minus sign), the available balance and the held points apart.
    assert ["2025", "年末清零", "−80", "—", "积分只在当年有效，年末清零"] in [row[1:] for row in history]
    assert ["2026", "解冻退回", "+200", "−200", "名额已满"] in [row[1:] for row in history]
    assert ["2026", "兑换冻结", "−800", "+800", f"兑换申请 #{paid.pk}"] in [row[1:] for row in history]
    assert ["2026", "已兑换", "0", "−800", "兑换 8 学时"] in [row[1:] for row in history]
    states = sorted(row[4] for row in _rows(html, "requests"))
    assert states == sorted(["已兑换", "未通过", "待学校确认"])


def test_outside_the_window_the_page_offers_no_exchange(world, window):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 500)
    window.closes_on = datetime.date(2026, 6, 1)
    window.save()

    html = world.client("teacher_a1").get("/points/").content.decode()

    assert (_testid(html, "can-professional"), _testid(html, "can-elective")) == ("0", "0")
    assert "现在不在兑换时间内。" in html
    assert 'data-testid="exchange-form"' not in html


def test_the_teacher_requests_an_exchange_on_the_page(world):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 300)
    page = world.client("teacher_a1")

    too_many = page.post("/points/", {"category": "professional", "hours": 4})
    done = page.post("/points/", {"category": "professional", "hours": 3}, follow=True)

    assert "积分不足：需要 400 分，可用 300 分。" in _testid(too_many.content.decode(), "error-hours")
    assert "兑换申请已提交，积分已冻结，等待学校确认。" in done.content.decode()
    assert ExchangeRequest.objects.get().hours == 3
    assert (account(teacher).balance, account(teacher).held) == (0, 300)


def test_only_teachers_have_a_points_page(world):
    assert world.client("school_a1_admin").get("/points/").status_code == 403


# --- the school's queue: its own teachers only ------------------------------------------------------------


@pytest.fixture
def a1_request(world):
    earn(world.teachers["teacher_a1"], 300)
    return _request(world, 2)


def _unchanged(world, req):
    teacher = world.teachers["teacher_a1"]
    assert ExchangeRequest.objects.get(pk=req.pk).state == RequestState.PENDING
    assert (account(teacher).balance, account(teacher).held) == (100, 200)
    assert not LedgerEntry.objects.filter(source=Source.POINTS_EXCHANGE).exists()
    assert not PointsEntry.objects.filter(kind__in=[EntryKind.SPENT, EntryKind.RELEASED]).exists()
    assert_ledger_consistent(teacher)


def test_a_school_admin_sees_only_their_schools_requests(world, a1_request):
    earn(world.teachers["teacher_a2"], 100)
    a2_request = _request(world, 1, persona="teacher_a2")

    listed = world.api("school_a2_admin").get(URL).json()["results"]
    html = world.client("school_a2_admin").get("/points/requests/").content.decode()

    assert [r["id"] for r in listed] == [a2_request.pk]
    assert f'data-testid="pick-{a2_request.pk}"' in html and f'data-testid="pick-{a1_request.pk}"' not in html
    assert world.api("school_a2_admin").get(f"{URL}{a1_request.pk}/").status_code == 404
    # The district sees both of its schools.
    assert {r["id"] for r in world.api("district_a_admin").get(URL).json()["results"]} == {a1_request.pk, a2_request.pk}
    assert world.api("district_b_admin").get(URL).json()["results"] == []


def test_another_schools_request_cannot_be_confirmed_through_the_api(world, a1_request):
    response = world.api("school_a2_admin").post(f"{URL}confirm-paid/", {"ids": [a1_request.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"confirmed": [], "failed": [{"id": a1_request.pk, "error": "未找到"}]}
    _unchanged(world, a1_request)


def test_another_schools_request_cannot_be_refused_through_the_api(world, a1_request):
    response = world.api("school_a2_admin").post(f"{URL}{a1_request.pk}/refuse/", {"reason": "不是本校的"}, format="json")

    assert response.status_code == 404
    _unchanged(world, a1_request)


def test_another_schools_request_cannot_be_confirmed_or_refused_on_the_page(world, a1_request):
    page = world.client("school_a2_admin")

    confirm = page.post("/points/requests/", {"ids": [a1_request.pk], "action": "confirm"}, follow=True)
    refuse = page.post("/points/requests/", {"ids": [a1_request.pk], "action": "refuse", "reason": "不是本校的"})

    assert f"#{a1_request.pk}: 未找到" in confirm.content.decode()
    assert refuse.status_code == 404
    _unchanged(world, a1_request)


def test_a_teacher_cannot_cancel_a_colleagues_request(world, a1_request):
    assert world.api("teacher_a2").post(f"{URL}{a1_request.pk}/cancel/").status_code == 404
    assert world.client("teacher_a2").post(f"/points/requests/{a1_request.pk}/cancel/").status_code == 404
    _unchanged(world, a1_request)


@pytest.mark.parametrize("persona", ["teacher_a1", "principal_a1", "district_a_admin"])
def test_only_the_school_admin_confirms_payment_through_the_api(world, a1_request, persona):
    response = world.api(persona).post(f"{URL}confirm-paid/", {"ids": [a1_request.pk]}, format="json")

    assert response.status_code == 403
    _unchanged(world, a1_request)


def test_a_teacher_cannot_confirm_on_the_requests_page(world, a1_request):
    response = world.client("teacher_a1").post("/points/requests/", {"ids": [a1_request.pk], "action": "confirm"})

    assert response.status_code == 403
    _unchanged(world, a1_request)


def test_a_principal_sees_the_queue_but_has_no_buttons(world, a1_request):
    html = world.client("principal_a1").get("/points/requests/").content.decode()

    assert [row[0] for row in _rows(html, "school-requests")] == ["育才小学老师"]
    assert 'data-testid="confirm-paid"' not in html


# --- the city's rules and windows -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin", "teacher_a1"])
def test_only_the_city_admin_opens_the_rules_and_windows_page(world, persona):
    page = world.client(persona)

    assert page.get("/points/rules/").status_code == 403
    assert (
        page.post(
            "/points/rules/", {"form": "window", "year": 2026, "opens_on": "2026-01-01", "closes_on": "2026-12-31"}
        ).status_code
        == 403
    )
    assert ExchangeWindow.objects.get(year=2026).opens_on == datetime.date(2026, 3, 1)


def test_the_city_admin_sets_a_rule_and_the_window(world):
    page = world.client("city_admin")

    assert page.get("/points/rules/").status_code == 200
    page.post(
        "/points/rules/",
        {
            "form": "rule",
            "action_code": "post",
            "name": "发表研修帖子",
            "points": 5,
            "kind": "basic",
            "daily_limit": 20,
            "is_active": "on",
        },
    )
    page.post("/points/rules/", {"form": "window", "year": 2026, "opens_on": "2026-06-01", "closes_on": "2026-06-30"})

    rule = EarningRule.objects.get(action_code="post")
    assert (rule.points, rule.daily_limit, rule.yearly_limit) == (5, 20, None)
    window = ExchangeWindow.objects.get(year=2026)
    assert (window.opens_on, window.closes_on) == (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))


def test_a_window_reaching_into_another_year_is_refused(world):
    response = world.client("city_admin").post(
        "/points/rules/", {"form": "window", "year": 2026, "opens_on": "2026-12-01", "closes_on": "2027-01-15"}, follow=True
    )

    assert "兑换窗口须在该年度内" in response.content.decode()
    assert ExchangeWindow.objects.get(year=2026).closes_on == datetime.date(2026, 11, 30)


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin"])
def test_only_the_city_admin_sets_rules_and_windows_through_the_api(world, persona):
    api = world.api(persona)

    assert api.post("/api/v1/points/rules/", {"action_code": "x", "name": "x", "points": 1}, format="json").status_code == 403
    assert (
        api.post(
            "/api/v1/points/windows/", {"year": 2027, "opens_on": "2027-01-01", "closes_on": "2027-12-31"}, format="json"
        ).status_code
        == 403
    )
    assert not EarningRule.objects.exists()
    assert not ExchangeWindow.objects.filter(year=2027).exists()
    assert not PointsAccount.objects.exists()


def test_a_refused_window_says_which_field_is_wrong_and_keeps_what_was_typed(world):
    """The window form printed no field error: a wrong year re-showed the page with no reason given."""
    page = world.client("city_admin")
    windows = list(ExchangeWindow.objects.values_list("year", "opens_on", "closes_on"))

    response = page.post("/points/rules/", {"form": "window", "year": 1999, "opens_on": "2026-06-01", "closes_on": "2026-06-30"})

    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(r'<small class="error" data-testid="error-year">([^<]+)</small>', html)
    assert error and "2000" in error.group(1)
    assert 'value="2026-06-01"' in html and 'value="2026-06-30"' in html
    assert list(ExchangeWindow.objects.values_list("year", "opens_on", "closes_on")) == windows

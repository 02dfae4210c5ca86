"""Earning points (SPEC §6): the online research platform reports actions through the API (its own
key, idempotent by event id) or the city imports them from Excel; the city's rules and their daily
and yearly limits decide, and a refusal always says why."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from cpd.models import PlatformClient
from cpd.platform import platform_client_create
from points.imports import HEADERS
from points.models import EarningRule, EntryKind, PointsEntry, PointsEvent, PointsImport

from .conftest import account, assert_ledger_consistent

URL = "/api/v1/points/events/"

pytestmark = pytest.mark.usefixtures("in_window")


@pytest.fixture
def key(db):
    _client, key = platform_client_create(name="广州教师研修网")
    return key


@pytest.fixture
def rules(db):
    return {
        "post": EarningRule.objects.create(action_code="post", name="发表研修帖子", points=5, daily_limit=10),
        "course": EarningRule.objects.create(action_code="course", name="完成研修课程", points=50, yearly_limit=100),
        "award": EarningRule.objects.create(action_code="award", name="研修成果获奖", points=100),
    }


def _post(payload, key=None, header=None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Platform {key}")
    return client.post(URL, payload, format="json")


_n = iter(range(1, 10_000))


def _event(world, persona="teacher_a1", **overrides):
    data = {
        "event_id": f"EV-{next(_n)}",
        "teacher": world.teachers[persona].id_number,
        "action_code": "award",
        "occurred_on": "2026-06-15",
    }
    data.update(overrides)
    return data


def _earned(teacher):
    return PointsEntry.objects.filter(account__teacher=teacher, kind=EntryKind.EARNED)


# --- the platform API ----------------------------------------------------------------------------------------


def test_an_accepted_event_adds_the_rules_points_to_the_teachers_balance(world, key, rules):
    teacher = world.teachers["teacher_a1"]

    response = _post(_event(world, event_id="EV-1"), key)

    assert response.status_code == 201
    assert response.json() == {"event_id": "EV-1", "status": "accepted", "points": 100, "reason": ""}
    assert account(teacher).balance == 100
    entry = _earned(teacher).get()
    assert (entry.delta, entry.rule, entry.occurred_on) == (100, rules["award"], datetime.date(2026, 6, 15))
    assert world.api("teacher_a1").get("/api/v1/points/me/").json()["balance"] == 100


def test_a_teacher_may_be_named_by_their_cpd_number(world, key, rules):
    teacher = world.teachers["teacher_b1"]

    response = _post(_event(world, teacher=teacher.cpd_number), key)

    assert response.status_code == 201
    assert account(teacher).balance == 100


def test_the_same_event_twice_gives_one_entry_and_the_same_answer(world, key, rules):
    payload = _event(world, event_id="EV-dup")

    first = _post(payload, key)
    second = _post(payload, key)

    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert _earned(world.teachers["teacher_a1"]).count() == 1
    assert account(world.teachers["teacher_a1"]).balance == 100
    assert PointsEvent.objects.filter(event_id="EV-dup").count() == 1


def test_a_refused_event_sent_again_stays_refused_even_when_it_would_now_fit(world, key, rules):
    payload = _event(world, event_id="EV-early", action_code="lesson")
    first = _post(payload, key)
    EarningRule.objects.create(action_code="lesson", name="上传优质课例", points=50)

    second = _post(payload, key)

    assert first.json()["status"] == "refused"
    assert second.json() == first.json()
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    "header", [None, "Platform not-a-key", "Bearer abc", "Platform"], ids=["missing", "unknown-key", "other-scheme", "no-key"]
)
def test_without_a_valid_platform_key_the_event_is_unauthorised(world, key, rules, header):
    response = _post(_event(world), header=header)

    assert response.status_code == 401
    assert not PointsEvent.objects.exists()
    assert not PointsEntry.objects.exists()


def test_a_deactivated_platform_key_is_unauthorised(world, key, rules):
    PlatformClient.objects.update(is_active=False)

    assert _post(_event(world), key).status_code == 401


def test_over_the_daily_limit_the_event_is_refused_with_the_reason(world, key, rules):
    teacher = world.teachers["teacher_a1"]
    answers = [_post(_event(world, action_code="post"), key) for _ in range(3)]

    assert [a.json()["status"] for a in answers] == ["accepted", "accepted", "refused"]
    assert answers[2].status_code == 200
    assert answers[2].json()["points"] == 0
    assert answers[2].json()["reason"] == "超过该行为的每日上限（10分）"
    assert account(teacher).balance == 10
    # The next day is a new day.
    assert _post(_event(world, action_code="post", occurred_on="2026-06-14"), key).json()["status"] == "accepted"
    assert account(teacher).balance == 15


def test_over_the_yearly_limit_the_event_is_refused_with_the_reason(world, key, rules):
    teacher = world.teachers["teacher_a1"]
    days = ["2026-01-05", "2026-03-05", "2026-06-05"]
    answers = [_post(_event(world, action_code="course", occurred_on=d), key) for d in days]

    assert [a.json()["status"] for a in answers] == ["accepted", "accepted", "refused"]
    assert answers[2].json()["reason"] == "超过该行为的每年上限（100分）"
    assert account(teacher).balance == 100
    # The limit is per teacher: a colleague still earns.
    assert _post(_event(world, "teacher_a2", action_code="course"), key).json()["status"] == "accepted"


def test_the_limits_of_one_rule_do_not_touch_another(world, key, rules):
    for _ in range(2):
        _post(_event(world, action_code="post"), key)

    assert _post(_event(world, action_code="award"), key).json()["status"] == "accepted"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"action_code": "no-such-action"}, "未知或已停用的积分规则：no-such-action"),
        ({"teacher": "T9999999999"}, "未找到该教师"),
        ({"occurred_on": "2025-12-31"}, "积分只在当年有效，2025年的积分已过期"),
        ({"occurred_on": "2026-06-16"}, "发生日期晚于今天"),
    ],
    ids=["unknown-action", "unknown-teacher", "last-year", "future"],
)
def test_an_event_that_cannot_count_is_refused_with_the_reason(world, key, rules, overrides, reason):
    response = _post(_event(world, **overrides), key)

    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    assert response.json()["reason"] == reason
    assert not PointsEntry.objects.exists()
    assert PointsEvent.objects.get().reason == reason


def test_a_deactivated_rule_earns_nothing(world, key, rules):
    EarningRule.objects.filter(action_code="award").update(is_active=False)

    response = _post(_event(world), key)

    assert response.json()["status"] == "refused"
    assert "award" in response.json()["reason"]


def test_a_malformed_event_is_a_bad_request(world, key, rules):
    response = _post(
        {
            "event_id": "EV-x",
            "teacher": world.teachers["teacher_a1"].id_number,
            "action_code": "award",
            "occurred_on": "15/06/2026",
        },
        key,
    )

    assert response.status_code == 400
    assert "occurred_on" in response.json()
    assert not PointsEvent.objects.exists()


# --- the Excel import ----------------------------------------------------------------------------------------


@pytest.fixture
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def _xlsx(rows, headers=HEADERS, name="积分.xlsx"):
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def _upload(world, rows, persona="city_admin"):
    return world.client(persona).post("/points/import/", {"file": _xlsx(rows)}, follow=True)


def test_the_dry_run_reports_format_errors_by_row_and_column_and_writes_nothing(world, rules, private_media):
    t = world.teachers["teacher_a1"]
    rows = [
        ["IM-1", t.id_number, "award", "2026-06-01"],
        ["IM-2", "", "award", "2026-06-01"],
        ["IM-3", t.id_number, "award", "2026-13-45"],
        ["IM-1", t.id_number, "", "2026-06-02"],
    ]

    response = _upload(world, rows)

    record = PointsImport.objects.get()
    assert record.status == "failed"
    assert [(e["row"], e["column"]) for e in record.errors] == [(3, "证件号"), (4, "日期"), (5, "事件编号"), (5, "行为代码")]
    assert "与第 2 行重复" in record.errors[2]["message"]
    page = response.content.decode()
    assert "发现格式问题，未导入。" in page and "日期格式应为 YYYY-MM-DD" in page
    assert 'data-testid="confirm-points-import"' not in page
    assert not PointsEvent.objects.exists() and not PointsEntry.objects.exists()
    # A failed file cannot be confirmed.
    world.client("city_admin").post(f"/points/import/{record.pk}/")
    assert not PointsEvent.objects.exists()


def test_confirming_runs_every_row_through_the_rules(world, rules, private_media):
    a1, b1 = world.teachers["teacher_a1"], world.teachers["teacher_b1"]
    rows = [
        ["IM-1", a1.id_number, "award", "2026-06-01"],
        ["IM-2", b1.cpd_number, "post", datetime.date(2026, 6, 2)],
        ["IM-3", b1.id_number, "post", "2026-06-02"],
        ["IM-4", b1.id_number, "post", "2026-06-02"],  # over the daily limit of 10
        ["IM-5", "T9999999999", "award", "2026-06-02"],
        ["IM-6", a1.id_number, "award", "2025-12-31"],
    ]
    record = PointsImport.objects.get(pk=_upload(world, rows).resolver_match.kwargs["pk"])
    assert record.status == "validated" and record.total_rows == 6
    assert not PointsEntry.objects.exists()

    response = world.client("city_admin").post(f"/points/import/{record.pk}/", follow=True)

    record.refresh_from_db()
    assert record.status == "imported" and record.accepted == 3
    assert [(r["row"], r["reason"]) for r in record.refused] == [
        (5, "超过该行为的每日上限（10分）"),
        (6, "未找到该教师"),
        (7, "积分只在当年有效，2025年的积分已过期"),
    ]
    assert "已导入：计入 3 条，未计入 3 条。" in response.content.decode()
    assert (account(a1).balance, account(b1).balance) == (100, 10)
    assert_ledger_consistent(a1)
    assert_ledger_consistent(b1)


def test_uploading_the_same_file_again_adds_nothing(world, rules, private_media):
    a1 = world.teachers["teacher_a1"]
    rows = [["IM-1", a1.id_number, "award", "2026-06-01"], ["IM-2", a1.id_number, "post", "2026-06-01"]]
    for _ in range(2):
        pk = _upload(world, rows).resolver_match.kwargs["pk"]
        response = world.client("city_admin").post(f"/points/import/{pk}/", follow=True)

    assert account(a1).balance == 105
    assert _earned(a1).count() == 2
    assert PointsEvent.objects.count() == 2
    second = PointsImport.objects.get(pk=pk)
    assert second.accepted == 0
    assert [(r["row"], r["reason"]) for r in second.refused] == [
        (2, "该事件编号此前已处理过，本次不重复计入"),
        (3, "该事件编号此前已处理过，本次不重复计入"),
    ]
    assert "已导入：计入 0 条，未计入 2 条。" in response.content.decode()


def test_an_imported_file_cannot_be_confirmed_twice(world, rules, private_media):
    a1 = world.teachers["teacher_a1"]
    pk = _upload(world, [["IM-1", a1.id_number, "award", "2026-06-01"]]).resolver_match.kwargs["pk"]
    world.client("city_admin").post(f"/points/import/{pk}/")

    response = world.client("city_admin").post(f"/points/import/{pk}/", follow=True)

    assert "只有校验通过且尚未导入的文件可以确认导入。" in response.content.decode()
    assert account(a1).balance == 100


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin", "teacher_a1"])
def test_only_the_city_admin_imports_points(world, rules, private_media, persona):
    response = _upload(world, [["IM-1", world.teachers["teacher_a1"].id_number, "award", "2026-06-01"]], persona=persona)

    assert response.status_code == 403
    assert not PointsImport.objects.exists()


def test_a_points_import_that_fails_halfway_can_be_confirmed_again_and_counts_each_event_once(
    world, rules, private_media, monkeypatch
):
    from points import imports, services

    a1 = world.teachers["teacher_a1"]
    rows = [["IM-1", a1.id_number, "award", "2026-06-01"], ["IM-2", a1.id_number, "post", "2026-06-01"]]
    pk = _upload(world, rows).resolver_match.kwargs["pk"]
    real_earn = services.points_earn
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real_earn(**kwargs)

    monkeypatch.setattr(services, "points_earn", flaky)
    with pytest.raises(RuntimeError):
        imports.points_import_confirm(role=world.roles["city_admin"], record=PointsImport.objects.get(pk=pk))
    assert PointsImport.objects.get(pk=pk).status == "validated"
    assert account(a1).balance == 100  # the first event only

    monkeypatch.setattr(services, "points_earn", real_earn)
    done = imports.points_import_confirm(role=world.roles["city_admin"], record=PointsImport.objects.get(pk=pk))
    assert done.status == "imported"
    assert account(a1).balance == 105
    assert PointsEvent.objects.count() == 2

"""Bulk review, the review queue page, the teacher's detail page and the browser resubmit loop (SPEC §4)."""

import datetime
import re

import pytest

from hours.models import Declaration, DeclarationState, LedgerEntry

from .conftest import declaration_payload, declare, pdf

CST = datetime.timezone(datetime.timedelta(hours=8))


def _testid(html, testid):
    match = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', html)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


# --- bulk approve ---------------------------------------------------------------------------


def test_bulk_approve_approves_several_and_reports_the_out_of_scope_one(world, in_year, private_media):
    mine = [declare(world, "teacher_a1") for _ in range(3)]
    other_school = declare(world, "teacher_a2")
    client = world.client("school_a1_admin")

    response = client.post("/hours/review/approve/", {"ids": [d.pk for d in mine] + [other_school.pk]}, follow=True)

    assert response.redirect_chain == [("/hours/review/", 302)]
    html = response.content.decode()
    assert "已通过 3 份申报" in html
    assert f"申报 #{other_school.pk} 未通过：未找到" in html
    assert {Declaration.objects.get(pk=d.pk).state for d in mine} == {DeclarationState.SCHOOL_APPROVED}
    assert Declaration.objects.get(pk=other_school.pk).state == DeclarationState.SUBMITTED
    assert not other_school.events.exclude(action="submit").exists()


def test_bulk_approve_reports_a_declaration_in_the_wrong_state(world, in_year, private_media):
    waiting = declare(world, "teacher_a1")
    already = declare(world, "teacher_a1", state="school_approved")

    response = world.client("school_a1_admin").post("/hours/review/approve/", {"ids": [waiting.pk, already.pk]}, follow=True)

    html = response.content.decode()
    assert "已通过 1 份申报" in html
    assert f"申报 #{already.pk} 未通过" in html and "待区复审" in html
    assert Declaration.objects.get(pk=waiting.pk).state == DeclarationState.SCHOOL_APPROVED


def test_district_bulk_approve_puts_each_in_the_ledger_once(world, in_year, private_media):
    waiting = [declare(world, persona, state="school_approved") for persona in ("teacher_a1", "teacher_a2")]
    other_district = declare(world, "teacher_b1", state="school_approved")

    world.client("district_a_admin").post("/hours/review/approve/", {"ids": [d.pk for d in waiting] + [other_district.pk]})

    assert {Declaration.objects.get(pk=d.pk).state for d in waiting} == {DeclarationState.APPROVED}
    assert sorted(LedgerEntry.objects.values_list("declaration_id", flat=True)) == sorted(d.pk for d in waiting)


def test_bulk_approve_with_nothing_ticked_says_so(world, in_year):
    response = world.client("school_a1_admin").post("/hours/review/approve/", {}, follow=True)

    assert "请先勾选要通过的申报" in response.content.decode()


def test_teacher_cannot_bulk_approve(world, in_year, private_media):
    decl = declare(world, "teacher_a1")

    response = world.client("teacher_a1").post("/hours/review/approve/", {"ids": [decl.pk]})

    assert response.status_code == 403
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SUBMITTED


# --- the review queue -----------------------------------------------------------------------


def test_school_queue_shows_counts_and_days_left(world, in_year, private_media):
    for _ in range(3):
        declare(world, "teacher_a1")
    declare(world, "teacher_a1", state="school_approved")  # waits at the district, not here
    declare(world, "teacher_a2")  # another school

    html = world.client("school_a1_admin").get("/hours/review/").content.decode()

    assert _testid(html, "queue-total") == "3"
    # 2026-06-15 to the school review deadline 2027-01-31.
    assert "剩余 230 天" in _testid(html, "days-left-2026")
    assert "2027-01-31" in _testid(html, "days-left-2026")


def test_district_queue_counts_its_schools_and_its_own_deadline(world, in_year, private_media):
    declare(world, "teacher_a1", state="school_approved")
    declare(world, "teacher_a2", state="school_approved")
    declare(world, "teacher_a1")  # still at the school
    declare(world, "teacher_b1", state="school_approved")  # another district
    in_year.move_to(datetime.datetime(2027, 2, 24, 9, 0, tzinfo=CST))

    html = world.client("district_a_admin").get("/hours/review/").content.decode()

    assert _testid(html, "queue-total") == "2"
    assert "剩余 4 天" in _testid(html, "days-left-2026") and "2027-02-28" in html


def test_a_queue_longer_than_the_cap_shows_cap_plus_on_the_page_and_the_home_to_do(world, in_year, private_media, monkeypatch):
    """Per-year counts are exact up to QUEUE_COUNT_CAP and then "cap+" (counting stops early at any size);
    the district's to-do on its home shows the same figure as the queue page it links to."""
    from hours import selectors

    for _ in range(3):
        declare(world, "teacher_a1", state="school_approved")
    declare(world, "teacher_b1", state="school_approved")  # another district: never counted
    district = world.client("district_a_admin")

    assert _testid(district.get("/hours/review/").content.decode(), "queue-total") == "3"
    assert selectors.queue_counts(world.roles["district_a_admin"], "district") == {2026: 3}
    assert selectors.queue_counts(world.roles["district_b_admin"], "district") == {2026: 1}

    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 2)
    assert selectors.queue_counts(world.roles["district_a_admin"], "district") == {2026: 3}  # cap + 1: "more than 2"
    html = district.get("/hours/review/").content.decode()
    assert _testid(html, "queue-total") == "2+"
    home = district.get("/").content.decode()
    todo = home.split('data-testid="todo-review_district"', 1)[1].split("</li>", 1)[0]
    assert 'data-testid="count">2+<' in todo

    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 3)
    assert _testid(district.get("/hours/review/").content.decode(), "queue-total") == "3"


def test_days_left_follows_a_moved_deadline(world, in_year, private_media):
    declare(world, "teacher_a1")
    world.api("city_admin").patch("/api/v1/years/2026/", {"school_review_deadline": "2027-02-10"}, format="json")

    html = world.client("school_a1_admin").get("/hours/review/").content.decode()

    assert "剩余 240 天" in _testid(html, "days-left-2026")


def test_queue_filters_by_category(world, in_year, private_media):
    public = declare(world, "teacher_a1", category="public")
    professional = declare(world, "teacher_a1", category="professional")

    html = world.client("school_a1_admin").get("/hours/review/?category=public").content.decode()

    assert f'data-testid="queue-item-{public.pk}"' in html
    assert f'data-testid="queue-item-{professional.pk}"' not in html


def test_queue_filters_by_teacher_name(world, in_year, private_media):
    a1 = declare(world, "teacher_a1", state="school_approved")
    a2 = declare(world, "teacher_a2", state="school_approved")

    html = world.client("district_a_admin").get("/hours/review/?q=东山").content.decode()

    assert f'data-testid="queue-item-{a2.pk}"' in html
    assert f'data-testid="queue-item-{a1.pk}"' not in html


# --- the teacher's pages and the resubmit loop ---------------------------------------------------


def test_teacher_sees_history_with_the_reviewers_reason(world, in_year, private_media):
    decl = declare(world, "teacher_a1")
    world.client("school_a1_admin").post(
        f"/hours/declarations/{decl.pk}/review/",
        {"action": "return", "common_reason": "缺少学校盖章的学时证明", "reason": "请补盖公章"},
    )

    html = world.client("teacher_a1").get(f"/hours/declarations/{decl.pk}/").content.decode()

    history = html[html.index('data-testid="declaration-history"') :]
    assert "缺少学校盖章的学时证明；请补盖公章" in history
    assert world.users["school_a1_admin"].name in history and "育才小学" in history
    assert "缺少学校盖章的学时证明；请补盖公章" in _testid(html, "last-reason")
    assert _testid(html, "declaration-state") == "已退回"


def test_return_without_a_reason_is_refused_in_the_browser(world, in_year, private_media):
    decl = declare(world, "teacher_a1")

    response = world.client("school_a1_admin").post(f"/hours/declarations/{decl.pk}/review/", {"action": "return"}, follow=True)

    assert "必须填写原因" in response.content.decode()
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SUBMITTED


def _resubmit_in_browser(world, decl, **changes):
    client = world.client("teacher_a1")
    form = client.get(f"/hours/declarations/{decl.pk}/edit/")
    assert form.status_code == 200
    assert decl.last_reason in form.content.decode()  # the reason is shown while editing
    data = {**declaration_payload(title=decl.title, certificate_number=decl.certificate_number), **changes, "submit": "1"}
    return client.post(f"/hours/declarations/{decl.pk}/edit/", data)


def test_returned_declaration_is_edited_and_resubmitted_in_the_browser(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="returned")

    response = _resubmit_in_browser(world, decl, hours="10", certificate=pdf("clearer.pdf", extra=b"clearer scan"))

    assert response.status_code == 302 and response["Location"] == f"/hours/declarations/{decl.pk}/"
    decl.refresh_from_db()
    assert decl.state == DeclarationState.SUBMITTED and decl.hours == 10
    assert decl.evidence.count() == 2
    assert [e.action for e in decl.events.all()] == ["submit", "school_return", "submit"]


def test_declaration_returned_by_the_district_goes_back_through_the_school(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="school_approved")
    world.client("district_a_admin").post(
        f"/hours/declarations/{decl.pk}/review/", {"action": "return", "reason": "学时与证书不一致"}
    )
    decl.refresh_from_db()
    assert decl.state == DeclarationState.RETURNED

    _resubmit_in_browser(world, decl, hours="6")

    school_queue = world.client("school_a1_admin").get("/hours/review/").content.decode()
    district_queue = world.client("district_a_admin").get("/hours/review/").content.decode()
    assert f'data-testid="queue-item-{decl.pk}"' in school_queue
    assert f'data-testid="queue-item-{decl.pk}"' not in district_queue
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SUBMITTED


def test_a_submitted_declaration_cannot_be_edited(world, in_year, private_media):
    decl = declare(world, "teacher_a1")
    client = world.client("teacher_a1")

    response = client.post(f"/hours/declarations/{decl.pk}/edit/", {**declaration_payload(hours="60"), "submit": "1"})

    assert response.status_code == 302 and response["Location"] == f"/hours/declarations/{decl.pk}/"
    assert Declaration.objects.get(pk=decl.pk).hours == 12


def test_review_returns_to_the_page_it_came_from(world, in_year, private_media):
    decl = declare(world, "teacher_a1")

    response = world.client("school_a1_admin").post(
        f"/hours/declarations/{decl.pk}/review/", {"action": "approve", "next": "/hours/review/?category=professional"}
    )

    assert response["Location"] == "/hours/review/?category=professional"


@pytest.mark.parametrize("next_url", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\\/evil.example/"])
def test_review_never_redirects_to_another_site(world, in_year, private_media, next_url):
    decl = declare(world, "teacher_a1")

    response = world.client("school_a1_admin").post(
        f"/hours/declarations/{decl.pk}/review/", {"action": "approve", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == "/hours/review/"
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SCHOOL_APPROVED

"""Likely duplicates flagged to reviewers (SPEC §3) and teachers told of each decision (SPEC §4)."""

import datetime
from decimal import Decimal

import pytest

from hours import ledger, services
from hours.models import Notification, Source

from .conftest import declare, pdf

# --- duplicate flags ---------------------------------------------------------------------


def _kinds(decl):
    decl.refresh_from_db()
    return [f["kind"] for f in decl.duplicate_flags]


def test_same_certificate_number_as_another_teachers_declaration_is_flagged(world, in_year, private_media):
    first = declare(world, "teacher_b1", certificate_number="GZ-2026-7777")

    second = declare(world, "teacher_a1", certificate_number="GZ-2026-7777")

    assert second.duplicate_flags == [{"kind": "certificate", "declaration": first.pk, "same_teacher": False}]
    assert _kinds(first) == []  # flags are computed on submit, for the one that came second


def test_different_certificate_numbers_are_not_flagged(world, in_year, private_media):
    declare(world, "teacher_b1", certificate_number="GZ-2026-7777")

    assert declare(world, "teacher_a1", certificate_number="GZ-2026-7778").duplicate_flags == []


def _registered(world, **overrides):
    fields = {
        "teacher": world.teachers["teacher_a1"],
        "year": 2026,
        "category": "professional",
        "hours": Decimal("12"),
        "source": Source.REGISTRATION,
        "title": "新课标专题培训",
        "organiser": "广州市教育研究院",
        "start_date": datetime.date(2026, 3, 2),
        "end_date": datetime.date(2026, 3, 3),
    }
    fields.update(overrides)
    return ledger.entry_create(**fields)


def test_training_already_in_the_ledger_is_flagged(world, in_year, private_media):
    entry = _registered(world)

    decl = declare(
        world, "teacher_a1", title="新课标专题培训", organiser="广州市教育研究院", start_date="2026-03-03", end_date="2026-03-04"
    )

    assert {"kind": "title_dates", "ledger_entry": entry.pk} in decl.duplicate_flags


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_date": "2026-03-04", "end_date": "2026-03-05"},  # the day after
        {"title": "另一个培训"},
        {"organiser": "海珠区教师发展中心"},
    ],
    ids=["dates_do_not_overlap", "other_title", "other_organiser"],
)
def test_similar_but_different_training_is_not_flagged(world, in_year, private_media, overrides):
    _registered(world)
    data = {
        "title": "新课标专题培训",
        "organiser": "广州市教育研究院",
        "start_date": "2026-03-02",
        "end_date": "2026-03-03",
        **overrides,
    }

    assert declare(world, "teacher_a1", **data).duplicate_flags == []


def test_same_training_in_another_teachers_ledger_is_not_flagged(world, in_year, private_media):
    # Colleagues attend the same training: only the same teacher's entry is a duplicate.
    _registered(world, teacher=world.teachers["teacher_a2"])

    decl = declare(world, "teacher_a1", title="新课标专题培训", organiser="广州市教育研究院")

    assert decl.duplicate_flags == []


def test_same_evidence_file_as_another_teachers_declaration_is_flagged(world, in_year, private_media):
    first = declare(world, "teacher_b1", files=[("certificate", pdf(extra=b"the same scan"))])

    second = declare(world, "teacher_a1", files=[("certificate", pdf("renamed.pdf", extra=b"the same scan"))])

    assert second.duplicate_flags == [{"kind": "evidence", "declaration": first.pk, "same_teacher": False}]


@pytest.fixture
def queue(world, in_year, private_media):
    """Three declarations waiting at school_a1: one flagged by certificate, one by evidence, one clean."""
    declare(world, "teacher_b1", certificate_number="DUP-1", files=[("certificate", pdf(extra=b"shared"))])
    by_certificate = declare(world, "teacher_a1", certificate_number="DUP-1", category="public")
    by_file = declare(world, "teacher_a1", files=[("certificate", pdf(extra=b"shared"))], category="public")
    clean = declare(world, "teacher_a1", category="elective")
    return by_certificate, by_file, clean


def test_queue_page_shows_the_flags(world, queue):
    by_certificate, by_file, clean = queue

    html = world.client("school_a1_admin").get("/hours/review/").content.decode()

    assert f'data-testid="dup-{by_certificate.pk}"' in html
    assert f'data-testid="dup-{by_file.pk}"' in html
    assert f'data-testid="queue-item-{clean.pk}"' in html
    assert f'data-testid="dup-{clean.pk}"' not in html


def test_queue_filter_shows_only_flagged_declarations(world, queue):
    by_certificate, by_file, clean = queue

    html = world.client("school_a1_admin").get("/hours/review/?duplicates=on").content.decode()

    assert f'data-testid="queue-item-{by_certificate.pk}"' in html
    assert f'data-testid="queue-item-{by_file.pk}"' in html
    assert f'data-testid="queue-item-{clean.pk}"' not in html


def test_declaration_detail_shows_the_flag_to_the_reviewer(world, queue):
    by_certificate, _by_file, _clean = queue

    html = world.client("school_a1_admin").get(f"/hours/declarations/{by_certificate.pk}/").content.decode()

    assert f'data-testid="dup-{by_certificate.pk}"' in html and "证书编号相同" in html


# --- notifications -------------------------------------------------------------------------


def _notes(world, persona="teacher_a1"):
    return list(Notification.objects.filter(user=world.users[persona]).order_by("pk"))


@pytest.mark.parametrize(
    "state, reviewer, action, text",
    [
        ("submitted", "school_a1_admin", "return", "被学校退回：照片不清晰"),
        ("school_approved", "district_a_admin", "return", "被区复审退回：照片不清晰"),
        ("submitted", "school_a1_admin", "reject", "不予认定：照片不清晰"),
        ("school_approved", "district_a_admin", "reject", "不予认定：照片不清晰"),
        ("school_approved", "district_a_admin", "approve", "12.0学时已计入学时银行"),
    ],
)
def test_each_decision_notifies_the_teacher_once(world, in_year, private_media, state, reviewer, action, text):
    decl = declare(world, "teacher_a1", state=state)
    assert _notes(world) == []

    response = world.api(reviewer).post(f"/api/v1/declarations/{decl.pk}/{action}/", {"reason": "照片不清晰"})

    assert response.status_code == 200
    [note] = _notes(world)
    assert text in note.message and decl.title in note.message
    assert note.link == f"/hours/declarations/{decl.pk}/" and note.read_at is None
    assert _notes(world, "school_a1_admin") == []


def test_school_approval_does_not_notify_the_teacher(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")

    world.api("school_a1_admin").post(f"/api/v1/declarations/{decl.pk}/approve/")

    assert _notes(world) == []


def test_header_shows_unread_count_and_opening_marks_read(world, in_year, private_media):
    first = declare(world, "teacher_a1", state="returned")
    declare(world, "teacher_a1", state="approved")
    client = world.client("teacher_a1")

    assert 'data-testid="unread-count">2<' in client.get("/hours/").content.decode()

    note = Notification.objects.get(declaration=first)
    opened = client.get(f"/hours/notifications/{note.pk}/")

    assert opened.status_code == 302 and opened["Location"] == f"/hours/declarations/{first.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'data-testid="unread-count">1<' in client.get("/hours/").content.decode()


def test_mark_all_read_clears_the_badge(world, in_year, private_media):
    declare(world, "teacher_a1", state="returned")
    declare(world, "teacher_a1", state="rejected")
    client = world.client("teacher_a1")

    client.post("/hours/notifications/")

    assert 'data-testid="unread-count"' not in client.get("/hours/").content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_a_teacher_cannot_open_someone_elses_notification(world, in_year, private_media):
    declare(world, "teacher_a1", state="returned")
    note = Notification.objects.get()

    assert world.client("teacher_a2").get(f"/hours/notifications/{note.pk}/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_email_goes_out_on_commit_when_the_teacher_has_an_email(
    world, in_year, private_media, mailoutbox, django_capture_on_commit_callbacks
):
    teacher = world.teachers["teacher_a1"]
    teacher.email = "teacher@example.cn"
    teacher.save()
    decl = declare(world, "teacher_a1", state="submitted")

    with django_capture_on_commit_callbacks(execute=True):
        world.api("school_a1_admin").post(f"/api/v1/declarations/{decl.pk}/return/", {"reason": "缺少盖章"})

    [mail] = mailoutbox
    assert mail.to == ["teacher@example.cn"]
    assert "缺少盖章" in mail.body and decl.title in mail.body


def test_no_email_when_the_teacher_has_none(world, in_year, private_media, mailoutbox, django_capture_on_commit_callbacks):
    decl = declare(world, "teacher_a1", state="submitted")

    with django_capture_on_commit_callbacks(execute=True):
        world.api("school_a1_admin").post(f"/api/v1/declarations/{decl.pk}/return/", {"reason": "缺少盖章"})

    assert mailoutbox == []
    assert len(_notes(world)) == 1


def test_no_email_when_the_decision_is_refused(world, in_year, private_media, mailoutbox, django_capture_on_commit_callbacks):
    teacher = world.teachers["teacher_a1"]
    teacher.email = "teacher@example.cn"
    teacher.save()
    decl = declare(world, "teacher_a1", state="submitted")
    in_year.move_to(datetime.datetime(2027, 2, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=8))))

    with django_capture_on_commit_callbacks(execute=True):
        response = world.api("school_a1_admin").post(f"/api/v1/declarations/{decl.pk}/return/", {"reason": "缺少盖章"})

    assert response.status_code == 409
    assert mailoutbox == [] and _notes(world) == []


def test_a_revoked_ledger_entry_is_no_longer_a_duplicate(world, in_year, private_media):
    # The city took those hours back; declaring the training again is not double counting.
    entry = _registered(world, certificate_number="REG-1")
    services.ledger_correction(role=world.roles["city_admin"], actor=world.users["city_admin"], reason="登记错误", revokes=entry)

    decl = declare(world, "teacher_a1", title="新课标专题培训", organiser="广州市教育研究院", certificate_number="REG-1")

    assert decl.duplicate_flags == []


# --- the one statement behind the flags: every look-up, both ways of submitting ----------------------------------


def _matching_everything(world):
    """Another teacher's declaration with the same certificate number and the same scan, and this teacher's
    declaration and ledger entry of the same training: one of each kind of flag for a declaration of that training."""
    other = declare(world, "teacher_b1", certificate_number="ALL-1", files=[("certificate", pdf(extra=b"same scan"))])
    mine = declare(world, "teacher_a1", title="新课标专题培训", organiser="广州市教育研究院", certificate_number="MINE-1")
    by_number = _registered(world, teacher=world.teachers["teacher_a2"], certificate_number="ALL-1", title="别的培训")
    by_training = _registered(world)
    return [
        {"kind": "certificate", "declaration": other.pk, "same_teacher": False},
        {"kind": "certificate", "ledger_entry": by_number.pk},
        {"kind": "title_dates", "declaration": mine.pk, "same_teacher": True},
        {"kind": "title_dates", "ledger_entry": by_training.pk},
        {"kind": "evidence", "declaration": other.pk, "same_teacher": False},
    ]


def test_flags_of_every_kind_come_in_order_whether_submitted_at_once_or_after_a_draft(world, in_year, private_media):
    expected = _matching_everything(world)
    same = {"title": "新课标专题培训", "organiser": "广州市教育研究院", "certificate_number": "ALL-1"}

    at_once = declare(world, "teacher_a1", files=[("certificate", pdf(extra=b"same scan"))], **same)
    draft = declare(world, "teacher_a1", state="draft", files=[("certificate", pdf("b.pdf", extra=b"same scan"))], **same)
    services.declaration_transition(
        declaration_id=draft.pk, action="submit", role=world.roles["teacher_a1"], actor=world.users["teacher_a1"]
    )
    draft.refresh_from_db()

    # Submitted at once, the files' hashes are known before anything is written; after a draft they are read.
    # Each also finds the other (same teacher, training, certificate number and scan) once both are live.
    assert at_once.duplicate_flags == expected
    assert [f for f in draft.duplicate_flags if f.get("declaration") != at_once.pk] == expected
    assert {"kind": "evidence", "declaration": at_once.pk, "same_teacher": True} in draft.duplicate_flags


def test_a_resubmitted_declaration_is_not_its_own_duplicate(world, in_year, private_media):
    returned = declare(world, "teacher_a1", state="returned", certificate_number="OWN-1")

    services.declaration_save(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], data={}, declaration=returned, submit=True
    )

    returned.refresh_from_db()
    assert returned.state == "submitted" and returned.duplicate_flags == []


@pytest.mark.parametrize("state", ["draft", "rejected"])
def test_drafts_and_rejected_declarations_are_not_duplicates(world, in_year, private_media, state):
    declare(world, "teacher_b1", state=state, certificate_number="DEAD-1", files=[("certificate", pdf(extra=b"dead scan"))])

    decl = declare(world, "teacher_a1", certificate_number="DEAD-1", files=[("certificate", pdf(extra=b"dead scan"))])

    # The same file is still flagged (whoever holds it), the certificate number of a dead declaration is not.
    assert [f["kind"] for f in decl.duplicate_flags] == ["evidence"]


def test_a_revoked_entry_is_not_a_duplicate_of_the_training_either(world, in_year, private_media):
    entry = _registered(world, certificate_number="REG-2")
    services.ledger_correction(role=world.roles["city_admin"], actor=world.users["city_admin"], reason="登记错误", revokes=entry)
    # Same teacher, title, organiser, dates and number as the revoked entry: its hours no longer count.
    decl = declare(world, "teacher_a1", title="新课标专题培训", organiser="广州市教育研究院", certificate_number="REG-2")

    assert decl.duplicate_flags == []

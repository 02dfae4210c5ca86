"""Bad declarations are refused with the field named, and nothing of them is stored (SPEC §4)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hours.models import Declaration, Evidence, StagedUpload

from .conftest import declaration_payload, declare, pdf, png, stored_files

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def exe_named_pdf():
    return SimpleUploadedFile("x.pdf", EXE, content_type="application/pdf")


def big_pdf():
    return pdf("big.pdf", extra=b"\x00" * (11 * 1024 * 1024))


# (case, payload overrides, files by kind, field the API names, text the form shows)
CASES = [
    ("zero_hours", {"hours": "0"}, {"certificate": [pdf]}, "hours", 'data-testid="error-hours"'),
    ("negative_hours", {"hours": "-6"}, {"certificate": [pdf]}, "hours", 'data-testid="error-hours"'),
    (
        "end_before_start",
        {"start_date": "2026-03-05", "end_date": "2026-03-02"},
        {"certificate": [pdf]},
        "end_date",
        'data-testid="error-end_date"',
    ),
    (
        "dates_outside_year",
        {"start_date": "2025-12-30", "end_date": "2025-12-31"},
        {"certificate": [pdf]},
        "start_date",
        'data-testid="error-start_date"',
    ),
    (
        "more_than_six_hours_a_day",
        {"start_date": "2026-03-02", "end_date": "2026-03-03", "hours": "13"},
        {"certificate": [pdf]},
        "hours",
        'data-testid="error-hours"',
    ),
    ("executable_named_pdf", {}, {"certificate": [exe_named_pdf]}, "evidence", "不是PDF、JPEG或PNG"),
    ("eleven_megabytes", {}, {"certificate": [big_pdf]}, "evidence", "超过10 MB"),
    ("six_files", {}, {"certificate": [pdf, pdf, pdf, png, png, png]}, "evidence", "最多上传5个文件"),
    (
        "missing_translation",
        {"certificate_in_chinese": False},
        {"certificate": [pdf]},
        "evidence",
        "请上传学校盖章的中文翻译件",
    ),
    (
        "missing_hours_statement",
        {"certificate_states_hours": False},
        {"certificate": [pdf]},
        "evidence",
        "请上传学校盖章的学时证明",
    ),
    (
        "translation_but_no_certificate",
        {"certificate_in_chinese": False},
        {"translation": [pdf]},
        "evidence",
        "请上传证书原件的扫描件或照片",
    ),
    ("no_certificate_at_all", {}, {}, "evidence", "请上传证书原件的扫描件或照片"),
    ("unknown_category", {"category": "sports"}, {"certificate": [pdf]}, "category", 'data-testid="error-category"'),
]
IDS = [c[0] for c in CASES]
ONLY_EVIDENCE_MISSING = {
    "missing_translation",
    "missing_hours_statement",
    "translation_but_no_certificate",
    "no_certificate_at_all",
}


def _files(spec, salt):
    # Distinct content per file, so a refusal is never about duplicate files.
    return {
        kind: [
            make() if make in (exe_named_pdf, big_pdf) else make(extra=f"{salt}-{i}".encode()) for i, make in enumerate(makers)
        ]
        for kind, makers in spec.items()
    }


def _assert_nothing_stored(private_media):
    assert Declaration.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert stored_files(private_media) == []


@pytest.mark.parametrize("case, overrides, files, field, _shown", CASES, ids=IDS)
def test_api_refuses_bad_declaration_and_stores_nothing(world, in_year, private_media, case, overrides, files, field, _shown):
    payload = {**declaration_payload(**overrides), **_files(files, case), "submit": True}

    response = world.api("teacher_a1").post("/api/v1/declarations/", payload, format="multipart")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    _assert_nothing_stored(private_media)


@pytest.mark.parametrize("case, overrides, files, _field, shown", CASES, ids=IDS)
def test_browser_form_refuses_bad_declaration_and_stores_nothing(
    world, in_year, private_media, case, overrides, files, _field, shown
):
    data = {**declaration_payload(**overrides), **_files(files, case), "submit": "1"}

    response = world.client("teacher_a1").post("/hours/declarations/new/", data)

    assert response.status_code == 200  # the form again, with the error
    assert shown in response.content.decode()
    if case in ONLY_EVIDENCE_MISSING:
        # Nothing is submitted, but what was typed and chosen is kept as a draft, so the teacher only
        # adds the missing paper instead of filling everything in and choosing every file again.
        draft = Declaration.objects.get()
        assert draft.state == "draft" and draft.submitted_at is None
        assert sorted(draft.evidence.values_list("kind", flat=True)) == sorted(k for k, v in files.items() for _f in v)
    else:
        # Nothing of the declaration is stored. The chosen files that pass their own checks are kept for
        # the teacher's next try (as many as a declaration holds; test_kept_uploads.py), and nothing else.
        assert Declaration.objects.count() == 0 and Evidence.objects.count() == 0
        good = sum(1 for makers in files.values() for make in makers if make not in (exe_named_pdf, big_pdf))
        kept = StagedUpload.objects.filter(owner=world.users["teacher_a1"])
        assert kept.count() == min(good, 5)
        on_disk = sorted(str(p.relative_to(private_media)) for p in stored_files(private_media))
        assert on_disk == sorted(k.file.name for k in kept)


def test_a_good_declaration_is_stored_by_both_paths(world, in_year, private_media):
    # The counterpart of the refusals: the same payloads, corrected, are accepted.
    api = world.api("teacher_a1").post(
        "/api/v1/declarations/", {**declaration_payload(), "certificate": [pdf(extra=b"api")], "submit": True}, format="multipart"
    )
    browser = world.client("teacher_a1").post(
        "/hours/declarations/new/",
        {**declaration_payload(certificate_number="GZ-2"), "certificate": pdf(extra=b"browser"), "submit": "1"},
    )

    assert api.status_code == 201, api.json()
    assert browser.status_code == 302
    assert Declaration.objects.filter(state="submitted").count() == 2
    assert len(stored_files(private_media)) == 2


def test_refused_submit_of_a_draft_keeps_the_draft_and_its_files(world, in_year, private_media):
    draft = declare(world, "teacher_a1", state="draft", certificate_in_chinese=False)
    kept = stored_files(private_media)

    response = world.api("teacher_a1").patch(
        f"/api/v1/declarations/{draft.pk}/", {"hours": "6", "submit": True}, format="multipart"
    )

    assert response.status_code == 400 and "evidence" in response.json()
    draft.refresh_from_db()
    assert draft.state == "draft" and draft.hours == 12
    assert stored_files(private_media) == kept


def test_removing_the_certificate_in_a_refused_submit_keeps_its_file(world, in_year, private_media):
    draft = declare(world, "teacher_a1", state="draft")
    certificate = draft.evidence.get()

    response = world.api("teacher_a1").patch(
        f"/api/v1/declarations/{draft.pk}/", {"remove_evidence": [certificate.pk], "submit": True}, format="multipart"
    )

    assert response.status_code == 400 and "evidence" in response.json()
    assert Evidence.objects.filter(pk=certificate.pk).exists()
    assert world.client("teacher_a1").get(f"/hours/evidence/{certificate.token}/").status_code == 200
    assert certificate.file.storage.exists(certificate.file.name)


@pytest.fixture
def incomplete_teacher(world):
    teacher = world.teachers["teacher_a1"]
    teacher.stage = ""
    teacher.first_employment_date = None
    teacher.save()
    return teacher


def test_teacher_with_missing_record_fields_cannot_submit_via_api(world, in_year, private_media, incomplete_teacher):
    payload = {**declaration_payload(), "certificate": [pdf()], "submit": True}

    response = world.api("teacher_a1").post("/api/v1/declarations/", payload, format="multipart")

    assert response.status_code == 400
    message = " ".join(response.json()["teacher"])
    assert "学段" in message and "参加工作日期" in message
    _assert_nothing_stored(private_media)


def test_teacher_with_missing_record_fields_is_sent_to_the_record_page(world, in_year, private_media, incomplete_teacher):
    client = world.client("teacher_a1")

    shown = client.get("/hours/declarations/new/")
    posted = client.post("/hours/declarations/new/", {**declaration_payload(), "certificate": pdf(), "submit": "1"})

    assert shown.status_code == 302 and shown["Location"] == "/me/record/"
    assert posted.status_code == 302 and posted["Location"] == "/me/record/"
    followed = client.get("/hours/declarations/new/", follow=True)
    assert "学段" in followed.content.decode()
    _assert_nothing_stored(private_media)


def test_removed_evidence_file_is_deleted_once_the_edit_is_saved(
    world, in_year, private_media, django_capture_on_commit_callbacks
):
    draft = declare(world, "teacher_a1", state="draft")
    old = draft.evidence.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = world.api("teacher_a1").patch(
            f"/api/v1/declarations/{draft.pk}/",
            {"remove_evidence": [old.pk], "certificate": [png(extra=b"new scan")], "submit": True},
            format="multipart",
        )

    assert response.status_code == 200, response.json()
    assert not old.file.storage.exists(old.file.name)
    assert [e.content_type for e in draft.evidence.all()] == ["image/png"]
    assert len(stored_files(private_media)) == 1


@pytest.mark.parametrize("year, field", [("99999", "year"), ("1999", "year"), ("0", "start_date")])
def test_declaration_for_an_impossible_year_is_400_not_500(world, in_year, private_media, year, field):
    payload = {**declaration_payload(year=year), "certificate": [pdf()], "submit": True}

    response = world.api("teacher_a1").post("/api/v1/declarations/", payload, format="multipart")

    assert response.status_code == 400
    assert field in response.json()
    _assert_nothing_stored(private_media)


def test_an_impossible_year_page_is_404_not_500(world, in_year):
    from hours.models import Year

    assert world.api("city_admin").get("/api/v1/years/9999/").status_code == 404
    assert (
        world.api("city_admin").patch("/api/v1/years/9999/", {"declaration_deadline": "2026-12-31"}, format="json").status_code
        == 404
    )
    page = world.client("city_admin").get("/hours/years/?edit=9999")
    assert page.status_code == 200 and 'name="declaration_deadline"' not in page.content.decode()
    assert world.client("city_admin").get("/hours/years/?edit=99999999999").status_code == 200
    assert not Year.objects.filter(year__gt=2100).exists()


def test_a_teacher_id_beyond_the_integer_range_finds_nothing(world, in_year, private_media):
    declare(world, "teacher_a1", state="approved")

    response = world.api("school_a1_admin").get("/api/v1/ledger/?teacher=99999999999999999999")

    assert response.status_code == 200
    assert response.json()["results"] == []

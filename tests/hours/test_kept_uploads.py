"""Files chosen on a declaration form that must be fixed first are kept by the server (issue 12): the page
lists them under their field, the next submit counts them as chosen without choosing them again, 移除
drops them, only their owner can use them, and what nobody sends again is deleted after a day."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from hours import services
from hours.models import Declaration, DeclarationState, Evidence, StagedUpload

from .conftest import PDF, declaration_payload, declare, pdf, stored_files

NEW = "/hours/declarations/new/"
CERT = PDF + b"certificate of teacher a1"


def _kept(html: str) -> dict[str, list[str]]:
    """The kept files' ids the page carries, by field, as the browser would send them back."""
    found: dict[str, list[str]] = {}
    for kind, pk in re.findall(r'<input type="hidden" name="kept_(\w+)" value="(\d+)">', html):
        found.setdefault(f"kept_{kind}", []).append(pk)
    return found


def _first_try(world, persona="teacher_a1", **extra):
    """A submit with a wrong field (end before start) and a good certificate: the page comes back."""
    data = {
        **declaration_payload(start_date="2026-03-05", end_date="2026-03-02"),
        "certificate": SimpleUploadedFile("证书.pdf", CERT),
        "submit": "1",
        **extra,
    }
    response = world.client(persona).post(NEW, data)
    assert response.status_code == 200
    return response.content.decode()


def test_a_failed_submit_keeps_the_good_file_under_its_field_and_reports_the_bad_one(world, in_year, private_media):
    html = _first_try(
        world,
        certificate_in_chinese="False",
        translation=SimpleUploadedFile("翻译件.pdf", b"just some text, not a PDF"),
    )

    staged = StagedUpload.objects.get()
    assert (staged.owner, staged.kind, staged.original_name, staged.size) == (
        world.users["teacher_a1"],
        "certificate",
        "证书.pdf",
        len(CERT),
    )
    assert (private_media / staged.file.name).read_bytes() == CERT
    kept_block = re.search(r'data-testid="kept-certificate">(.*?)</ul>', html, re.S).group(1)
    assert f"已保留：证书.pdf（{len(CERT)} 字节）" in kept_block.replace("\xa0", " ")  # filesizeformat: 70\xa0字节
    assert _kept(html) == {"kept_certificate": [str(staged.pk)]}
    assert 'data-testid="error-end_date"' in html
    translation_errors = re.findall(r'data-testid="error-translation">([^<]*)<', html)
    assert any("翻译件.pdf" in e and "不是PDF" in e for e in translation_errors), translation_errors
    assert not Declaration.objects.exists() and not Evidence.objects.exists()


def test_the_next_submit_without_choosing_again_attaches_exactly_the_kept_file(
    world, in_year, private_media, django_capture_on_commit_callbacks
):
    html = _first_try(world)
    staged_file = private_media / StagedUpload.objects.get().file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("teacher_a1").post(NEW, {**declaration_payload(), **_kept(html), "submit": "1"})

    decl = Declaration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/hours/declarations/{decl.pk}/"
    assert decl.state == DeclarationState.SUBMITTED
    (evidence,) = decl.evidence.all()
    assert (evidence.kind, evidence.original_name, evidence.sha256) == (
        "certificate",
        "证书.pdf",
        hashlib.sha256(CERT).hexdigest(),
    )
    assert (private_media / evidence.file.name).read_bytes() == CERT
    assert not StagedUpload.objects.exists() and not staged_file.exists()
    page = world.client("teacher_a1").get(f"/hours/declarations/{decl.pk}/").content.decode()
    assert "证书.pdf" in page


def test_kept_and_new_files_together_and_the_same_kept_id_is_never_attached_twice(world, in_year, private_media):
    html = _first_try(world, certificate_states_hours="False")
    kept = _kept(html)
    fixed = {**declaration_payload(certificate_states_hours="False"), **kept, "submit": "1"}

    first = world.client("teacher_a1").post(NEW, {**fixed, "hours_statement": pdf("学时证明.pdf")})
    again = world.client("teacher_a1").post(NEW, {**fixed, "hours_statement": pdf("学时证明2.pdf")})

    decl = Declaration.objects.get()
    assert first.status_code == 302
    assert sorted(decl.evidence.values_list("kind", "original_name")) == [
        ("certificate", "证书.pdf"),
        ("hours_statement", "学时证明.pdf"),
    ]
    # The page sent again (back button, double click): the kept file is gone, said beside its field.
    assert again.status_code == 200
    assert "保留的文件已失效" in re.search(r'data-testid="error-certificate">([^<]*)<', again.content.decode()).group(1)
    assert Declaration.objects.count() == 1 and Evidence.objects.count() == 2


def test_ticking_remove_drops_the_kept_file(world, in_year, private_media, django_capture_on_commit_callbacks):
    html = _first_try(world)
    staged = StagedUpload.objects.get()
    kept = _kept(html)

    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("teacher_a1").post(
            NEW, {**declaration_payload(hours="0"), **kept, "remove_kept": [str(staged.pk)], "submit": "1"}
        )

    html = response.content.decode()
    assert 'data-testid="kept-certificate"' not in html and _kept(html) == {}
    assert "请上传证书原件的扫描件或照片。" in re.search(r'data-testid="error-certificate">([^<]*)<', html).group(1)
    assert not StagedUpload.objects.exists() and not (private_media / staged.file.name).exists()
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("posted", ["other", "junk"])
def test_another_users_kept_file_is_refused_beside_the_field(world, in_year, private_media, posted):
    _first_try(world, "teacher_a1")
    theirs = StagedUpload.objects.get()
    value = str(theirs.pk) if posted == "other" else "1; drop table"

    response = world.client("teacher_a2").post(NEW, {**declaration_payload(), "kept_certificate": value, "submit": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "保留的文件已失效" in re.search(r'data-testid="error-certificate">([^<]*)<', html).group(1)
    assert "证书.pdf" not in html
    assert not Declaration.objects.exists() and not Evidence.objects.exists()
    assert StagedUpload.objects.get() == theirs and (private_media / theirs.file.name).exists()


def test_the_service_refuses_someone_elses_kept_file(world, in_year, private_media):
    theirs = services.staged_upload_create(owner=world.users["teacher_a1"], kind="certificate", uploaded=pdf())
    data = {k: v for k, v in declaration_payload().items()}
    data.update(start_date=datetime.date(2026, 3, 2), end_date=datetime.date(2026, 3, 3))

    with pytest.raises(ValidationError) as exc:
        services.declaration_save(
            role=world.roles["teacher_a2"], actor=world.users["teacher_a2"], data=data, staged_ids=[theirs.pk], submit=True
        )

    assert "保留的文件已失效" in str(exc.value.message_dict["evidence"])
    assert not Declaration.objects.exists() and StagedUpload.objects.filter(pk=theirs.pk).exists()


def test_a_bad_file_is_not_kept(world, in_year, private_media):
    services_error = None
    try:
        services.staged_upload_create(
            owner=world.users["teacher_a1"], kind="certificate", uploaded=SimpleUploadedFile("x.pdf", b"<html>")
        )
    except ValidationError as exc:
        services_error = exc
    assert services_error is not None and not StagedUpload.objects.exists() and stored_files(private_media) == []


def test_a_returned_declaration_keeps_a_new_file_while_its_fields_are_fixed(world, in_year, private_media):
    decl = declare(world, state="returned")
    old = decl.evidence.get()
    url = f"/hours/declarations/{decl.pk}/edit/"
    client = world.client("teacher_a1")

    html = client.post(
        url, {**declaration_payload(hours="0"), "remove_evidence": [str(old.pk)], "certificate": pdf("清晰版.pdf"), "submit": "1"}
    ).content.decode()
    assert "已保留：清晰版.pdf" in html and 'data-testid="error-hours"' in html
    assert f'name="remove_evidence" value="{old.pk}" id="remove-{old.pk}" checked>' in html  # still ticked
    response = client.post(url, {**declaration_payload(), **_kept(html), "remove_evidence": [str(old.pk)], "submit": "1"})

    decl.refresh_from_db()
    assert response.status_code == 302 and decl.state == DeclarationState.SUBMITTED
    assert list(decl.evidence.values_list("original_name", flat=True)) == ["清晰版.pdf"]
    assert not StagedUpload.objects.exists()


def test_the_upload_inputs_offer_the_phone_camera(world, in_year):
    html = world.client("teacher_a1").get(NEW).content.decode()
    assert re.search(r'<input type="file" id="ev-certificate"[^>]*accept="image/\*,application/pdf" multiple', html)
    assert re.search(r'<input type="file" id="cam-certificate"[^>]*accept="image/\*,application/pdf" capture="environment"', html)


# --- the daily clean-up ------------------------------------------------------------------------------------


def _staged_at(world, when: datetime.datetime, name: str) -> StagedUpload:
    with time_machine.travel(when, tick=False):
        return services.staged_upload_create(owner=world.users["teacher_a1"], kind="certificate", uploaded=pdf(name))


T0 = datetime.datetime(2026, 6, 10, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def test_kept_files_older_than_a_day_are_deleted_with_their_files(world, private_media, django_capture_on_commit_callbacks):
    old = _staged_at(world, T0, "old.pdf")
    young = _staged_at(world, T0 + datetime.timedelta(hours=23), "young.pdf")

    with time_machine.travel(T0 + datetime.timedelta(hours=25), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            deleted = services.staged_uploads_prune()
        again = services.staged_uploads_prune()

    assert (deleted, again) == (1, 0)
    assert list(StagedUpload.objects.all()) == [young]
    assert not (private_media / old.file.name).exists() and (private_media / young.file.name).exists()


def test_the_command_and_the_beat_task_prune_kept_files(world, private_media, settings, capsys):
    from cpd.celery import app
    from hours.tasks import prune_staged_uploads

    entry = settings.CELERY_BEAT_SCHEDULE["prune-staged-uploads"]
    assert entry == {"task": "hours.tasks.prune_staged_uploads", "schedule": 60 * 60 * 24}
    assert "hours.tasks.prune_staged_uploads" in app.tasks
    _staged_at(world, T0, "a.pdf")
    _staged_at(world, T0 + datetime.timedelta(days=1, hours=12), "b.pdf")

    with time_machine.travel(T0 + datetime.timedelta(days=3), tick=False):
        # Caught up for the day after the first: only the first was a day old at the end of that day.
        call_command("prune_staged_uploads", "--date", "2026-06-11")
        assert '"deleted": 1' in capsys.readouterr().out
        assert list(StagedUpload.objects.values_list("original_name", flat=True)) == ["b.pdf"]
        assert prune_staged_uploads.delay().get() == {"deleted": 1}
    assert not StagedUpload.objects.exists()


def test_one_person_keeps_at_most_twenty_files_the_oldest_going_first(world, private_media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = [
            _staged_at(world, T0 + datetime.timedelta(minutes=i), f"{i}.pdf")
            for i in range(services.STAGED_UPLOADS_PER_OWNER + 1)
        ]
    other = services.staged_upload_create(owner=world.users["teacher_a2"], kind="certificate", uploaded=pdf("theirs.pdf"))

    left = list(StagedUpload.objects.filter(owner=world.users["teacher_a1"]).values_list("original_name", flat=True))
    assert len(left) == 20 and "0.pdf" not in left and "20.pdf" in left
    assert not (private_media / made[0].file.name).exists() and (private_media / made[1].file.name).exists()
    assert StagedUpload.objects.filter(pk=other.pk).exists()

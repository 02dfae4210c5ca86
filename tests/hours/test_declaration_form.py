"""The declaration form in one round trip: every error beside its field at once, what was typed kept,
files kept (as a draft) or named, the extra uploads only when needed, real fieldsets; and withdrawal."""

from __future__ import annotations

import re

import pytest

from cpd.errors import StateConflict
from hours import services
from hours.models import Declaration, DeclarationState

from .conftest import declaration_payload, declare, pdf


def _post(world, data, url="/hours/declarations/new/"):
    return world.client("teacher_a1").post(url, data)


def test_every_problem_is_shown_at_once_beside_its_field_and_the_values_stay(world, in_year, private_media):
    data = {**declaration_payload(hours="0", start_date="2026-03-05", end_date="2026-03-02", title="暑期研修"), "submit": "1"}

    html = _post(world, data).content.decode()

    for testid in ("error-hours", "error-end_date", "error-certificate"):
        assert f'data-testid="{testid}"' in html, testid
    assert 'value="暑期研修"' in html
    assert not Declaration.objects.exists()


def test_chosen_files_are_kept_when_the_form_must_be_fixed_first(world, in_year, private_media):
    data = {**declaration_payload(hours="0"), "certificate": pdf("证书扫描.pdf"), "submit": "1"}

    html = _post(world, data).content.decode()

    # Kept by the server under its field (the browser cannot re-fill a file input): test_kept_uploads.py.
    assert 'data-testid="kept-certificate"' in html and "已保留：证书扫描.pdf" in html
    assert 'data-testid="unsaved-files"' not in html


def test_files_beyond_what_a_declaration_holds_are_named_to_choose_again(world, in_year, private_media):
    files = [pdf(f"第{i}页.pdf", extra=str(i).encode()) for i in range(6)]
    data = {**declaration_payload(hours="0"), "certificate": files, "submit": "1"}

    html = _post(world, data).content.decode()

    assert html.count('data-testid="kept-file"') == 5
    assert "最多上传5个文件" in html
    assert 'data-testid="unsaved-files"' in html and "第5页.pdf" in html.split('data-testid="unsaved-files"')[1]


def test_when_only_a_paper_is_missing_the_draft_keeps_the_chosen_files_and_lists_them(world, in_year, private_media):
    data = {**declaration_payload(certificate_in_chinese=False), "certificate": pdf("证书.pdf"), "submit": "1"}

    html = _post(world, data).content.decode()

    draft = Declaration.objects.get()
    assert draft.state == DeclarationState.DRAFT
    assert 'data-testid="stored-certificate"' in html and "证书.pdf" in html
    assert 'data-testid="error-translation"' in html
    # The form now edits the saved draft: adding the translation submits that draft, no second one.
    action = re.search(r'data-testid="declaration-form" action="([^"]+)"', html).group(1)
    assert action == f"/hours/declarations/{draft.pk}/edit/"
    _post(world, {**declaration_payload(certificate_in_chinese=False), "translation": pdf("翻译件.pdf"), "submit": "1"}, action)
    draft.refresh_from_db()
    assert draft.state == DeclarationState.SUBMITTED and Declaration.objects.count() == 1


def test_translation_and_hours_statement_uploads_show_only_when_the_answers_need_them(world, in_year):
    new = world.client("teacher_a1").get("/hours/declarations/new/").content.decode()
    needs_translation = _post(world, {**declaration_payload(certificate_in_chinese=False, hours="0")}).content.decode()

    tag = re.compile(r'<fieldset[^>]*data-testid="evidence-(\w+)"[^>]*>')
    tags = {m.group(1): m.group(0) for m in tag.finditer(new)}
    assert "hidden" not in tags["certificate"]
    assert "hidden" in tags["translation"] and "hidden" in tags["hours_statement"]
    tags = {m.group(1): m.group(0) for m in tag.finditer(needs_translation)}
    assert "hidden" not in tags["translation"] and "hidden" in tags["hours_statement"]
    assert 'data-show-when="certificate_in_chinese=False"' in tags["translation"]
    assert 'capture="environment"' in new and 'accept="image/*,application/pdf"' in new


def test_the_two_questions_are_fieldsets_with_a_legend_and_labelled_choices(world, in_year):
    html = world.client("teacher_a1").get("/hours/declarations/new/").content.decode()
    for name in ("certificate_in_chinese", "certificate_states_hours"):
        block = re.search(rf'<fieldset[^>]*data-testid="fieldset-{name}">(.*?)</fieldset>', html, re.S).group(1)
        assert "<legend>" in block
        assert len(re.findall(rf'<label class="choice" for="id_{name}_\d">', block)) == 2


def test_evidence_shows_its_file_name(world, in_year, private_media):
    decl = declare(world, files=[("certificate", pdf("张老师-结业证书.pdf"))])
    html = world.client("teacher_a1").get(f"/hours/declarations/{decl.pk}/").content.decode()
    assert "张老师-结业证书.pdf" in html


# --- withdrawal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["submitted", "school_approved"])
def test_a_teacher_withdraws_a_declaration_waiting_for_review_and_it_is_a_draft_again(world, in_year, private_media, state):
    decl = declare(world, state=state)

    services.declaration_withdraw(declaration_id=decl.pk, role=world.roles["teacher_a1"], actor=world.users["teacher_a1"])

    decl.refresh_from_db()
    assert decl.state == DeclarationState.DRAFT
    assert decl.events.last().action == "withdraw"
    html = world.client("teacher_a1").get(f"/hours/declarations/{decl.pk}/").content.decode()
    assert 'data-testid="submit-existing"' in html and 'data-testid="withdraw-declaration"' not in html


def test_withdrawing_through_the_page_and_the_api(world, in_year, private_media):
    by_page, by_api = declare(world), declare(world)
    detail = world.client("teacher_a1").get(f"/hours/declarations/{by_page.pk}/").content.decode()
    assert 'data-testid="withdraw-declaration"' in detail

    world.client("teacher_a1").post(f"/hours/declarations/{by_page.pk}/withdraw/")
    response = world.api("teacher_a1").post(f"/api/v1/declarations/{by_api.pk}/withdraw/")

    assert response.status_code == 200 and response.json()["state"] == "draft"
    by_page.refresh_from_db()
    assert by_page.state == DeclarationState.DRAFT


def test_an_approved_declaration_cannot_be_withdrawn_and_nobody_else_can_withdraw(world, in_year, private_media):
    approved, waiting = declare(world, state="approved"), declare(world)

    with pytest.raises(StateConflict):
        services.declaration_withdraw(declaration_id=approved.pk, role=world.roles["teacher_a1"], actor=world.users["teacher_a1"])
    assert world.api("teacher_a1").post(f"/api/v1/declarations/{approved.pk}/withdraw/").status_code == 409
    assert world.api("teacher_a2").post(f"/api/v1/declarations/{waiting.pk}/withdraw/").status_code == 404
    assert world.api("school_a1_admin").post(f"/api/v1/declarations/{waiting.pk}/withdraw/").status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == DeclarationState.SUBMITTED

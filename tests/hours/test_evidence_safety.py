"""Evidence never becomes active content on the platform's origin (issue 15): PDFs carrying a
script, a launch action or embedded files, and HTML polyglots, are refused at upload; what is
served is downloaded (PDF) or shown as an image, under a sandboxing CSP with nosniff."""

from __future__ import annotations

import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hours.models import Declaration, Evidence

from .conftest import PDF, declaration_payload, declare, pdf, png


def _pdf(body: bytes) -> bytes:
    return b"%PDF-1.7\n" + body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _object_stream(hidden: bytes) -> bytes:
    data = zlib.compress(b"5 0 " + hidden)
    return _pdf(
        b"1 0 obj<</Type/Catalog/OpenAction 5 0 R>>endobj\n2 0 obj<</Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d>>stream\n"
        % len(data)
        + data
        + b"\nendstream\nendobj"
    )


HOSTILE = {
    "open-action script": _pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj"),
    "names-tree javascript": _pdf(b"1 0 obj<</Type/Catalog/Names<</JavaScript 3 0 R>>>>endobj"),
    "hex-escaped name": _pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/J#61vaScript/J#53 (x)>>>>endobj"),
    "launch action": _pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/Launch/F(cmd.exe)>>>>endobj"),
    "embedded file": _pdf(b"1 0 obj<</Type/Catalog/Names<</EmbeddedFiles 4 0 R>>>>endobj"),
    "uri open action": _pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/URI/URI(http://evil.example/)>>>>endobj"),
    "script hidden in an object stream": _object_stream(b"<</S/JavaScript/JS(app.alert(1))>>"),
    "html polyglot": b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF",
    "svg in a png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16 + b"<svg onload=alert(1)>",
}


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_active_evidence_is_refused_with_a_message_and_nothing_is_kept(world, in_year, private_media, case):
    content = HOSTILE[case]
    name = "certificate.png" if content.startswith(b"\x89PNG") else "certificate.pdf"
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")

    response = world.api("teacher_a1").post(
        "/api/v1/declarations/", {**declaration_payload(), "certificate": [upload], "submit": True}, format="multipart"
    )

    assert response.status_code == 400
    message = response.json()["evidence"][0]
    assert name in message and "可执行内容" in message
    assert not Declaration.objects.exists() and not Evidence.objects.exists()


def test_an_ordinary_pdf_with_an_open_at_page_action_is_accepted(world, in_year, private_media):
    plain = SimpleUploadedFile("c.pdf", _pdf(b"1 0 obj<</Type/Catalog/OpenAction[3 0 R /Fit]>>endobj"))

    response = world.api("teacher_a1").post(
        "/api/v1/declarations/", {**declaration_payload(), "certificate": [plain], "submit": True}, format="multipart"
    )

    assert response.status_code == 201, response.json()


def test_the_browser_form_shows_the_refusal(world, in_year, private_media):
    data = {
        **declaration_payload(),
        "certificate": SimpleUploadedFile("cert.pdf", HOSTILE["open-action script"]),
        "submit": "1",
    }

    response = world.client("teacher_a1").post("/hours/declarations/new/", data)

    assert response.status_code == 200 and "可执行内容" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_pdf_is_served_as_a_sandboxed_download(world, in_year, private_media):
    declaration = declare(world, "teacher_a1", files=[("certificate", pdf(extra=b"served"))])
    evidence = declaration.evidence.get()

    response = world.client("school_a1_admin").get(f"/hours/evidence/{evidence.token}/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"].split(";")[0]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(PDF[:8])


def test_an_image_is_still_previewed_inline_but_sandboxed(world, in_year, private_media):
    declaration = declare(world, "teacher_a1", files=[("certificate", png(extra=b"photo"))])
    evidence = declaration.evidence.get()

    response = world.client("school_a1_admin").get(f"/hours/evidence/{evidence.token}/")
    page = world.client("school_a1_admin").get(f"/hours/declarations/{declaration.pk}/").content.decode()

    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Type"] == "image/png"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f'<img src="/hours/evidence/{evidence.token}/"' in page

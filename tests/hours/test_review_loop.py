"""The full two-level loop, through the API, as the teacher, the school and the district see it."""

from hours.models import Declaration, DeclarationState, LedgerEntry, Notification

from .conftest import declaration_payload, pdf


def _create_and_submit(world):
    api = world.api("teacher_a1")
    response = api.post(
        "/api/v1/declarations/", {**declaration_payload(), "certificate": [pdf()], "submit": True}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["state"] == "submitted"
    return response.json()["id"]


def test_full_loop_writes_one_ledger_entry_and_keeps_every_step(world, in_year, private_media):
    pk = _create_and_submit(world)
    school, district, teacher = world.api("school_a1_admin"), world.api("district_a_admin"), world.api("teacher_a1")

    assert school.post(f"/api/v1/declarations/{pk}/return/", {"reason": "证书不清晰"}).status_code == 200
    assert teacher.post(f"/api/v1/declarations/{pk}/submit/").status_code == 200
    assert school.post(f"/api/v1/declarations/{pk}/approve/").status_code == 200
    assert district.post(f"/api/v1/declarations/{pk}/return/", {"reason": "学时与证书不一致"}).status_code == 200
    edited = teacher.patch(f"/api/v1/declarations/{pk}/", {"hours": "10", "submit": True}, format="multipart")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["state"] == "submitted"  # back through the school
    assert school.post(f"/api/v1/declarations/{pk}/approve/").status_code == 200
    final = district.post(f"/api/v1/declarations/{pk}/approve/")
    assert final.status_code == 200
    assert final.json()["state"] == "approved"

    entries = LedgerEntry.objects.filter(declaration_id=pk)
    assert entries.count() == 1
    assert entries.get().hours == 10
    history = teacher.get(f"/api/v1/declarations/{pk}/").json()["events"]
    # The first submission, then the seven review steps of the loop.
    assert [e["action"] for e in history] == [
        "submit",
        "school_return",
        "submit",
        "school_approve",
        "district_return",
        "submit",
        "school_approve",
        "district_approve",
    ]
    assert history[1]["reason"] == "证书不清晰" and history[1]["actor"] == world.users["school_a1_admin"].name
    assert Notification.objects.filter(user=world.users["teacher_a1"]).count() == 3  # two returns and the approval


def test_approving_an_approved_declaration_again_is_409_and_writes_nothing(world, in_year, private_media):
    pk = _create_and_submit(world)
    world.api("school_a1_admin").post(f"/api/v1/declarations/{pk}/approve/")
    world.api("district_a_admin").post(f"/api/v1/declarations/{pk}/approve/")
    again = world.api("district_a_admin").post(f"/api/v1/declarations/{pk}/approve/")
    assert again.status_code == 409
    assert LedgerEntry.objects.filter(declaration_id=pk).count() == 1
    assert Declaration.objects.get(pk=pk).state == DeclarationState.APPROVED

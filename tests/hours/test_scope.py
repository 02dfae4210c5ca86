"""Who may act on and see which declarations, evidence files and ledger entries (SPEC §1, §4)."""

import pytest

from hours.models import Declaration, DeclarationEvent, DeclarationState, LedgerEntry

from .conftest import declare


def _snapshot(decl):
    """What a wrong actor must not change: the state, the history and the ledger."""
    decl = Declaration.objects.get(pk=decl.pk)
    return (
        decl.state,
        list(DeclarationEvent.objects.filter(declaration=decl).values_list("pk", flat=True)),
        LedgerEntry.objects.count(),
    )


@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_school_admin_cannot_act_on_another_schools_declaration_via_api(world, in_year, private_media, action):
    decl = declare(world, "teacher_a1", state="submitted")
    before = _snapshot(decl)

    response = world.api("school_a2_admin").post(f"/api/v1/declarations/{decl.pk}/{action}/", {"reason": "不是本校的"})

    assert response.status_code == 404
    assert _snapshot(decl) == before


@pytest.mark.parametrize("action", ["approve", "return", "reject"])
def test_school_admin_cannot_act_on_another_schools_declaration_via_browser(world, in_year, private_media, action):
    decl = declare(world, "teacher_a1", state="submitted")
    before = _snapshot(decl)

    response = world.client("school_b1_admin").post(
        f"/hours/declarations/{decl.pk}/review/", {"action": action, "reason": "不是本校的"}
    )

    assert response.status_code == 404
    assert _snapshot(decl) == before


def test_school_admin_cannot_open_another_schools_declaration(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")

    assert world.client("school_a2_admin").get(f"/hours/declarations/{decl.pk}/").status_code == 404
    assert world.api("school_a2_admin").get(f"/api/v1/declarations/{decl.pk}/").status_code == 404
    assert world.client("school_a1_admin").get(f"/hours/declarations/{decl.pk}/").status_code == 200


def test_own_school_admin_can_act_where_the_other_school_could_not(world, in_year, private_media):
    # The counterpart of the 404s above: the same request from the right school works.
    decl = declare(world, "teacher_a1", state="submitted")

    response = world.client("school_a1_admin").post(f"/hours/declarations/{decl.pk}/review/", {"action": "approve"})

    assert response.status_code == 302
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.SCHOOL_APPROVED


def test_teacher_cannot_review_own_declaration(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")
    before = _snapshot(decl)

    response = world.api("teacher_a1").post(f"/api/v1/declarations/{decl.pk}/approve/")

    assert response.status_code == 403
    assert _snapshot(decl) == before


def test_teacher_cannot_review_through_the_browser_either(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="submitted")
    before = _snapshot(decl)

    response = world.client("teacher_a1").post(f"/hours/declarations/{decl.pk}/review/", {"action": "approve"})

    assert response.status_code == 403
    assert _snapshot(decl) == before


def test_teacher_cannot_see_another_teachers_declaration(world, in_year, private_media):
    other = declare(world, "teacher_a2", state="submitted")
    colleague = world.api("teacher_a1")

    assert colleague.get(f"/api/v1/declarations/{other.pk}/").status_code == 404
    assert world.client("teacher_a1").get(f"/hours/declarations/{other.pk}/").status_code == 404
    assert world.client("teacher_a1").get(f"/hours/declarations/{other.pk}/edit/").status_code == 404
    assert colleague.patch(f"/api/v1/declarations/{other.pk}/", {"title": "改掉"}, format="multipart").status_code == 404
    assert colleague.post(f"/api/v1/declarations/{other.pk}/submit/").status_code == 404
    assert Declaration.objects.get(pk=other.pk).title == other.title


def test_district_admin_cannot_act_on_another_districts_declaration(world, in_year, private_media):
    decl = declare(world, "teacher_b1", state="school_approved")
    before = _snapshot(decl)

    assert world.api("district_a_admin").post(f"/api/v1/declarations/{decl.pk}/approve/").status_code == 404
    browser = world.client("district_a_admin").post(f"/hours/declarations/{decl.pk}/review/", {"action": "approve"})
    assert browser.status_code == 404
    assert _snapshot(decl) == before


def test_district_admin_cannot_act_on_a_city_direct_schools_declaration(world, in_year, private_media):
    decl = declare(world, "teacher_c1", state="school_approved")
    before = _snapshot(decl)

    for action in ("approve", "return", "reject"):
        response = world.api("district_a_admin").post(f"/api/v1/declarations/{decl.pk}/{action}/", {"reason": "越权"})
        assert response.status_code == 404, action
    assert _snapshot(decl) == before


def test_city_training_centre_reviews_city_direct_schools(world, in_year, private_media):
    decl = declare(world, "teacher_c1", state="school_approved")
    centre = world.api("city_direct_admin")

    assert decl.pk in [d["id"] for d in centre.get("/api/v1/declarations/?queue=mine").json()["results"]]
    response = centre.post(f"/api/v1/declarations/{decl.pk}/approve/")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved"
    entry = LedgerEntry.objects.get(declaration=decl)
    assert entry.teacher == world.teachers["teacher_c1"] and entry.hours == decl.hours


def test_city_training_centre_cannot_review_a_district_school(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="school_approved")
    before = _snapshot(decl)

    assert world.api("city_direct_admin").post(f"/api/v1/declarations/{decl.pk}/approve/").status_code == 404
    assert _snapshot(decl) == before


# --- evidence files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status",
    [
        ("teacher_a1", 200),
        ("school_a1_admin", 200),
        ("district_a_admin", 200),
        ("city_admin", 200),
        ("school_a2_admin", 404),
        ("teacher_a2", 404),
        ("district_b_admin", 404),
        ("city_direct_admin", 404),
    ],
)
def test_evidence_file_is_served_only_in_scope(world, in_year, private_media, persona, status):
    decl = declare(world, "teacher_a1", state="submitted")
    evidence = decl.evidence.get()

    response = world.client(persona).get(f"/hours/evidence/{evidence.token}/")

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert response["Content-Type"] == "application/pdf"


# --- lists ---------------------------------------------------------------------------------


@pytest.fixture
def spread(world, in_year, private_media):
    """One approved declaration (and so one ledger entry) in each of the four schools' teachers."""
    return {
        persona: declare(world, persona, state="approved") for persona in ("teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1")
    }


@pytest.mark.parametrize(
    "viewer, expected",
    [
        ("teacher_a1", {"teacher_a1"}),
        ("school_a1_admin", {"teacher_a1"}),
        ("principal_a1", {"teacher_a1"}),
        ("district_a_admin", {"teacher_a1", "teacher_a2"}),
        ("district_b_admin", {"teacher_b1"}),
        ("city_direct_admin", {"teacher_c1"}),
        ("city_admin", {"teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1"}),
        ("provider", set()),
    ],
)
def test_api_lists_only_contain_rows_in_scope(world, spread, viewer, expected):
    api = world.api(viewer)

    declarations = api.get("/api/v1/declarations/").json()["results"]
    ledger = api.get("/api/v1/ledger/").json()["results"]

    assert {d["id"] for d in declarations} == {spread[p].pk for p in expected}
    assert {e["declaration"] for e in ledger} == {spread[p].pk for p in expected}


def test_ledger_filter_by_teacher_does_not_widen_scope(world, spread):
    other_teacher = world.teachers["teacher_b1"]

    rows = world.api("school_a1_admin").get(f"/api/v1/ledger/?teacher={other_teacher.pk}").json()["results"]

    assert rows == []

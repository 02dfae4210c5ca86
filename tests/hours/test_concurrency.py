"""Two district admins approving the same declaration at the same moment (needs PostgreSQL row locks)."""

import functools

import pytest

from hours import services
from hours.models import Declaration, DeclarationEvent, DeclarationState, LedgerEntry

from ..concurrency import race
from .conftest import declare

pytestmark = pytest.mark.postgres


def _race(world, decl, personas):
    """district_approve from each persona, all at the same moment: "ok" or the exception, in order."""

    def approve(persona):
        services.declaration_transition(
            declaration_id=decl.pk, action="district_approve", role=world.roles[persona], actor=world.users[persona]
        )
        return "ok"

    return race([functools.partial(approve, p) for p in personas], timeout=30)


def test_simultaneous_district_approvals_write_one_ledger_entry(world, transactional_db, in_year, private_media):
    decl = declare(world, "teacher_a1", state="school_approved")

    outcomes = _race(world, decl, ["district_a_admin", "district_a_admin"])

    assert outcomes.count("ok") == 1, outcomes
    [loser] = [o for o in outcomes if o != "ok"]
    assert isinstance(loser, services.StateConflict), repr(loser)
    assert LedgerEntry.objects.filter(declaration=decl).count() == 1
    assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.APPROVED
    assert DeclarationEvent.objects.filter(declaration=decl, action="district_approve").count() == 1


def test_simultaneous_approvals_by_two_admins_of_the_same_district(world, transactional_db, in_year, private_media):
    # A second district_a admin: two people, not one double-click.
    from accounts.models import Role, RoleKind

    from ..factories import UserFactory

    colleague = UserFactory(username="district_a_admin_2")
    world.users["district_a_admin_2"] = colleague
    world.roles["district_a_admin_2"] = Role.objects.create(
        user=colleague, kind=RoleKind.DISTRICT_ADMIN, organisation=world.district_a
    )

    for _ in range(3):  # a race is won by timing: run it a few times on fresh declarations
        decl = declare(world, "teacher_a1", state="school_approved")
        outcomes = _race(world, decl, ["district_a_admin", "district_a_admin_2"])
        assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
        assert all(o == "ok" or isinstance(o, services.StateConflict) for o in outcomes), outcomes
        assert LedgerEntry.objects.filter(declaration=decl).count() == 1


def test_the_same_form_sent_twice_at_once_attaches_a_kept_file_once(world, transactional_db, in_year, private_media):
    import datetime as dt

    from django.core.exceptions import ValidationError

    from hours.models import Evidence, StagedUpload

    from .conftest import declaration_payload, pdf

    kept = services.staged_upload_create(owner=world.users["teacher_a1"], kind="certificate", uploaded=pdf("证书.pdf"))
    data = {**declaration_payload(), "start_date": dt.date(2026, 3, 2), "end_date": dt.date(2026, 3, 3)}

    def save():
        services.declaration_save(
            role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], data=data, staged_ids=[kept.pk], submit=True
        )
        return "ok"

    outcomes = race([save, save], timeout=30)

    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or isinstance(o, (ValidationError, services.StateConflict)) for o in outcomes), outcomes
    assert Declaration.objects.count() == 1 and Evidence.objects.count() == 1
    assert not StagedUpload.objects.exists()

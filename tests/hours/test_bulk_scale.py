"""Bulk approval is set-based: the same statements for 2 ids as for 200, at both review levels, with
one ledger entry, one event and one notice per declaration approved."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hours import services
from hours.models import Declaration, DeclarationEvent, DeclarationState, LedgerEntry, Notification, Year

from .conftest import declare


def _approve(world, persona, ids, kinds=None):
    with CaptureQueriesContext(connection) as ctx:
        result = services.declarations_bulk_approve(ids=ids, role=world.roles[persona], actor=world.users[persona])
    assert result["failed"] == []
    assert sorted(result["approved"]) == sorted(ids)
    if kinds is not None:
        kinds.update(_kinds(ctx.captured_queries))
    return _statements(ctx.captured_queries)


def _kinds(queries):
    """{(verb, table): statements}, an INSERT that SQLite split into batches counted once (as _statements)."""
    import re
    from collections import Counter

    kinds, last_insert = Counter(), None
    for q in queries:
        sql = q["sql"]
        insert = sql.split(" VALUES ")[0] if sql.startswith("INSERT") else None
        if insert is not None and insert == last_insert and connection.vendor == "sqlite":
            continue
        last_insert = insert
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
        verb = sql.split(None, 1)[0]
        if verb == "SELECT" and " FOR UPDATE" in sql:
            verb = "SELECT FOR UPDATE"
        kinds[(verb, table.group(1) if table else "")] += 1
    return kinds


def _statements(queries):
    """How many statements ran; on SQLite an INSERT that Django split into batches (its 999-parameter
    limit) counts once, as it is one statement on PostgreSQL."""
    count, last_insert = 0, None
    for q in queries:
        sql = q["sql"]
        insert = sql.split(" VALUES ")[0] if sql.startswith("INSERT") else None
        if insert is None or insert != last_insert or connection.vendor != "sqlite":
            count += 1
        last_insert = insert
    return count


@pytest.mark.parametrize("level", ["school", "district"])
def test_bulk_approval_query_count_does_not_grow_with_the_ids(world, in_year, private_media, level):
    state = "submitted" if level == "school" else "school_approved"
    persona = "school_a1_admin" if level == "school" else "district_a_admin"
    ids = [declare(world, "teacher_a1", state=state).pk for _ in range(202)]
    events_before = DeclarationEvent.objects.count()

    # Each time for a year nobody has stored yet: its defaults are read once per call, not once per id.
    Year.objects.filter(year=2026).delete()
    with_two = _approve(world, persona, ids[:2])
    Year.objects.filter(year=2026).delete()
    kinds = {}
    with_two_hundred = _approve(world, persona, ids[2:], kinds)

    assert with_two_hundred == with_two
    # Set-based: one statement checks the scope and locks the rows, one moves them, one records the events;
    # at the district one inserts the ledger entries and one the notices.
    locks = "SELECT FOR UPDATE" if connection.vendor == "postgresql" else "SELECT"
    assert kinds.get((locks, "hours_declaration")) == 1, kinds
    assert kinds.get(("UPDATE", "hours_declaration")) == 1, kinds
    assert kinds.get(("INSERT", "hours_declarationevent")) == 1, kinds
    assert (
        kinds.get(("INSERT", "hours_ledgerentry"), 0)
        == kinds.get(("INSERT", "hours_notification"), 0)
        == (1 if level == "district" else 0)
    )
    target = DeclarationState.SCHOOL_APPROVED if level == "school" else DeclarationState.APPROVED
    assert Declaration.objects.filter(pk__in=ids, state=target).count() == 202
    assert DeclarationEvent.objects.count() == events_before + 202
    if level == "district":
        # Exactly one ledger entry per approved declaration, with its hours; and the teacher is told.
        assert LedgerEntry.objects.filter(declaration__in=ids).count() == 202
        assert {e.source_ref for e in LedgerEntry.objects.filter(declaration__in=ids)} == {f"declaration:{pk}" for pk in ids}
        assert Notification.objects.filter(declaration__in=ids, user=world.users["teacher_a1"]).count() == 202


def test_bulk_approval_names_what_it_could_not_approve_and_approves_the_rest(world, in_year, private_media):
    waiting = declare(world, "teacher_a1", state="school_approved")
    returned = declare(world, "teacher_a1", state="returned")
    elsewhere = declare(world, "teacher_b1", state="school_approved")  # another district

    result = services.declarations_bulk_approve(
        ids=[waiting.pk, returned.pk, elsewhere.pk], role=world.roles["district_a_admin"], actor=world.users["district_a_admin"]
    )

    assert result["approved"] == [waiting.pk]
    errors = {f["id"]: f["error"] for f in result["failed"]}
    assert set(errors) == {returned.pk, elsewhere.pk}
    assert "退回" in errors[returned.pk] or "returned" in errors[returned.pk].lower()
    assert LedgerEntry.objects.filter(declaration=waiting).count() == 1
    assert not LedgerEntry.objects.filter(declaration__in=[returned, elsewhere]).exists()
    elsewhere.refresh_from_db()
    assert elsewhere.state == DeclarationState.SCHOOL_APPROVED


def test_approving_the_same_ids_twice_writes_no_second_ledger_entry(world, in_year, private_media):
    decl = declare(world, "teacher_a1", state="school_approved")
    role, actor = world.roles["district_a_admin"], world.users["district_a_admin"]
    services.declarations_bulk_approve(ids=[decl.pk, decl.pk], role=role, actor=actor)
    again = services.declarations_bulk_approve(ids=[decl.pk], role=role, actor=actor)
    assert again["approved"] == [] and again["failed"][0]["id"] == decl.pk
    assert LedgerEntry.objects.filter(declaration=decl).count() == 1


@pytest.mark.postgres
def test_two_bulk_approvals_of_overlapping_ids_at_once_write_each_entry_once(world, transactional_db, in_year, private_media):
    import functools

    from ..concurrency import race

    ids = [declare(world, "teacher_a1", state="school_approved").pk for _ in range(20)]
    role, actor = world.roles["district_a_admin"], world.users["district_a_admin"]
    # Opposite orders: a lock taken id by id would deadlock; one FOR UPDATE statement (in pk order) does not.
    calls = [
        functools.partial(services.declarations_bulk_approve, ids=ids, role=role, actor=actor),
        functools.partial(services.declarations_bulk_approve, ids=list(reversed(ids)), role=role, actor=actor),
    ]
    outcomes = race(calls, timeout=30)

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    approved = [pk for o in outcomes for pk in o["approved"]]
    assert sorted(approved) == sorted(ids)  # each approved by exactly one of the two
    assert LedgerEntry.objects.filter(declaration__in=ids).count() == 20
    assert DeclarationEvent.objects.filter(declaration__in=ids, action="district_approve").count() == 20

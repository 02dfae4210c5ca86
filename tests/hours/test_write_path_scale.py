"""The write path at city scale: a teacher's create+submit and a reviewer's single approval cost the same
statements however many files, events and other declarations there are (the response's events do not
fetch their actors one by one), and every statement they and a bulk approval run is an index lookup on
the big tables (duplicate checks, scope checks, locks): EXPLAIN with sequential scans priced out shows
no read of a whole table (no Seq Scan, no index walked without a condition) over declarations, ledger
entries, evidence, events, notifications or teachers."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hours import services
from hours.models import Declaration, DeclarationState

from .conftest import declaration_payload, declare, pdf, png

BIG_TABLES = {
    "hours_declaration",
    "hours_ledgerentry",
    "hours_evidence",
    "hours_declarationevent",
    "hours_notification",
    "accounts_teacher",
}


def _create_and_submit(world, n, queries=None):
    """The teacher's create+submit through the API (with `queries`, a list: the request's statements are added)."""
    api = world.api("teacher_a1")
    payload = declaration_payload(certificate_number=f"WRITE-{n}", title=f"写入路径{n}")
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(
            "/api/v1/declarations/",
            {**payload, "certificate": [pdf(extra=b"write %d" % n)], "submit": True},
            format="multipart",
        )
    if queries is not None:
        queries += ctx.captured_queries
    assert response.status_code == 201, response.json()
    return Declaration.objects.get(certificate_number=f"WRITE-{n}")


def _approve(world, persona, decl):
    response = world.api(persona).post(f"/api/v1/declarations/{decl.pk}/approve/")
    assert response.status_code == 200, response.json()
    return response.json()


def _captured(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return ctx.captured_queries


def test_create_submit_and_single_approvals_cost_the_same_with_more_files_events_and_declarations(world, in_year, private_media):
    _create_and_submit(world, 0)  # warm up per-process caches (content types, translations)
    few = [len(_captured(lambda: _create_and_submit(world, 1)))]
    decl = Declaration.objects.get(certificate_number="WRITE-1")
    few.append(len(_captured(lambda: _approve(world, "school_a1_admin", decl))))
    few.append(len(_captured(lambda: _approve(world, "district_a_admin", decl))))

    # More of everything: other declarations at every state, and a declaration with more files whose
    # history has more events (returned, corrected, resubmitted) by more people.
    for state in ("submitted", "school_approved", "approved", "returned"):
        for _ in range(3):
            declare(world, "teacher_a1", state=state)
    busy = declare(
        world,
        "teacher_a1",
        state="returned",
        files=[
            ("certificate", pdf(extra=b"busy 1")),
            ("certificate", png(extra=b"busy 2")),
            ("certificate", pdf(extra=b"busy 3")),
        ],
    )
    services.declaration_save(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], data={}, declaration=busy, submit=True
    )
    services.declaration_transition(
        declaration_id=busy.pk,
        action="school_return",
        role=world.roles["school_a1_admin"],
        actor=world.users["school_a1_admin"],
        reason="再核对",
    )
    services.declaration_save(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], data={}, declaration=busy, submit=True
    )
    many = [len(_captured(lambda: _create_and_submit(world, 2)))]
    many.append(len(_captured(lambda: _approve(world, "school_a1_admin", busy))))
    body = {}
    many.append(len(_captured(lambda: body.update(_approve(world, "district_a_admin", busy)))))

    assert many == few
    # The answer still names who did each step.
    assert len(body["events"]) == 7 and {e["actor"] for e in body["events"]} >= {
        str(world.users["teacher_a1"]),
        str(world.users["school_a1_admin"]),
        str(world.users["district_a_admin"]),
    }
    assert Declaration.objects.get(pk=busy.pk).state == DeclarationState.APPROVED


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _full_reads(node):
    """A scan that reads its whole table: a sequential scan, or an index walked end to end (an index scan
    with no condition on the index, which is what a priced-out sequential scan turns into)."""
    if node.get("Relation Name") not in BIG_TABLES:
        return False
    if node["Node Type"] == "Seq Scan":
        return True
    return node["Node Type"] in ("Index Scan", "Index Only Scan") and not node.get("Index Cond")


def _full_table_reads(queries):
    """(table, statement) for each statement that reads a big table from end to end even with sequential
    scans priced out (so no index can answer it)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for q in queries:
                sql = q["sql"]
                if not sql.startswith(("SELECT", "UPDATE", "DELETE")):
                    continue
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = plan if isinstance(plan, list) else json.loads(plan)
                for node in _nodes(plan[0]["Plan"]):
                    if _full_reads(node):
                        found.append((node["Relation Name"], sql[:300]))
        finally:
            cursor.execute("RESET enable_seqscan")
    return found


@pytest.mark.postgres
def test_every_statement_of_submit_and_review_is_an_index_lookup(world, in_year, private_media):
    for state in ("submitted", "school_approved", "approved"):
        for persona in ("teacher_a1", "teacher_a2", "teacher_b1"):
            declare(world, persona, state=state)
    _create_and_submit(world, 0)
    queries = _captured(lambda: _create_and_submit(world, 1))  # duplicate checks: certificate, title and dates, evidence hash
    decl = Declaration.objects.get(certificate_number="WRITE-1")
    queries += _captured(lambda: _approve(world, "school_a1_admin", decl))  # scope check, lock
    queries += _captured(lambda: _approve(world, "district_a_admin", decl))  # scope check, lock, ledger entry
    waiting = [declare(world, "teacher_a1", state="submitted").pk for _ in range(3)]
    queries += _captured(
        lambda: services.declarations_bulk_approve(
            ids=waiting, role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"]
        )
    )
    queries += _captured(
        lambda: services.declarations_bulk_approve(
            ids=waiting, role=world.roles["district_a_admin"], actor=world.users["district_a_admin"]
        )
    )
    assert len(queries) > 30
    assert _full_table_reads(queries) == []


def test_the_answer_to_a_write_is_what_reading_the_declaration_gives(world, in_year, private_media):
    # A new declaration is answered from what the write holds (no read back), an action from its locked row:
    # each answer must be the declaration as it is stored, evidence and events included.
    api = world.api("teacher_a1")
    created = api.post(
        "/api/v1/declarations/",
        {
            **declaration_payload(certificate_number="ANSWER-1"),
            "certificate": [pdf(extra=b"answer 1"), pdf("second.pdf", extra=b"answer 2")],
            "submit": True,
        },
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json() == api.get(f"/api/v1/declarations/{pk}/").json()
    assert [e["action"] for e in created.json()["events"]] == ["submit"] and len(created.json()["evidence"]) == 2

    draft = api.post("/api/v1/declarations/", {**declaration_payload(certificate_number="ANSWER-2")}, format="multipart")
    assert draft.status_code == 201 and draft.json() == api.get(f"/api/v1/declarations/{draft.json()['id']}/").json()
    assert draft.json()["events"] == [] and draft.json()["evidence"] == []

    for persona in ("school_a1_admin", "district_a_admin"):
        reviewer = world.api(persona)
        approved = _approve(world, persona, Declaration.objects.get(pk=pk))
        assert approved == reviewer.get(f"/api/v1/declarations/{pk}/").json()
    assert [e["action"] for e in approved["events"]] == ["submit", "school_approve", "district_approve"]
    assert approved["state"] == DeclarationState.APPROVED


def test_field_messages_follow_each_requests_language_with_the_fields_built_once(world, in_year, private_media):
    # The input serializer's fields are built once per class (cpd.api.CachedFields): their messages stay lazy.
    api = world.api("teacher_a1")

    def refused(language):
        response = api.post(
            "/api/v1/declarations/", {**declaration_payload(hours="abc")}, format="json", HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 400
        return response.json()["hours"]

    chinese, english, chinese_again = refused("zh-hans"), refused("en"), refused("zh-hans")
    assert english == ["A valid number is required."]
    assert chinese == chinese_again != english and any(ord(ch) > 0x3000 for ch in chinese[0])


def test_an_action_on_an_id_that_is_not_a_number_is_404(world, in_year, private_media):
    for action in ("approve", "submit", "withdraw"):
        for persona in ("school_a1_admin", "teacher_a1"):
            assert world.api(persona).post(f"/api/v1/declarations/abc/{action}/").status_code == 404


def _reads_and_writes(queries):
    """[(verb, first table)] of each statement, SELECT … FOR UPDATE as its own verb."""
    import re

    out = []
    for q in queries:
        sql = q["sql"]
        verb = sql.split(None, 1)[0].upper()
        if verb == "SELECT" and " FOR UPDATE" in sql:
            verb = "SELECT FOR UPDATE"
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        out.append((verb, table.group(1) if table else ""))
    return out


def test_create_and_submit_writes_the_declaration_once_and_looks_for_duplicates_in_one_statement(world, in_year, private_media):
    _create_and_submit(world, 0)
    queries = []
    _create_and_submit(world, 1, queries)
    statements = _reads_and_writes(queries)

    # Checked and moved to "submitted" before it is written: one INSERT, no second write of the row.
    assert statements.count(("INSERT", "hours_declaration")) == 1
    assert ("UPDATE", "hours_declaration") not in statements
    # The duplicate look-ups (certificate number, title and dates in declarations and the ledger, the file's
    # hash) are one statement, and nothing else reads declarations, the ledger or evidence.
    reads = [t for verb, t in statements if verb.startswith("SELECT")]
    assert reads.count("hours_declaration") == 1 and "hours_ledgerentry" not in reads and "hours_evidence" not in reads
    # The answer is built from what was written: nothing is read after the last write.
    last_write = max(i for i, (verb, _t) in enumerate(statements) if verb in ("INSERT", "UPDATE"))
    assert [s for s in statements[last_write + 1 :] if s[0].startswith("SELECT")] == []


@pytest.mark.parametrize("persona", ["school_a1_admin", "district_a_admin"])
def test_an_approval_checks_scope_and_locks_in_one_statement(world, in_year, private_media, persona):
    decl = _create_and_submit(world, 0)
    if persona == "district_a_admin":
        _approve(world, "school_a1_admin", decl)
    statements = _reads_and_writes(_captured(lambda: _approve(world, persona, decl)))

    lock = "SELECT FOR UPDATE" if connection.vendor == "postgresql" else "SELECT"
    declaration_reads = [s for s in statements if s[1] == "hours_declaration" and s[0].startswith("SELECT")]
    # The scoped, locked read is the first and only read of the declaration (no look-up before it, none after).
    assert declaration_reads == [(lock, "hours_declaration")]
    assert statements.index((lock, "hours_declaration")) < statements.index(("UPDATE", "hours_declaration"))
    # The answer reads the evidence and the events with their actors once each.
    assert statements.count(("SELECT", "hours_evidence")) == statements.count(("SELECT", "hours_declarationevent")) == 1
    if persona == "district_a_admin":
        assert statements.count(("INSERT", "hours_ledgerentry")) == 1
        assert ("SELECT", "hours_year") in statements and statements.count(("SELECT", "hours_year")) == 1
        assert ("SELECT", "accounts_user") not in statements  # the teacher's account came with the locked row

"""The declarations API's rows (cpd.api.PlainRows) are exactly what DRF's generic serialisation gives: every
field, with evidence, a draft's empty dates, a returned declaration's reason, and through the list endpoint."""

from __future__ import annotations

from rest_framework import serializers

from hours.api import DeclarationSerializer
from hours.models import Declaration

from .conftest import declare


def _generic(instance):
    """DRF's own to_representation of the same serializer (the mixin bypassed), nested evidence included."""
    ser = DeclarationSerializer()
    out = serializers.Serializer.to_representation(ser, instance)
    out["evidence"] = [serializers.Serializer.to_representation(ser.fields["evidence"].child, e) for e in instance.evidence.all()]
    return out


def test_rows_equal_drfs_generic_serialisation(world, in_year, private_media):
    made = [
        declare(world, "teacher_a1", state="draft"),
        declare(world, "teacher_a1", state="returned"),
        declare(world, "teacher_b1", state="approved"),
        declare(world, "teacher_a2", state="draft", files=[]),
    ]
    rows = list(
        Declaration.objects.filter(pk__in=[d.pk for d in made]).select_related("teacher__school").prefetch_related("evidence")
    )
    fast = DeclarationSerializer(rows, many=True).data
    assert [dict(r) for r in fast] == [_generic(r) for r in rows]
    by_id = {r["id"]: r for r in fast}
    assert by_id[made[0].pk]["submitted_at"] is None and by_id[made[1].pk]["last_reason"] == "证书不清晰"
    assert by_id[made[2].pk]["school"] == world.school_b1.name and by_id[made[0].pk]["evidence"][0]["url"].startswith("/")
    assert by_id[made[3].pk]["evidence"] == []


def test_the_city_list_shows_the_same_rows(world, in_year, private_media):
    declare(world, "teacher_a1", state="returned")
    declare(world, "teacher_b1", state="approved")
    results = world.api("city_admin").get("/api/v1/declarations/").json()["results"]
    rows = {d.pk: d for d in Declaration.objects.select_related("teacher__school").prefetch_related("evidence")}
    assert len(results) == 2
    assert results == [_generic(rows[r["id"]]) for r in results]


def test_ledger_rows_equal_drfs_generic_serialisation(world, in_year, private_media):
    """Foreign keys written from their id columns (teacher, declaration, revokes: set and null) as DRF writes them."""
    from hours import services
    from hours.api import LedgerEntrySerializer
    from hours.models import LedgerEntry

    declare(world, "teacher_a1", state="approved")
    entry = LedgerEntry.objects.select_related("teacher").first()
    services.ledger_correction(role=world.roles["city_admin"], actor=world.users["city_admin"], reason="重复", revokes=entry)
    rows = list(LedgerEntry.objects.select_related("teacher").order_by("pk"))
    assert any(r.declaration_id for r in rows) and any(r.revokes_id for r in rows) and any(r.revokes_id is None for r in rows)
    generic = [serializers.Serializer.to_representation(LedgerEntrySerializer(), r) for r in rows]
    assert [dict(r) for r in LedgerEntrySerializer(rows, many=True).data] == generic

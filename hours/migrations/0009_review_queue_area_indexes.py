"""The review queues' indexes on the declaration's school and district (hours 0008), built concurrently
(cpd.migration_ops) so that teachers keep submitting and reviewers keep approving meanwhile; the state-first
queue indexes they replace go once the new ones exist.

A school's queue is one range of `declaration_school_queue` in submission order (by year:
`declaration_school_year`); a district's one range of `declaration_district_queue`, by year, by a category or
activity type, or its suspected duplicates one range of its own index. Each holds only what waits at its level
(state submitted for a school's, school_approved for a district's)."""

from django.db import migrations, models

from cpd.migration_ops import AddIndexConcurrently, RemoveIndexConcurrently

SCHOOL_QUEUED = models.Q(("state", "submitted"))
DISTRICT_QUEUED = models.Q(("state", "school_approved"))


class Migration(migrations.Migration):
    # Concurrent index builds (cpd.migration_ops): the table stays writable meanwhile.
    atomic = False

    dependencies = [
        ("hours", "0008_declaration_school_district"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(condition=SCHOOL_QUEUED, fields=["school", "submitted_at", "id"], name="declaration_school_queue"),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=SCHOOL_QUEUED, fields=["school", "year", "submitted_at", "id"], name="declaration_school_year"
            ),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=DISTRICT_QUEUED, fields=["district", "submitted_at", "id"], name="declaration_district_queue"
            ),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=DISTRICT_QUEUED, fields=["district", "year", "submitted_at", "id"], name="declaration_district_year"
            ),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=DISTRICT_QUEUED,
                fields=["district", "category", "submitted_at", "id"],
                name="declaration_district_category",
            ),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=DISTRICT_QUEUED,
                fields=["district", "activity_type", "submitted_at", "id"],
                name="declaration_district_activity",
            ),
        ),
        AddIndexConcurrently(
            model_name="declaration",
            index=models.Index(
                condition=models.Q(("state", "school_approved"), models.Q(("duplicate_flags", []), _negated=True)),
                fields=["district", "submitted_at", "id"],
                name="declaration_district_dups",
            ),
        ),
        RemoveIndexConcurrently(model_name="declaration", name="declaration_queue_order"),
        RemoveIndexConcurrently(model_name="declaration", name="declaration_queue_category"),
        RemoveIndexConcurrently(model_name="declaration", name="declaration_queue_activity"),
        RemoveIndexConcurrently(model_name="declaration", name="declaration_queue_duplicates"),
    ]

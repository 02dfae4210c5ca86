"""What an operator compares after a restore: teachers, ledger sums, results, evidence files.

Run against any database: `DATABASE_URL=... python -c "import django; django.setup(); from tests.ops.backup_figures
import main; main()"` prints them as JSON.
"""

from __future__ import annotations

import json

from django.db.models import Count, Sum


def figures() -> dict:
    from accounts.models import Teacher
    from hours.models import Evidence, LedgerEntry
    from verification.models import VerificationResult

    teachers = list(Teacher.objects.order_by("pk").values_list("pk", "id_number", "name", "school_id"))
    ledger = list(
        LedgerEntry.objects.values("teacher_id", "year", "category")
        .annotate(hours=Sum("hours"), n=Count("pk"))
        .order_by("teacher_id", "year", "category")
        .values_list("teacher_id", "year", "category", "hours", "n")
    )
    results = list(
        VerificationResult.objects.order_by("teacher_id", "year").values_list(
            "teacher_id", "year", "status", "total", "professional", "carry_in"
        )
    )
    evidence = list(Evidence.objects.order_by("pk").values_list("pk", "file", "sha256"))
    return json.loads(json.dumps({"teachers": teachers, "ledger": ledger, "results": results, "evidence": evidence}, default=str))


def main() -> None:
    print(json.dumps(figures()))

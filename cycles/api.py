"""REST API of the five-year cycle regime (mounted under /api/v1/ in a cycle deployment only): the
teacher's own cycle and progress, the certificates (issue, download), cycle statistics for admins.
Scope as everywhere: a teacher sees only their own; an admin sees the schools of their organisation."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.api import ROLE_HEADER, require_role
from accounts.models import RoleKind, Teacher
from accounts.selectors import AREA_ROLES, SCHOOL_ROLES

from . import rules
from .models import CycleCertificate


def _teacher(request) -> Teacher:
    role = require_role(request, RoleKind.TEACHER)
    teacher = Teacher.objects.select_related("school").filter(user_id=role.user_id).first()
    if teacher is None:
        raise Http404
    return teacher


class CertificateSerializer(serializers.ModelSerializer):
    cycle_start = serializers.DateField(source="cycle.start_date", read_only=True)
    cycle_end = serializers.DateField(source="cycle.end_date", read_only=True)

    class Meta:
        model = CycleCertificate
        fields = [
            "code",
            "issued_on",
            "valid_until",
            "cycle_start",
            "cycle_end",
            "total_hours",
            "school_based_hours",
            "exempt_by_degree",
        ]


class NewTeacherSerializer(serializers.Serializer):
    required_hours = serializers.DecimalField(max_digits=6, decimal_places=1)
    hours = serializers.DecimalField(max_digits=6, decimal_places=1)
    deadline = serializers.DateField()


class CycleProgressSerializer(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    total_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    required_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    school_based_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    required_school_based_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    missing_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    missing_school_based_hours = serializers.DecimalField(max_digits=7, decimal_places=1)
    expected_by_now = serializers.DecimalField(max_digits=7, decimal_places=1)
    behind_pace = serializers.BooleanField()
    complete = serializers.BooleanField()
    exempt_by_degree = serializers.BooleanField()
    new_teacher = NewTeacherSerializer(allow_null=True, help_text="Only while the new-teacher requirement applies.")
    certificates = CertificateSerializer(many=True)


@extend_schema(parameters=[ROLE_HEADER], responses=CycleProgressSerializer)
@api_view(["GET"])
def my_cycle(request):
    """The teacher's current five-year cycle and its progress (a read: nothing is stored)."""
    teacher = _teacher(request)
    p = rules.progress(teacher)
    data = {
        "start_date": p.cycle.start_date,
        "end_date": p.cycle.end_date,
        "total_hours": p.total,
        "required_hours": p.policy.total_hours,
        "school_based_hours": p.school_based,
        "required_school_based_hours": p.policy.min_school_based,
        "missing_hours": p.missing_total,
        "missing_school_based_hours": p.missing_school_based,
        "expected_by_now": p.expected_by_now,
        "behind_pace": p.behind_pace,
        "complete": p.complete,
        "exempt_by_degree": p.degree is not None,
        "new_teacher": (
            {"required_hours": p.policy.new_teacher_hours, "hours": p.new_teacher_hours, "deadline": p.new_teacher_deadline}
            if p.is_new_teacher and not p.complete
            else None
        ),
        "certificates": CycleCertificate.objects.filter(teacher=teacher).select_related("cycle"),
    }
    return Response(CycleProgressSerializer(data).data)


@extend_schema(parameters=[ROLE_HEADER], request=None, responses={201: CertificateSerializer, 200: CertificateSerializer})
@api_view(["POST"])
def certificate_issue(request):
    """Issue the certificate of the teacher's completed cycle (409 while incomplete; asking again returns it)."""
    teacher = _teacher(request)
    before = CycleCertificate.objects.filter(teacher=teacher).count()
    cert = rules.certificate_issue(role=require_role(request), actor=request.user, teacher=teacher)
    created = CycleCertificate.objects.filter(teacher=teacher).count() > before
    return Response(CertificateSerializer(cert).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema(parameters=[ROLE_HEADER], responses={(200, "application/pdf"): OpenApiTypes.BINARY})
@api_view(["GET"])
def certificate_pdf(request, code: str):
    """The teacher's own certificate as PDF; another teacher's code is 404."""
    teacher = _teacher(request)
    cert = (
        CycleCertificate.objects.select_related("teacher", "teacher__school", "cycle").filter(teacher=teacher, code=code).first()
    )
    if cert is None:
        raise Http404
    response = HttpResponse(rules.certificate_pdf(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{cert.code}.pdf"'
    return response


class CycleStatRowSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_id = serializers.IntegerField()
    teachers = serializers.IntegerField()
    with_cycle = serializers.IntegerField()
    complete = serializers.IntegerField()
    behind = serializers.IntegerField()
    certified_this_year = serializers.IntegerField()


@extend_schema(
    parameters=[ROLE_HEADER],
    responses=inline_serializer(
        "CycleStatistics",
        {
            "rows": CycleStatRowSerializer(many=True),
            "computed_at": serializers.DateTimeField(
                allow_null=True, help_text="When the stored per-school counts were computed (hourly); null: computed now."
            ),
        },
    ),
)
@api_view(["GET"])
def cycle_statistics(request):
    """Per school in the caller's scope: teachers, cycles complete, behind pace, certified this year (a
    district's and the city's from the per-school counts stored hourly: `computed_at` says when)."""
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    stats = rules.cycle_statistics(role)
    # CycleStatRowSerializer's fields, built as it would give them (a city's 2,000 rows through DRF's fields
    # were 300,000 Python calls)
    rows = [
        {"unit": str(r["unit"].name), "unit_id": int(r["unit"].pk), **{k: int(r[k]) for k in rules.STAT_FIELDS}} for r in stats
    ]
    computed_at = rules.cycle_statistics_computed_at(stats)
    return Response(
        {
            "rows": rows,
            "computed_at": serializers.DateTimeField().to_representation(computed_at) if computed_at else None,
        }
    )

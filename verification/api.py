"""REST API for annual verification (/api/v1/): policies, runs, results, exemptions, notices,
complaints, confirmations, statistics and exports."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from accounts.api import ROLE_HEADER, api_role, require_role
from accounts.models import Organisation, RoleKind
from accounts.selectors import AREA_ROLES, SCHOOL_ROLES, teachers_visible_to
from cpd.api import query_int
from cpd.bad_input import is_int_text
from cpd.pagination import KeysetPagination
from hours.api import LedgerEntrySerializer
from hours.models import Category

from . import exports, selectors, services
from .models import (
    ComplaintCorrection,
    ExportJob,
    ExportStatus,
    Notice,
    PolicyRevision,
    ResultComplaint,
    ResultStatus,
    RunStatus,
    VerificationResult,
    VerificationRun,
    YearPolicy,
)

YEAR_PARAM = OpenApiParameter("year", int)


class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = YearPolicy
        fields = ["year", *services.POLICY_FIELDS, "finalised_at"]
        read_only_fields = ["year", "finalised_at"]


class PolicyUpdateSerializer(serializers.ModelSerializer):
    declaration_deadline = serializers.DateField(required=False)
    school_review_deadline = serializers.DateField(required=False)
    district_review_deadline = serializers.DateField(required=False)

    class Meta:
        model = YearPolicy
        fields = [*services.POLICY_FIELDS, *services.DEADLINE_FIELDS]


class RevisionSerializer(serializers.ModelSerializer):
    actor: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = PolicyRevision
        fields = ["actor", "changes", "created_at"]


@extend_schema(parameters=[ROLE_HEADER])
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Year policies (minimums, carry-over rule, deadlines); the city admin edits them."""

    serializer_class = PolicySerializer
    queryset = YearPolicy.objects.all()
    lookup_field = "year"
    lookup_value_regex = r"\d{4}"

    @extend_schema(request=PolicyUpdateSerializer, responses=PolicySerializer)
    def partial_update(self, request, year=None):
        data = PolicyUpdateSerializer(self.get_object(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = services.policy_update(role=require_role(request), actor=request.user, year=int(year), data=data.validated_data)
        return Response(PolicySerializer(policy).data)

    @extend_schema(request=inline_serializer("NewYear", {"year": serializers.IntegerField()}), responses={201: PolicySerializer})
    def create(self, request):
        year = serializers.IntegerField(min_value=2000, max_value=2100).run_validation(request.data.get("year"))
        policy = services.policy_create_next(role=require_role(request), actor=request.user, year=year)
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a plain list, as the schema now says
    def revisions(self, request, year=None):
        return Response(RevisionSerializer(self.get_object().revisions.select_related("actor"), many=True).data)


class RunSerializer(serializers.ModelSerializer):
    done = serializers.SerializerMethodField()

    class Meta:
        model = VerificationRun
        fields = ["id", "year", "district", "status", "provisional", "total", "done", "counts", "started_at", "finished_at"]
        read_only_fields = fields

    def get_done(self, obj) -> int:
        return services.run_progress(obj) if obj.status == RunStatus.RUNNING else obj.total


class RunStartSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    district = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), required=False, allow_null=True)
    provisional = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: a provisional (trial) run, only before the year's last review deadline; false: the final run, "
        "refused (409) before that deadline; omitted or null: whichever the date allows.",
    )


@extend_schema(parameters=[ROLE_HEADER])
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Verification runs; the city admin starts one (a second start while one runs → 409)."""

    serializer_class = RunSerializer

    def get_queryset(self):
        role = api_role(self.request)
        if role is None or role.kind != RoleKind.CITY_ADMIN:
            return VerificationRun.objects.none()
        return VerificationRun.objects.all()

    @extend_schema(request=RunStartSerializer, responses={201: RunSerializer})
    def create(self, request):
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_start(role=require_role(request), actor=request.user, **data.validated_data)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class ResultSerializer(serializers.ModelSerializer):
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)
    appraisal_note = serializers.SerializerMethodField()

    class Meta:
        model = VerificationResult
        fields = [
            "id",
            "teacher",
            "teacher_name",
            "school",
            "school_name",
            "year",
            "public",
            "professional_own",
            "carry_in",
            "professional",
            "elective",
            "total",
            "status",
            "short_public",
            "short_professional",
            "short_elective",
            "short_total",
            "carry_out",
            "computed_at",
            "appraisal_note",
        ]
        read_only_fields = fields

    def get_appraisal_note(self, obj) -> str:
        return "验证不合格的年度，年度考核不能评为“优秀”。" if obj.status == ResultStatus.FAILED else ""


@extend_schema(parameters=[ROLE_HEADER, YEAR_PARAM, OpenApiParameter("status", str), OpenApiParameter("school", int)])
class ResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Results in scope (a teacher: their own)."""

    serializer_class = ResultSerializer
    pagination_class = KeysetPagination

    def get_queryset(self):
        # Not the run (the answer does not show it): its outer join made the planner sort a deep page's
        # whole remainder instead of reading 51 rows of the (year, school, teacher) index.
        qs = selectors.results_visible_to(api_role(self.request)).select_related(None).select_related("teacher", "school")
        p = self.request.query_params
        if is_int_text(p.get("year", "")):
            # One year: keyset on (school, teacher) under `year = Y`, the same (year, school, teacher) index.
            # With the year in the row comparison the planner started the scan at the year's first row
            # (29 ms for a deep page at 1,500,000 teachers, 3 ms this way). The year comes last, where the filter
            # fixes it, so that (teacher, year), a unique pair, ends the order and no pk is added.
            qs = qs.filter(year=int(p["year"])).order_by("school_id", "teacher_id", "year")
        else:
            qs = qs.order_by("year", "school_id", "teacher_id")
        if p.get("status"):
            qs = qs.filter(status=p["status"])
        if is_int_text(p.get("school", "")):
            qs = qs.filter(school_id=int(p["school"]))
        return qs


class ExemptionSerializer(serializers.Serializer):
    teacher = serializers.IntegerField()
    year = serializers.IntegerField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    remove = serializers.BooleanField(required=False, default=False)


@extend_schema(
    request=ExemptionSerializer,
    responses={200: inline_serializer("ExemptionDone", {"exempt": serializers.BooleanField()})},
    parameters=[ROLE_HEADER],
)
@api_view(["POST"])
def exemption(request):
    """Mark a teacher exempt for a year (city or district admin), or remove the exemption."""
    role = require_role(request)
    data = ExemptionSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    teacher = teachers_visible_to(role).filter(pk=v["teacher"]).first() if role.kind != RoleKind.TEACHER else None
    if teacher is None:
        raise Http404
    if v["remove"]:
        services.exemption_remove(role=role, teacher=teacher, year=v["year"])
        return Response({"exempt": False})
    services.exemption_set(role=role, actor=request.user, teacher=teacher, year=v["year"], reason=v.get("reason", ""))
    return Response({"exempt": True})


class NoticeSerializer(serializers.ModelSerializer):
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notice
        fields = ["id", "school", "year", "published_at", "ends_at", "is_open"]
        read_only_fields = fields


@extend_schema(parameters=[ROLE_HEADER])
class NoticeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Schools' public notices; a school publishes its notice for 7 days."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = NoticeSerializer

    def get_queryset(self):
        return selectors.notices_visible_to(api_role(self.request))

    @extend_schema(
        request=inline_serializer("PublishNotice", {"year": serializers.IntegerField()}), responses={201: NoticeSerializer}
    )
    def create(self, request):
        year = serializers.IntegerField().run_validation(request.data.get("year"))
        n = services.notice_publish(role=require_role(request), actor=request.user, year=year)
        return Response(NoticeSerializer(n).data, status=status.HTTP_201_CREATED)


class ResultComplaintSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="result.year", read_only=True)

    class Meta:
        model = ResultComplaint
        fields = ["id", "year", "field", "message", "state", "resolution", "created_at", "resolved_at"]
        read_only_fields = ["id", "state", "resolution", "created_at", "resolved_at"]


class ResultComplaintCreateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField(max_length=1000)


class ResultComplaintResolveSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    resolution = serializers.CharField(max_length=1000)


class ComplaintCorrectionCreateSerializer(serializers.Serializer):
    """Either `revokes` (an entry of the complaint's teacher and year) or `category` + `hours` (+ `title`)
    for hours that were missed; `reason` always."""

    reason = serializers.CharField(max_length=500)
    revokes = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_null=True)
    hours = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        required=False,
        allow_null=True,
        min_value=Decimal("0.1"),
        max_value=services.MAX_CORRECTION_HOURS,
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ComplaintCorrectionSerializer(serializers.ModelSerializer):
    entry = LedgerEntrySerializer(read_only=True)
    # The hours the revoked entry had (null when hours were added).
    revoked_hours = serializers.DecimalField(
        source="entry.revokes.hours", max_digits=6, decimal_places=1, read_only=True, allow_null=True
    )

    class Meta:
        model = ComplaintCorrection
        fields = ["id", "complaint", "entry", "revoked_hours", "created_at"]


@extend_schema(parameters=[ROLE_HEADER])
class ResultComplaintViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Complaints about published results: teachers file, the district resolves."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = ResultComplaintSerializer

    def get_queryset(self):
        return selectors.complaints_visible_to(api_role(self.request))

    @extend_schema(request=ResultComplaintCreateSerializer, responses={201: ResultComplaintSerializer})
    def create(self, request):
        data = ResultComplaintCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        c = services.complaint_file(role=require_role(request), actor=request.user, **data.validated_data)
        return Response(ResultComplaintSerializer(c).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResultComplaintResolveSerializer, responses=ResultComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = ResultComplaintResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        c = services.complaint_resolve(
            role=require_role(request), actor=request.user, complaint=self.get_object(), **data.validated_data
        )
        return Response(ResultComplaintSerializer(c).data)

    @extend_schema(methods=["GET"], responses=ComplaintCorrectionSerializer(many=True))
    @extend_schema(methods=["POST"], request=ComplaintCorrectionCreateSerializer, responses={201: ComplaintCorrectionSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def corrections(self, request, pk=None):
        """The corrections of the teacher's hours made while resolving this complaint (GET); a new one (POST):
        revoke an entry of the complaint's teacher and year, or add missed hours, always with a reason. For
        the district handling the complaint (open or upheld, the school not yet confirmed, the year not
        finalised) and the city admin."""
        complaint = self.get_object()
        if request.method == "GET":
            rows = complaint.corrections.select_related("entry__teacher", "entry__revokes")
            return Response(ComplaintCorrectionSerializer(rows, many=True).data)
        data = ComplaintCorrectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.complaint_correct(
            role=require_role(request), actor=request.user, complaint=complaint, **data.validated_data
        )
        return Response(ComplaintCorrectionSerializer(link).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=inline_serializer("ConfirmYear", {"year": serializers.IntegerField()}),
    responses=inline_serializer("Confirmed", {"year": serializers.IntegerField(), "level": serializers.CharField()}),
    parameters=[ROLE_HEADER],
)
@api_view(["POST"])
def confirm(request):
    """The principal confirms the school, the district its schools, the city finalises the year."""
    role = require_role(request)
    year = serializers.IntegerField().run_validation(request.data.get("year"))
    if role.kind == RoleKind.PRINCIPAL:
        services.school_confirm(role=role, actor=request.user, year=year)
        level = "school"
    elif role.kind == RoleKind.DISTRICT_ADMIN:
        services.district_confirm(role=role, actor=request.user, year=year)
        level = "district"
    elif role.kind == RoleKind.CITY_ADMIN:
        services.year_finalise(role=role, actor=request.user, year=year)
        level = "city"
    else:
        raise PermissionDenied(_("只有校长、区管理员和市里可以确认结果。"))
    return Response({"year": year, "level": level})


class StatRowSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_id = serializers.IntegerField()
    teachers = serializers.IntegerField()
    verified = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    exempt = serializers.IntegerField()
    pass_rate = serializers.FloatField(allow_null=True)
    public = serializers.DecimalField(max_digits=14, decimal_places=1)
    professional = serializers.DecimalField(max_digits=14, decimal_places=1)
    elective = serializers.DecimalField(max_digits=14, decimal_places=1)


@extend_schema(
    parameters=[ROLE_HEADER, YEAR_PARAM],
    responses=inline_serializer(
        "Statistics",
        {
            "year": serializers.IntegerField(),
            "rows": StatRowSerializer(many=True),
            "trend": serializers.ListField(child=serializers.DictField()),
        },
    ),
)
@api_view(["GET"])
def statistics(request):
    """Teachers, verified, passed, pass rate and hours per category, per unit for a year, and the trend over years."""
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    year = query_int(request, "year", min_value=1900, max_value=9999)
    if year is None:
        from django.utils import timezone

        year = timezone.localdate().year - 1
    rows = [
        {
            **{
                k: r.get(k) or 0
                for k in ("teachers", "verified", "passed", "failed", "exempt", "public", "professional", "elective")
            },
            "unit": r["unit"].name,
            "unit_id": r["unit"].pk,
            "pass_rate": r["pass_rate"],
        }
        for r in selectors.statistics_by_unit(role, year)
    ]
    trend = [
        {"year": r["year"], "verified": r["verified"], "passed": r["passed"], "pass_rate": r["pass_rate"]}
        for r in selectors.statistics_trend(role)
    ]
    return Response({"year": year, "rows": StatRowSerializer(rows, many=True).data, "trend": trend})


class ExportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportJob
        fields = ["id", "kind", "params", "status", "filename", "error", "created_at", "finished_at"]
        read_only_fields = fields


@extend_schema(parameters=[ROLE_HEADER])
class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exports built by a task: statistics, results, provincial (xlsx/csv). Download when ready."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = ExportSerializer

    def get_queryset(self):
        return exports.exports_visible_to(api_role(self.request))

    @extend_schema(
        request=inline_serializer(
            "ExportRequest",
            {"kind": serializers.ChoiceField(choices=sorted(exports.EXPORT_KINDS)), "year": serializers.IntegerField()},
        ),
        responses={201: ExportSerializer},
    )
    def create(self, request):
        kind = serializers.ChoiceField(choices=sorted(exports.EXPORT_KINDS)).run_validation(request.data.get("kind"))
        year = serializers.IntegerField(min_value=2000, max_value=2100).run_validation(request.data.get("year"))
        job = exports.export_request(role=require_role(request), actor=request.user, kind=kind, year=year)
        return Response(ExportSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != ExportStatus.READY:
            from cpd.errors import StateConflict

            raise StateConflict("该导出尚未生成。")
        content_type = exports.content_type_of(job.filename)
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)

"""REST API for training projects, enrolment, registration, imports, extensions, complaints,
the course catalogue and the online learning platform's completion callback."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.api import ROLE_HEADER, api_role, require_role
from accounts.models import RoleKind
from cpd.api import ObjectJSONParser
from cpd.bad_input import is_int_text
from cpd.pagination import KeysetPagination
from cpd.platform import PlatformKeyAuthentication

from . import imports, projects
from .models import (
    Enrolment,
    HoursImport,
    HoursImportKind,
    OnlineCourse,
    RegistrationComplaint,
    RegistrationExtension,
    TrainingProject,
)
from .views import APPROVE_ACTION


class QuotaSerializer(serializers.Serializer):
    district = serializers.IntegerField()
    quota = serializers.IntegerField(min_value=0)


class ProjectSerializer(serializers.ModelSerializer):
    organiser_name = serializers.CharField(source="organiser.name", read_only=True)
    registration_deadline = serializers.SerializerMethodField()
    quotas = serializers.SerializerMethodField()

    class Meta:
        model = TrainingProject
        fields = [
            "id",
            "organiser",
            "organiser_name",
            *projects.PROJECT_FIELDS,
            "published_at",
            "registration_deadline",
            "quotas",
        ]
        read_only_fields = fields

    def get_registration_deadline(self, obj) -> str:
        return obj.registration_deadline().isoformat()

    def get_quotas(self, obj) -> list[dict]:
        usage = self.context.get("quota_usage")  # a list's page: computed once for all its projects
        return [
            {
                "district": u["district"].pk,
                "district_name": u["district"].name,
                "quota": u["quota"],
                "live": u["live"],
                "final": u["final"],
            }
            for u in (usage[obj.pk] if usage is not None and obj.pk in usage else projects.quota_usage(obj))
        ]


class ProjectInputSerializer(serializers.ModelSerializer):
    quotas = QuotaSerializer(many=True, required=False)

    class Meta:
        model = TrainingProject
        fields = [*projects.PROJECT_FIELDS, "quotas"]


class RegisterRowSerializer(serializers.Serializer):
    teacher = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=1)


class RegisterSerializer(serializers.Serializer):
    rows = RegisterRowSerializer(many=True, min_length=1, max_length=5000)  # type: ignore[call-arg]  # ListSerializer takes them; the stubs lack them
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ExtensionRequestSerializer(serializers.Serializer):
    requested_until = serializers.DateField()
    reason = serializers.CharField(max_length=1000)


@extend_schema(parameters=[ROLE_HEADER])
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Published projects of the city (the organiser also sees its drafts)."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = ProjectSerializer

    def get_queryset(self):
        qs = projects.projects_visible_to(api_role(self.request)).prefetch_related("extensions").order_by("-start_date", "-pk")
        if self.request.query_params.get("mine") == "1":
            qs = qs.filter(organiser=api_role(self.request).organisation)
        return qs

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "quota_usage": projects.quota_usage_many(page)}
        return self.get_paginated_response(ProjectSerializer(page, many=True, context=context).data)

    def _save(self, request, project=None):
        role = require_role(request)
        data = ProjectInputSerializer(instance=project, data=request.data, partial=project is not None)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        quotas = v.pop("quotas", None)
        quota_map = {q["district"]: q["quota"] for q in quotas} if quotas is not None else None
        return projects.project_save(role=role, actor=request.user, data=v, quotas=quota_map, project=project)

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectSerializer})
    def create(self, request):
        return Response(ProjectSerializer(self._save(request)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectInputSerializer, responses=ProjectSerializer)
    def partial_update(self, request, pk=None):
        return Response(ProjectSerializer(self._save(request, self.get_object())).data)

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return Response(ProjectSerializer(projects.project_publish(role=require_role(request), project=self.get_object())).data)

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer("EnrolmentCreated", {"id": serializers.IntegerField(), "state": serializers.CharField()})
        },
    )
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        enrolment = projects.enrolment_apply(role=require_role(request), actor=request.user, project=self.get_object())
        return Response({"id": enrolment.pk, "state": enrolment.state}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RegisterSerializer,
        responses=inline_serializer(
            "Registered", {"registered": serializers.IntegerField(), "unchanged": serializers.IntegerField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        """Register attendees' hours (organiser only); re-registering a teacher adds nothing."""
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [(r["teacher"], r["hours"]) for r in data.validated_data["rows"]]
        result = projects.registration_register(
            role=require_role(request),
            actor=request.user,
            project=self.get_object(),
            rows=rows,
            note=data.validated_data.get("note", ""),
        )
        return Response(result)

    @extend_schema(
        request=ExtensionRequestSerializer,
        responses={201: inline_serializer("ExtensionCreated", {"id": serializers.IntegerField()})},
    )
    @action(detail=True, methods=["post"])
    def extension(self, request, pk=None):
        data = ExtensionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ext = projects.extension_request(
            role=require_role(request), actor=request.user, project=self.get_object(), **data.validated_data
        )
        return Response({"id": ext.pk}, status=status.HTTP_201_CREATED)


class EnrolmentSerializer(serializers.ModelSerializer):
    project_title = serializers.CharField(source="project.title", read_only=True)
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "project", "project_title", "teacher", "teacher_name", "district", "state", "reason", "created_at"]
        read_only_fields = fields


class EnrolmentReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


@extend_schema(parameters=[ROLE_HEADER, OpenApiParameter("state", str), OpenApiParameter("project", int)])
class EnrolmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Enrolments in scope; the principal, the district and the city approve in turn."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = EnrolmentSerializer

    def get_queryset(self):
        qs = projects.enrolments_visible_to(api_role(self.request)).order_by("pk")
        p = self.request.query_params
        if p.get("state"):
            qs = qs.filter(state=p["state"])
        if is_int_text(p.get("project", "")):
            qs = qs.filter(project_id=int(p["project"]))
        return qs

    def _act(self, request, pk, action_name, reason=""):
        role = require_role(request)
        self.get_object()
        enrolment = projects.enrolment_transition(
            enrolment_id=int(pk), action=action_name, role=role, actor=request.user, reason=reason
        )
        return Response(EnrolmentSerializer(enrolment).data)

    @extend_schema(request=None, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        role = require_role(request)
        if role.kind not in APPROVE_ACTION:
            raise PermissionDenied(_("只有校长、区管理员和市里可以审核报名。"))
        return self._act(request, pk, APPROVE_ACTION[role.kind])

    @extend_schema(request=EnrolmentReasonSerializer, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = EnrolmentReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(request, pk, "reject", data.validated_data["reason"])

    @extend_schema(request=None, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._act(request, pk, "withdraw")


class HoursImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = HoursImport
        fields = [
            "id",
            "kind",
            "project",
            "original_name",
            "status",
            "total_rows",
            "new_rows",
            "unchanged_rows",
            "processed_rows",
            "imported_count",
            "errors",
            "created_at",
            "imported_at",
        ]
        read_only_fields = fields


class HoursImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=HoursImportKind.choices)
    project = serializers.PrimaryKeyRelatedField(queryset=TrainingProject.objects.all(), required=False, allow_null=True)
    file = serializers.FileField()


@extend_schema(parameters=[ROLE_HEADER])
class HoursImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Attendance registration and provincial public-subject imports: dry run, then confirm."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = HoursImportSerializer
    parser_classes = [MultiPartParser, FormParser, ObjectJSONParser]

    def get_queryset(self):
        return imports.imports_visible_to(api_role(self.request))

    @extend_schema(request={"multipart/form-data": HoursImportUploadSerializer}, responses={201: HoursImportSerializer})
    def create(self, request):
        data = HoursImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record = imports.hours_import_upload(
            role=require_role(request), actor=request.user, uploaded=v["file"], kind=v["kind"], project=v.get("project")
        )
        return Response(HoursImportSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=HoursImportSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        record = imports.hours_import_confirm(role=require_role(request), actor=request.user, record=self.get_object())
        return Response(HoursImportSerializer(record).data)


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegistrationExtension
        fields = [
            "id",
            "project",
            "requested_until",
            "reason",
            "state",
            "granted_until",
            "decision_note",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class ExtensionDecisionSerializer(serializers.Serializer):
    grant = serializers.BooleanField()
    granted_until = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema(parameters=[ROLE_HEADER])
class ExtensionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)
    serializer_class = ExtensionSerializer

    def get_queryset(self):
        role = api_role(self.request)
        if role is None:
            return RegistrationExtension.objects.none()
        if role.kind == RoleKind.CITY_ADMIN:
            return RegistrationExtension.objects.filter(project__organiser__path__startswith=role.organisation.path)
        return RegistrationExtension.objects.filter(project__in=projects.projects_managed_by(role))

    @extend_schema(request=ExtensionDecisionSerializer, responses=ExtensionSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        data = ExtensionDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        ext = projects.extension_decide(
            role=require_role(request),
            actor=request.user,
            extension=self.get_object(),
            grant=v["grant"],
            granted_until=v.get("granted_until"),
            note=v.get("note", ""),
        )
        return Response(ExtensionSerializer(ext).data)


class RegistrationComplaintSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegistrationComplaint
        fields = ["id", "entry", "teacher", "message", "state", "response", "created_at", "resolved_at"]
        read_only_fields = ["id", "teacher", "state", "response", "created_at", "resolved_at"]


class RegistrationComplaintResolveSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    response = serializers.CharField(max_length=1000)


@extend_schema(parameters=[ROLE_HEADER])
class ComplaintViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A teacher's objections to registrations; the organiser resolves them."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = RegistrationComplaintSerializer

    def get_queryset(self):
        role = api_role(self.request)
        if role is not None and role.kind == RoleKind.TEACHER:
            return RegistrationComplaint.objects.filter(teacher__user_id=role.user_id)
        return projects.complaints_for_organiser(role)

    def create(self, request):
        role = require_role(request)
        data = RegistrationComplaintSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        from hours.models import LedgerEntry

        entry = LedgerEntry.objects.filter(pk=data.validated_data["entry"].pk, teacher__user_id=role.user_id).first()
        if entry is None:
            raise exceptions.NotFound()
        complaint = projects.complaint_file(role=role, actor=request.user, entry=entry, message=data.validated_data["message"])
        return Response(RegistrationComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RegistrationComplaintResolveSerializer, responses=RegistrationComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = RegistrationComplaintResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        c = projects.complaint_resolve(
            role=require_role(request), actor=request.user, complaint=self.get_object(), **data.validated_data
        )
        return Response(RegistrationComplaintSerializer(c).data)


class CourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = OnlineCourse
        fields = ["id", "code", "title", "category", "hours", "provider", "is_active"]


class CourseViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The online-course catalogue; the city admin maintains it."""

    serializer_class = CourseSerializer
    queryset = OnlineCourse.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        self._require_city()
        serializer.save()

    def perform_update(self, serializer):
        self._require_city()
        serializer.save()

    def _require_city(self):
        require_role(self.request, RoleKind.CITY_ADMIN)


# --- the online learning platform ---------------------------------------------------------------------


class CompletionSerializer(serializers.Serializer):
    completion_id = serializers.CharField(max_length=80)
    course_code = serializers.CharField(max_length=64)
    teacher = serializers.CharField(max_length=20, help_text="ID number or CPD number")
    completed_on = serializers.DateField()


@extend_schema(
    request=CompletionSerializer,
    responses={
        201: inline_serializer(
            "CompletionRecorded", {"ledger_entry": serializers.IntegerField(), "created": serializers.BooleanField()}
        )
    },
    summary="The online learning platform reports a course completion (idempotent by completion_id).",
)
@api_view(["POST"])
@authentication_classes([PlatformKeyAuthentication])
@permission_classes([AllowAny])
def platform_completion(request):
    client = request.auth
    if client is None:
        raise exceptions.NotAuthenticated("Send 'Authorization: Platform <key>'.")
    data = CompletionSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    entry, created = projects.completion_record(
        client=client,
        completion_id=v["completion_id"],
        course_code=v["course_code"],
        teacher_key=v["teacher"],
        completed_on=v["completed_on"],
    )
    return Response(
        {"ledger_entry": entry.pk, "created": created}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )

"""REST API for organisations, teachers and roster imports (/api/v1/).

The acting role is the session's role, or the one named by the `X-CPD-Role` header
(a role id of the caller's), or the caller's first role. Every queryset comes from
`accounts.selectors`; out-of-scope objects are 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cpd.api import ObjectJSONParser
from cpd.bad_input import is_int_text
from cpd.pagination import KeysetPagination
from security.models import AuditEventKind
from security.services import audit_record

from . import roster_import as importer
from . import selectors, services
from .idnumber import id_number_error, normalise_id_number
from .middleware import SESSION_ROLE_KEY
from .models import Organisation, Role, RosterImport, RosterImportStatus, Teacher, User

ROLE_HEADER = OpenApiParameter(
    "X-CPD-Role", OpenApiTypes.INT, OpenApiParameter.HEADER, required=False, description="Act in this role (a role id of yours)."
)


def api_role(request: Request) -> Role | None:
    """The caller's acting role, read once per request: a view asks for it several times (its queryset,
    `require_role`, the action), and each asking was a query of the caller's roles."""
    requested = request.headers.get("X-CPD-Role")
    if requested in (None, "") and hasattr(request, "session"):
        requested = request.session.get(SESSION_ROLE_KEY)
    http = getattr(request, "_request", request)  # the HttpRequest under DRF's Request: one per request
    key = (getattr(request.user, "pk", None), requested)
    cached = getattr(http, "_cpd_api_role", None)
    if cached is not None and cached[0] == key:
        return cast(Role | None, cached[1])
    role = selectors.resolve_role(request.user, requested)
    setattr(http, "_cpd_api_role", (key, role))  # noqa: B010 (an attribute of our own on the request)
    return role


def require_role(request: Request, *kinds: str) -> Role:
    """The caller's role, one of `kinds` if given (see accounts.permissions.require_role)."""
    from .permissions import require_role as require

    return require(request, *kinds)


# --- auth and me ----------------------------------------------------------------


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "code", "kind"]


class RoleSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer()

    class Meta:
        model = Role
        fields = ["id", "kind", "organisation"]


class TeacherSerializer(serializers.ModelSerializer):
    """Output shape of a teacher record; the ID number is masked except for the teacher themself."""

    school = OrganisationRefSerializer(read_only=True)
    id_number = serializers.SerializerMethodField()
    missing_required_fields = serializers.SerializerMethodField()

    class Meta:
        model = Teacher
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "school",
            "stage",
            "subject",
            "title",
            "post_type",
            "first_employment_date",
            "phone",
            "email",
            "cpd_number",
            "status",
            "status_changed_on",
            "missing_required_fields",
        ]

    def get_id_number(self, obj: Teacher) -> str:
        request = self.context.get("request")
        if request is not None and obj.user_id is not None and obj.user_id == request.user.pk:
            audit_record(event=AuditEventKind.ID_NUMBER_VIEW, request=request._request, obj=obj, details={"api": True})
            return obj.id_number
        return obj.masked_id_number

    def get_missing_required_fields(self, obj: Teacher) -> list[str]:
        return obj.missing_required_fields()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = RoleSerializer(many=True)
    active_role = RoleSerializer(allow_null=True)
    teacher = TeacherSerializer(allow_null=True)


class MeView(APIView):
    @extend_schema(responses=MeSerializer, parameters=[ROLE_HEADER])
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated
        teacher = Teacher.objects.filter(user=user).select_related("school").first()
        data = {
            "id": user.pk,
            "username": user.username,
            "name": user.name,
            "roles": selectors.roles_of(user),
            "active_role": api_role(request),
            "teacher": teacher,
        }
        return Response(MeSerializer(data, context={"request": request}).data)


# --- organisations --------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    teacher_count = serializers.SerializerMethodField(
        help_text="Active teachers in the organisation's subtree: exact, or for a large area the figure the daily "
        "statistics refresh stored (then teacher_count_is_estimate is true and teacher_count_as_of says when)."
    )
    teacher_count_is_estimate = serializers.SerializerMethodField()
    teacher_count_as_of = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "parent",
            "is_active",
            "teacher_count",
            "teacher_count_is_estimate",
            "teacher_count_as_of",
        ]
        read_only_fields = ["teacher_count", "teacher_count_is_estimate", "teacher_count_as_of"]

    def _count(self, obj: Organisation) -> selectors.TeacherCount:
        counts = self.context.get("counts")
        if counts is None or obj.pk not in counts:  # one organisation (created, edited): count it alone
            counts = {**(counts or {}), **selectors.teacher_counts_of([obj])}
            cast(dict[str, Any], self.context)["counts"] = counts
        return counts[obj.pk]

    def get_teacher_count(self, obj: Organisation) -> int:
        return self._count(obj).n

    def get_teacher_count_is_estimate(self, obj: Organisation) -> bool:
        return self._count(obj).estimated

    def get_teacher_count_as_of(self, obj: Organisation) -> str | None:
        at = self._count(obj).as_of
        return serializers.DateTimeField().to_representation(at) if at else None


class OrganisationWriteSerializer(serializers.ModelSerializer):
    # The API field is called `parent` like DRF's Field.parent attribute, hence the ignore.
    parent = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())  # type: ignore[assignment]

    class Meta:
        model = Organisation
        fields = ["name", "code", "kind", "parent", "is_active"]


@extend_schema(parameters=[ROLE_HEADER])
class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Organisations in the caller's scope with active-teacher counts; the city admin creates and edits."""

    serializer_class = OrganisationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = KeysetPagination

    def get_queryset(self):
        qs = selectors.organisations_visible_to(api_role(self.request)).order_by("path")
        kind = self.request.query_params.get("kind")
        return qs.filter(kind=kind) if kind else qs

    def get_serializer_class(self):
        return OrganisationWriteSerializer if self.action in ("create", "partial_update", "update") else OrganisationSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # Counted for the page only (three queries), not for every organisation in scope.
        context = {**self.get_serializer_context(), "counts": selectors.teacher_counts_of(page)}
        return self.get_paginated_response(OrganisationSerializer(page, many=True, context=context).data)

    @extend_schema(request=OrganisationWriteSerializer, responses={201: OrganisationSerializer})
    def create(self, request, *args, **kwargs):
        role = require_role(request)
        data = OrganisationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        org = services.organisation_create(role=role, name=v["name"], code=v["code"], kind=v["kind"], parent=v["parent"])
        return Response(OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationWriteSerializer, responses=OrganisationSerializer)
    def partial_update(self, request, *args, **kwargs):
        role = require_role(request)
        org = self.get_object()
        data = OrganisationWriteSerializer(org, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        org = services.organisation_update(role=role, organisation=org, data=data.validated_data)
        return Response(OrganisationSerializer(org).data)


# --- teachers ---------------------------------------------------------------------


class TeacherWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Teacher
        fields = list(services.ADMIN_EDITABLE_FIELDS)
        extra_kwargs: dict[str, dict[str, Any]] = {"id_number": {"validators": []}}

    def validate_id_number(self, value: str) -> str:
        value = normalise_id_number(value)
        error = id_number_error(value)
        if error:
            raise serializers.ValidationError(error)
        return value


class TeacherCreateSerializer(TeacherWriteSerializer):
    school = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), required=False)

    class Meta(TeacherWriteSerializer.Meta):
        fields = [*services.ADMIN_EDITABLE_FIELDS, "school"]
        extra_kwargs: dict[str, dict[str, Any]] = {"id_number": {"validators": []}, "name": {"required": True}}


class IdNumberSearchSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)


class TransferSerializer(serializers.Serializer):
    to_school = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), allow_null=True)
    effective_date = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class StatusChangeSerializer(serializers.Serializer):
    effective_date = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema(
    parameters=[
        ROLE_HEADER,
        OpenApiParameter("q", str, description="name or CPD number (ID numbers: POST find-by-id-number, never in a URL)"),
        OpenApiParameter("status", str),
        OpenApiParameter("stage", str),
        OpenApiParameter("subject", str),
        OpenApiParameter("school", int),
    ]
)
class TeacherViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Teacher records in the caller's scope. Writes go through `accounts.services`."""

    serializer_class = TeacherSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Keyset pages on (school, name, id), the roster's index: `?page=N` (the default pagination) counted the
    # whole scope exactly and read N pages to skip them.
    pagination_class = KeysetPagination

    def get_queryset(self):
        from django.db.models import Q

        qs = selectors.teachers_visible_to(api_role(self.request)).order_by("school_id", "name", "pk")
        params = self.request.query_params
        if params.get("q"):
            q = params["q"].strip()
            qs = qs.filter(selectors.name_contains(q) | Q(cpd_number=q))
        for key in ("status", "stage", "subject"):
            if params.get(key):
                qs = qs.filter(**{key: params[key]})
        if is_int_text(params.get("school", "")):
            qs = qs.filter(school_id=int(params["school"]))
        return qs

    @extend_schema(request=TeacherCreateSerializer, responses={201: TeacherSerializer})
    def create(self, request, *args, **kwargs):
        role = require_role(request)
        data = TeacherCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        school = fields.pop("school", None) or role.organisation
        teacher = services.teacher_create(role=role, school=school, data=fields, actor=request.user)
        return Response(TeacherSerializer(teacher, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TeacherWriteSerializer, responses=TeacherSerializer)
    def partial_update(self, request, *args, **kwargs):
        role = require_role(request)
        teacher = self.get_object()
        unknown = sorted(set(request.data) - set(services.ADMIN_EDITABLE_FIELDS))
        if unknown:
            return Response({name: ["您不能修改此项。"] for name in unknown}, status=status.HTTP_400_BAD_REQUEST)
        data = TeacherWriteSerializer(teacher, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        teacher = services.teacher_update(role=role, teacher=teacher, data=dict(data.validated_data), actor=request.user)
        return Response(TeacherSerializer(teacher, context={"request": request}).data)

    @extend_schema(request=IdNumberSearchSerializer, responses=TeacherSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="find-by-id-number", pagination_class=None)
    def find_by_id_number(self, request):
        """Teachers in scope with this ID number. The number goes in the body, never in a URL."""
        data = IdNumberSearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = normalise_id_number(data.validated_data["id_number"])
        qs = selectors.teachers_visible_to(api_role(request)).filter(id_number=number).select_related("school")
        return Response(TeacherSerializer(qs, many=True, context={"request": request}).data)

    @extend_schema(request=TransferSerializer, responses=TeacherSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        role = require_role(request)
        teacher = self.get_object()
        data = TransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teacher = services.teacher_transfer(role=role, teacher=teacher, actor=request.user, **data.validated_data)
        return Response(TeacherSerializer(teacher, context={"request": request}).data)

    @extend_schema(request=StatusChangeSerializer, responses=TeacherSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._status_change(request, services.teacher_retire)

    @extend_schema(request=StatusChangeSerializer, responses=TeacherSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        return self._status_change(request, services.teacher_leave)

    def _status_change(self, request, service):
        role = require_role(request)
        teacher = self.get_object()
        data = StatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teacher = service(role=role, teacher=teacher, actor=request.user, **data.validated_data)
        return Response(TeacherSerializer(teacher, context={"request": request}).data)


# --- roster imports ---------------------------------------------------------------


class RosterImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = RosterImport
        fields = [
            "id",
            "original_name",
            "status",
            "total_rows",
            "new_rows",
            "unchanged_rows",
            "errors",
            "imported_count",
            "created_at",
            "imported_at",
        ]


class RosterUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


@extend_schema(parameters=[ROLE_HEADER])
class RosterImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Upload a roster (dry run), read its problems, confirm it (atomic)."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = RosterImportSerializer
    parser_classes = [MultiPartParser, FormParser, ObjectJSONParser]

    def get_queryset(self):
        return selectors.roster_imports_visible_to(api_role(self.request))

    @extend_schema(
        request={"multipart/form-data": RosterUploadSerializer},
        responses={
            201: RosterImportSerializer,
            422: OpenApiResponse(
                RosterImportSerializer,
                description="The file was read and has errors (listed with their row and column); nothing can be "
                "imported from it. The record stays readable at its id.",
            ),
        },
    )
    def create(self, request):
        role = require_role(request)
        data = RosterUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = importer.roster_import_upload(role=role, actor=request.user, uploaded=data.validated_data["file"])
        # A file with errors is refused at once (not a 201 whose confirm answers 409 later).
        failed = record.status == RosterImportStatus.FAILED
        return Response(
            RosterImportSerializer(record).data,
            status=status.HTTP_422_UNPROCESSABLE_ENTITY if failed else status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=RosterImportSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        role = require_role(request)
        record = self.get_object()
        record = importer.roster_import_confirm(role=role, actor=request.user, roster_import=record)
        return Response(RosterImportSerializer(record).data)

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def template(self, request):
        response = HttpResponse(
            importer.build_template(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
        return response

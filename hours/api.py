"""REST API for the hours bank, declarations and their review (/api/v1/).

Wrong state -> 409, out of scope -> 404, bad input -> 400 with the field.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import selectors as account_selectors
from accounts.api import ROLE_HEADER, api_role, require_role
from accounts.models import RoleKind, Teacher
from cpd.api import CachedFields, ObjectJSONParser, PlainRows, query_int
from cpd.bad_input import is_int_text
from cpd.pagination import KeysetPagination

from . import ledger, selectors, services
from .models import Category, Declaration, DeclarationEvent, Evidence, EvidenceKind, LedgerEntry, Notification, Year


class LedgerEntrySerializer(PlainRows, serializers.ModelSerializer):
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "teacher",
            "teacher_name",
            "year",
            "category",
            "hours",
            "source",
            "title",
            "organiser",
            "start_date",
            "end_date",
            "certificate_number",
            "declaration",
            "revokes",
            "reason",
            "created_at",
        ]


class YearFiguresSerializer(serializers.Serializer):
    """What verification counts for one teacher and year (hours/ledger.py); `pending` is declared hours
    still under review, beside the figures, never in them."""

    teacher = serializers.IntegerField(source="teacher_id")
    year = serializers.IntegerField()
    public = serializers.DecimalField(max_digits=7, decimal_places=1)
    professional_own = serializers.DecimalField(max_digits=7, decimal_places=1)
    carry_in = serializers.DecimalField(max_digits=7, decimal_places=1)
    professional = serializers.DecimalField(max_digits=7, decimal_places=1)
    elective = serializers.DecimalField(max_digits=7, decimal_places=1)
    total = serializers.DecimalField(max_digits=7, decimal_places=1)
    pending = serializers.DictField(child=serializers.DecimalField(max_digits=7, decimal_places=1))


class CorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    revokes = serializers.PrimaryKeyRelatedField(queryset=LedgerEntry.objects.all(), required=False, allow_null=True)
    teacher = serializers.PrimaryKeyRelatedField(queryset=Teacher.objects.all(), required=False, allow_null=True)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    hours = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema(
    parameters=[ROLE_HEADER, OpenApiParameter("teacher", int), OpenApiParameter("year", int), OpenApiParameter("category", str)]
)
class LedgerViewSet(viewsets.ReadOnlyModelViewSet):
    """The hours bank in the caller's scope (a teacher: their own entries)."""

    serializer_class = LedgerEntrySerializer
    pagination_class = KeysetPagination

    def get_queryset(self):
        qs = selectors.ledger_visible_to(api_role(self.request)).order_by("year", "created_at", "pk")
        p = self.request.query_params
        if is_int_text(p.get("teacher", "")):
            # An id beyond the database's integer range matches no one (and must not be a 500).
            qs = qs.filter(teacher_id=int(p["teacher"])) if int(p["teacher"]) < 2**63 else qs.none()
        if is_int_text(p.get("year", "")):
            qs = qs.filter(year=int(p["year"]))
        if p.get("category"):
            qs = qs.filter(category=p["category"])
        return qs

    @extend_schema(
        parameters=[OpenApiParameter("teacher", int, required=False), OpenApiParameter("year", int, required=True)],
        responses={200: YearFiguresSerializer},
    )
    @action(detail=False, methods=["get"])
    def figures(self, request):
        """The counted hours of one teacher and year, as verification counts them (a teacher: their own;
        others name a teacher in their scope)."""
        role = require_role(request)
        p = request.query_params
        try:
            year = int(p.get("year", ""))
        except ValueError:
            raise serializers.ValidationError({"year": [_("请填写年度。")]})
        if not 2000 <= year <= 2100:
            raise serializers.ValidationError({"year": [_("年度须在%(first)s至%(last)s之间。") % {"first": 2000, "last": 2100}]})
        teachers = account_selectors.teachers_visible_to(role)
        # Not a whole number (or beyond an id's range): a 400 naming `teacher`, as for `year`.
        teacher_param = query_int(request, "teacher", min_value=1, max_value=2**63 - 1)
        if teacher_param is not None:
            teachers = teachers.filter(pk=teacher_param)
        elif role.kind != RoleKind.TEACHER:
            raise serializers.ValidationError({"teacher": [_("请指定教师。")]})
        teacher_id = teachers.values_list("pk", flat=True).first()
        if teacher_id is None:
            raise Http404
        figures = ledger.teacher_year_figures(teacher_id=teacher_id, year=year)
        pending = ledger.pending_hours(year=year, teacher_ids=[teacher_id])[teacher_id]
        data = {**{f: getattr(figures, f) for f in ("teacher_id", "year", "public", "professional_own", "carry_in", "elective")}}
        data.update(professional=figures.professional, total=figures.total, pending=pending)
        return Response(YearFiguresSerializer(data).data)

    @extend_schema(request=CorrectionSerializer, responses={201: LedgerEntrySerializer})
    @action(detail=False, methods=["post"])
    def corrections(self, request):
        """A city admin's correction: revoke an entry, or add missed hours; always with a reason."""
        role = require_role(request)
        data = CorrectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.ledger_correction(role=role, actor=request.user, **data.validated_data)
        return Response(LedgerEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class _EvidenceList(serializers.ListSerializer):
    """A declaration's evidence: the list `Prefetch(..., to_attr=LISTED_EVIDENCE)` left on it when there is one,
    else its related manager. Django's prefetch into the manager built a queryset per declaration (~130 Python
    calls a row of the list); into a plain list it builds none."""

    def get_attribute(self, instance):
        listed = instance.__dict__.get(LISTED_EVIDENCE)
        return listed if listed is not None else super().get_attribute(instance)


LISTED_EVIDENCE = "listed_evidence"


class EvidenceSerializer(CachedFields, PlainRows, serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "kind", "content_type", "size", "sha256", "uploaded_at", "url"]
        list_serializer_class = _EvidenceList

    def get_url(self, obj: Evidence) -> str:
        from django.urls import reverse

        return reverse("evidence_file", args=[obj.token])


class DeclarationEventSerializer(CachedFields, serializers.ModelSerializer):
    actor: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = DeclarationEvent
        fields = ["action", "from_state", "to_state", "actor", "actor_role", "actor_org", "reason", "created_at"]


class DeclarationSerializer(CachedFields, PlainRows, serializers.ModelSerializer):
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)
    school = serializers.CharField(source="teacher.school.name", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Declaration
        fields = [
            "id",
            "teacher",
            "teacher_name",
            "school",
            *services.DECLARATION_FIELDS,
            "state",
            "duplicate_flags",
            "last_reason",
            "submitted_at",
            "created_at",
            "updated_at",
            "evidence",
        ]
        read_only_fields = fields


class DeclarationDetailSerializer(DeclarationSerializer):
    events = DeclarationEventSerializer(many=True, read_only=True)

    class Meta(DeclarationSerializer.Meta):
        fields = [*DeclarationSerializer.Meta.fields, "events"]
        read_only_fields = fields


def _detail(decl: Declaration) -> dict:
    """A declaration as the API answers a write on it, from the row the write holds (read with its teacher and
    school): its evidence and its events with their actors are 2 queries however many there are, none for a
    new declaration (the write hands over what it wrote: `services._known_related`)."""
    prefetch_related_objects([decl], "evidence", Prefetch("events", DeclarationEvent.objects.select_related("actor")))
    return DeclarationDetailSerializer(decl).data


class ModelDefaultBooleanField(serializers.BooleanField):
    """A boolean that, when left out, takes the model's default, in JSON and in multipart/form data alike.

    DRF reads a boolean missing from form data as False (an unticked HTML checkbox sends nothing);
    an API client leaving out `certificate_in_chinese` means "the default", which the model says is true.
    """

    default_empty_html = serializers.empty


class DeclarationInputSerializer(CachedFields, serializers.ModelSerializer):
    """Fields a teacher sends; files go as multipart parts named certificate / translation / hours_statement."""

    certificate_in_chinese = ModelDefaultBooleanField(
        required=False,
        default=True,
        help_text="Whether the certificate is in Chinese; when false a translation stamped by the school is required. "
        "Default true (also when left out of multipart form data).",
    )
    certificate_states_hours = ModelDefaultBooleanField(
        required=False,
        default=True,
        help_text="Whether the certificate states the hours; when false a statement of hours stamped by the school is "
        "required. Default true (also when left out of multipart form data).",
    )

    submit = serializers.BooleanField(required=False, default=False, help_text="Submit right away instead of saving a draft.")
    certificate = serializers.ListField(child=serializers.FileField(), required=False)
    translation = serializers.ListField(child=serializers.FileField(), required=False)
    hours_statement = serializers.ListField(child=serializers.FileField(), required=False)
    remove_evidence = serializers.ListField(child=serializers.IntegerField(), required=False)

    class Meta:
        model = Declaration
        fields = [*services.DECLARATION_FIELDS, "submit", "certificate", "translation", "hours_statement", "remove_evidence"]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)


@extend_schema(
    parameters=[
        ROLE_HEADER,
        OpenApiParameter("state", str),
        OpenApiParameter("year", int),
        OpenApiParameter("queue", str, description="'mine': what waits for the caller's review level"),
    ]
)
class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Declarations in the caller's scope; teachers create and edit theirs, reviewers act on them."""

    parser_classes = [ObjectJSONParser, MultiPartParser, FormParser]
    pagination_class = KeysetPagination

    def get_queryset(self):
        role = api_role(self.request)
        p = self.request.query_params
        if p.get("queue") == "mine":
            level = selectors.review_level(role)
            qs = selectors.review_queue(role, level) if level else Declaration.objects.none()
        else:
            qs = selectors.declarations_visible_to(role).order_by("-updated_at", "-pk")
            if self.action in ("list", "retrieve"):
                # Only what is serialised from this queryset; an action (approve, submit…) uses it as the
                # scope check alone and answers with `_detail`.
                qs = qs.prefetch_related(Prefetch("evidence", to_attr=LISTED_EVIDENCE))
        if p.get("state"):
            qs = qs.filter(state=p["state"])
        if is_int_text(p.get("year", "")):
            qs = qs.filter(year=int(p["year"]))
        if self.action == "retrieve":
            qs = qs.prefetch_related("events__actor")
        return qs

    def get_serializer_class(self):
        return DeclarationDetailSerializer if self.action == "retrieve" else DeclarationSerializer

    def _save(self, request, declaration=None):
        role = require_role(request)
        data = DeclarationInputSerializer(instance=declaration, data=request.data, partial=declaration is not None)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        files = [(kind, f) for kind in EvidenceKind.values for f in v.pop(kind, [])]
        remove = v.pop("remove_evidence", [])
        submit = v.pop("submit", False)
        decl = services.declaration_save(
            role=role, actor=request.user, data=v, files=files, remove_evidence_ids=remove, declaration=declaration, submit=submit
        )
        return _detail(decl)

    @extend_schema(
        request={"multipart/form-data": DeclarationInputSerializer, "application/json": DeclarationInputSerializer},
        responses={201: DeclarationDetailSerializer},
    )
    def create(self, request):
        return Response(self._save(request), status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": DeclarationInputSerializer, "application/json": DeclarationInputSerializer},
        responses=DeclarationDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        declaration = self.get_object()
        return Response(self._save(request, declaration))

    def _transition(self, request, pk, action_name, reason=""):
        """The action through `services.declaration_transition`, whose scoped row lock is the scope check
        (404 out of scope): no look-up of the declaration before it."""
        role = require_role(request)
        if not is_int_text(str(pk)):
            raise Http404
        decl = services.declaration_transition(
            declaration_id=int(pk), action=action_name, role=role, actor=request.user, reason=reason
        )
        return Response(_detail(decl))

    @extend_schema(request=None, responses=DeclarationDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(request, pk, "submit")

    @extend_schema(request=None, responses=DeclarationDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The teacher takes back a declaration waiting for review: it becomes a draft again (409 once decided)."""
        return self._transition(request, pk, "withdraw")

    def _level(self, request) -> str:
        level = selectors.review_level(require_role(request))
        if level is None:
            raise PermissionDenied(_("只有学校和区管理员可以审核申报。"))
        return level

    @extend_schema(request=None, responses=DeclarationDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        if selectors.review_level(require_role(request)) is None:
            self.get_object()  # out of scope answers 404 before the role's 403, as for every action
        return self._transition(request, pk, f"{self._level(request)}_approve")

    @extend_schema(request=ReasonSerializer, responses=DeclarationDetailSerializer, operation_id="declarations_return")
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(request, pk, f"{self._level(request)}_return", data.validated_data["reason"])

    @extend_schema(request=ReasonSerializer, responses=DeclarationDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        self.get_object()
        self._level(request)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(request, pk, "reject", data.validated_data["reason"])

    @extend_schema(
        request=BulkApproveSerializer,
        responses=inline_serializer(
            "BulkApproveResult",
            {
                "approved": serializers.ListField(child=serializers.IntegerField()),
                "failed": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        role = require_role(request)
        data = BulkApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.declarations_bulk_approve(ids=data.validated_data["ids"], role=role, actor=request.user))


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "message", "link", "declaration", "created_at", "read_at"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)
    serializer_class = NotificationSerializer

    def get_queryset(self):
        qs = Notification.objects.filter(user=self.request.user)
        if self.request.query_params.get("unread") == "1":
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        return Response({"marked": services.notifications_mark_read(user=request.user)})


class YearSerializer(serializers.ModelSerializer):
    is_locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Year
        fields = ["year", "declaration_deadline", "school_review_deadline", "district_review_deadline", "locked_at", "is_locked"]
        read_only_fields = ["year", "locked_at", "is_locked"]


@extend_schema(parameters=[ROLE_HEADER])
class YearViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Each year's deadlines and lock; the city admin edits the deadlines."""

    serializer_class = YearSerializer
    queryset = Year.objects.all()
    lookup_value_regex = r"\d{4}"

    def get_object(self):
        year = int(self.kwargs["pk"])
        if year not in Year.SUPPORTED:
            raise Http404
        return Year.of(year)

    @extend_schema(request=YearSerializer, responses=YearSerializer)
    def partial_update(self, request, pk=None):
        role = require_role(request, RoleKind.CITY_ADMIN)
        data = YearSerializer(self.get_object(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(YearSerializer(services.year_update(role=role, year=int(pk), data=data.validated_data)).data)

"""REST API for points: platform events (idempotent), balance and history, exchange requests,
payment confirmation, rules and windows."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.api import ROLE_HEADER, api_role, require_role
from accounts.models import RoleKind, Teacher
from cpd.pagination import KeysetPagination
from cpd.platform import PlatformKeyAuthentication

from . import services
from .models import EarningRule, EventStatus, ExchangeRequest, ExchangeWindow, PointsEntry


class PointsEventInSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100)
    teacher = serializers.CharField(max_length=20, help_text="ID number or CPD number")
    action_code = serializers.CharField(max_length=64)
    occurred_on = serializers.DateField()


@extend_schema(
    request=PointsEventInSerializer,
    responses=inline_serializer(
        "PointsEventResult",
        {
            "event_id": serializers.CharField(),
            "status": serializers.CharField(),
            "points": serializers.IntegerField(),
            "reason": serializers.CharField(),
        },
    ),
    summary="The online research platform reports an action; accepted or refused with the reason (idempotent by event_id).",
)
@api_view(["POST"])
@authentication_classes([PlatformKeyAuthentication])
@permission_classes([AllowAny])
def points_event(request):
    if request.auth is None:
        from rest_framework.exceptions import NotAuthenticated

        raise NotAuthenticated("Send 'Authorization: Platform <key>'.")
    data = PointsEventInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    event = services.points_earn(
        event_id=v["event_id"], teacher_key=v["teacher"], action_code=v["action_code"], occurred_on=v["occurred_on"]
    )
    body = {"event_id": event.event_id, "status": event.status, "points": event.points, "reason": event.reason}
    return Response(body, status=status.HTTP_201_CREATED if event.status == EventStatus.ACCEPTED else status.HTTP_200_OK)


class EntrySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="account.year")

    class Meta:
        model = PointsEntry
        fields = ["id", "year", "kind", "delta", "amount", "reason", "occurred_on", "created_at"]


@extend_schema(
    parameters=[ROLE_HEADER],
    responses=inline_serializer(
        "MyPoints",
        {
            "year": serializers.IntegerField(),
            "balance": serializers.IntegerField(),
            "held": serializers.IntegerField(),
            "open": serializers.BooleanField(),
            "per_category": serializers.DictField(),
            "entries": EntrySerializer(many=True),
        },
    ),
)
@api_view(["GET"])
def my_points(request):
    role = require_role(request)
    teacher = Teacher.objects.filter(user_id=role.user_id).first() if role.kind == RoleKind.TEACHER else None
    if teacher is None:
        raise Http404
    now = services.exchangeable_now(teacher)
    entries = PointsEntry.objects.filter(account__teacher=teacher).select_related("account").order_by("-created_at", "-pk")[:200]
    return Response(
        {
            "year": now["year"],
            "balance": now["balance"],
            "held": now["held"],
            "open": now["open"],
            "per_category": now["per_category"],
            "used": now["used"],
            "entries": EntrySerializer(entries, many=True).data,
        }
    )


class RequestSerializer(serializers.ModelSerializer):
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)

    class Meta:
        model = ExchangeRequest
        fields = [
            "id",
            "teacher",
            "teacher_name",
            "year",
            "category",
            "hours",
            "points",
            "state",
            "reason",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class RequestCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=["professional", "elective"])
    hours = serializers.IntegerField(min_value=1)


@extend_schema(parameters=[ROLE_HEADER])
class ExchangeRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exchange requests: a teacher requests (points held), cancels; the school confirms payment or refuses."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = RequestSerializer

    def get_queryset(self):
        qs = services.requests_visible_to(api_role(self.request))
        if self.request.query_params.get("state"):
            qs = qs.filter(state=self.request.query_params["state"])
        return qs

    @extend_schema(request=RequestCreateSerializer, responses={201: RequestSerializer})
    def create(self, request):
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.exchange_request(role=require_role(request), actor=request.user, **data.validated_data)
        return Response(RequestSerializer(req).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        req = services.exchange_cancel(role=require_role(request), actor=request.user, request=self.get_object())
        return Response(RequestSerializer(req).data)

    @extend_schema(request=inline_serializer("RefuseRequest", {"reason": serializers.CharField()}), responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        reason = serializers.CharField(max_length=300).run_validation(request.data.get("reason"))
        req = services.exchange_refuse(role=require_role(request), actor=request.user, request=self.get_object(), reason=reason)
        return Response(RequestSerializer(req).data)

    @extend_schema(
        request=inline_serializer("ConfirmPaid", {"ids": serializers.ListField(child=serializers.IntegerField())}),
        responses=inline_serializer(
            "ConfirmPaidResult",
            {
                "confirmed": serializers.ListField(child=serializers.IntegerField()),
                "failed": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=False, methods=["post"], url_path="confirm-paid")
    def confirm_paid(self, request):
        ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=1000).run_validation(
            request.data.get("ids")
        )
        return Response(services.exchange_confirm_paid(role=require_role(request), actor=request.user, request_ids=ids))


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EarningRule
        fields = ["id", "action_code", "name", "points", "kind", "daily_limit", "yearly_limit", "is_active"]


@extend_schema(parameters=[ROLE_HEADER])
class RuleViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = RuleSerializer
    queryset = EarningRule.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request):
        data = RuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.rule_save(role=require_role(request), data=data.validated_data)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        rule = self.get_object()
        data = RuleSerializer(rule, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(RuleSerializer(services.rule_save(role=require_role(request), data=data.validated_data, rule=rule)).data)


class WindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeWindow
        fields = ["year", "opens_on", "closes_on"]


class WindowChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeWindow
        fields = ["opens_on", "closes_on"]


@extend_schema(parameters=[ROLE_HEADER])
class WindowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Each year's exchange window: the city creates it (POST) and changes it (PUT / PATCH /points/windows/{year}/)."""

    serializer_class = WindowSerializer
    queryset = ExchangeWindow.objects.all()
    lookup_field = "year"
    lookup_value_regex = r"\d{4}"

    @extend_schema(request=WindowChangeSerializer, responses=WindowSerializer)
    def update(self, request, year=None, partial=False):
        window = self.get_object()
        role = require_role(request, RoleKind.CITY_ADMIN)
        data = WindowChangeSerializer(window, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        window = services.window_save(
            role=role,
            year=window.year,
            opens_on=changes.get("opens_on", window.opens_on),
            closes_on=changes.get("closes_on", window.closes_on),
        )
        return Response(WindowSerializer(window).data)

    @extend_schema(request=WindowChangeSerializer, responses=WindowSerializer)
    def partial_update(self, request, year=None):
        return self.update(request, year=year, partial=True)

    @extend_schema(request=WindowSerializer, responses={201: WindowSerializer})
    def create(self, request):
        data = WindowSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = require_role(request, RoleKind.CITY_ADMIN)
        window = services.window_save(role=role, **data.validated_data)
        return Response(WindowSerializer(window).data, status=status.HTTP_201_CREATED)

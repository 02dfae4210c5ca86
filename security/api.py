"""API: tokens (issue, list, revoke, logout), password change, the audit log."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cpd.pagination import KeysetPagination

from . import mfa, selectors, services
from .forms import AuditFilterForm
from .models import ApiToken, AuditEvent, AuditEventKind

ROLE_HEADER = OpenApiParameter(
    "X-CPD-Role", OpenApiTypes.INT, OpenApiParameter.HEADER, required=False, description="Act in this role (a role id of yours)."
)


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="TOTP or recovery code: required for administrators."
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


@extend_schema(
    request=TokenInputSerializer,
    responses={
        200: inline_serializer(
            "TokenOut",
            {"token": serializers.CharField(), "expires_at": serializers.DateTimeField(), "prefix": serializers.CharField()},
        )
    },
    summary="Exchange username and password (and a TOTP code for administrators) for an expiring API token.",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def obtain_token(request: Request) -> Response:
    data = TokenInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    django_request = request._request
    user = authenticate(
        request=django_request, username=data.validated_data["username"], password=data.validated_data["password"]
    )
    if getattr(django_request, "axes_locked_out", False):
        return Response({"detail": _("登录失败次数过多，账号已暂时锁定，请稍后再试。")}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    if user is None or not user.is_active:
        return Response({"non_field_errors": [_("用户名或密码错误。")]}, status=status.HTTP_400_BAD_REQUEST)
    if mfa.mfa_required(user):
        if not mfa.has_device(user):
            return Response({"detail": _("请先在网页上绑定两步验证，再申请API令牌。")}, status=status.HTTP_403_FORBIDDEN)
        device = mfa.verify(user, data.validated_data.get("otp", ""))
        if device is None:
            services.audit_record(event=AuditEventKind.MFA_FAILED, actor=user, request=django_request, object_type="otp")
            return Response({"otp": [_("验证码不正确或已过期。")]}, status=status.HTTP_400_BAD_REQUEST)
    services.audit_record(event=AuditEventKind.LOGIN, actor=user, request=django_request, details={"via": "api"})
    token, key = services.api_token_issue(user=user, name=data.validated_data.get("name", ""), request=django_request)
    return Response({"token": key, "expires_at": token.expires_at, "prefix": token.prefix})


class ApiTokenSerializer(serializers.ModelSerializer):
    is_live = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "name", "created_at", "expires_at", "last_used_at", "revoked_at", "is_live"]


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens (never the secrets); revoke one with POST .../revoke/."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.api_token_revoke(token=self.get_object(), request=request._request)
        return Response(ApiTokenSerializer(token).data)


class LogoutView(APIView):
    """Revoke the token this request carries (a session is logged out as well)."""

    allowed_with_issued_password = True

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            services.api_token_revoke(token=request.auth, request=request._request)
        else:
            from django.contrib.auth import logout

            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"}, max_length=128)


class PasswordChangeView(APIView):
    """Change one's own password; every API token of the account is revoked (get a new one)."""

    allowed_with_issued_password = True

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        if not user.check_password(data.validated_data["old_password"]):
            return Response({"old_password": [_("原密码不正确。")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            services.password_change(user=user, new_password=data.validated_data["new_password"], request=request._request)
        except DjangoValidationError as exc:
            return Response({"new_password": list(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
        if hasattr(request._request, "session"):
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "time", "event", "actor_username", "role", "ip_address", "object_type", "object_id", "details"]


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit log, for the city administrator; filter by event, actor (username) and date range."""

    pagination_class = KeysetPagination  # grows with the teachers: keyset pages (cpd/pagination.py)

    serializer_class = AuditEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        if not selectors.can_read_audit(selectors.api_role(self.request)):
            raise PermissionDenied(_("您当前的角色不能使用此功能。"))
        form = AuditFilterForm(self.request.query_params)
        if not form.is_valid():
            raise DjangoValidationError({field: list(errors) for field, errors in form.errors.items()})
        return selectors.audit_events(**{k: v for k, v in form.cleaned_data.items() if v})

    @extend_schema(parameters=[ROLE_HEADER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

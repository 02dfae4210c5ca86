"""Pages: password change, second factor (enrol, verify, recovery codes), API tokens, the audit log."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cpd.pagination import keyset_page

from . import mfa, selectors, services
from .forms import AuditFilterForm, CodeForm, TokenCreateForm
from .models import ApiToken, AuditEventKind

SESSION_NEW_CODES = "cpd_new_recovery_codes"


def _next_url(request, default: str = "workspace") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


# --- password ------------------------------------------------------------------------


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password1"], request=request)
        update_session_auth_hash(request, request.user)
        messages.success(request, _("密码已修改。原有的API令牌已全部撤销。"))
        return redirect("workspace")
    return render(request, "security/password_change.html", {"form": form})


# --- second factor ---------------------------------------------------------------------


@login_required
def mfa_verify(request):
    if not mfa.has_device(request.user):
        return redirect(_with_next("mfa_enrol", _next_url(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.verify(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                services.audit_record(event=AuditEventKind.MFA_RECOVERY_USED, request=request, obj=device)
                messages.warning(request, _("已使用一个恢复码；剩余 %(n)s 个。") % {"n": device.token_set.count()})
            return redirect(_next_url(request))
        services.audit_record(event=AuditEventKind.MFA_FAILED, request=request, object_type="otp")
        form.add_error("code", _("验证码不正确或已过期。"))
    return render(request, "security/mfa_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def mfa_enrol(request):
    """Bind an authenticator app: a fresh unconfirmed TOTP device until a code from it is entered.

    A user who already has a confirmed device must pass it first (no rebinding on a half-open session).
    """
    user = request.user
    if mfa.has_device(user) and not user.is_verified():
        return redirect(_with_next("mfa_verify", reverse("mfa_enrol")))
    device = mfa.totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = mfa.recovery_codes_issue(user)
            otp_login(request, device)
            services.audit_record(event=AuditEventKind.MFA_ENROL, request=request, obj=device)
            request.session[SESSION_NEW_CODES] = codes
            return redirect(_with_next("mfa_recovery_codes", _next_url(request)))
        form.add_error("code", _("验证码不正确，请检查手机时间后重试。"))
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "security/mfa_enrol.html",
        {"form": form, "qr_svg": qr.svg_inline(scale=4), "secret": _base32(device), "next": _next_url(request)},
    )


def _base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@login_required
def mfa_recovery_codes(request):
    """Shows freshly issued recovery codes once; POST issues a new set (old ones stop working)."""
    if not request.user.is_verified():
        return redirect("mfa_verify")
    if request.method == "POST":
        request.session[SESSION_NEW_CODES] = mfa.recovery_codes_issue(request.user)
        services.audit_record(event=AuditEventKind.MFA_ENROL, request=request, details={"recovery_codes": "reissued"})
        return redirect("mfa_recovery_codes")
    codes = request.session.pop(SESSION_NEW_CODES, None)
    return render(request, "security/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})


# --- API tokens ------------------------------------------------------------------------


@login_required
def token_list(request):
    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_issue(user=request.user, name=form.cleaned_data["name"], request=request)
        form = TokenCreateForm()
    tokens = ApiToken.objects.filter(user=request.user)[:100]
    return render(request, "security/token_list.html", {"tokens": tokens, "form": form, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, request=request)
    messages.success(request, _("令牌 %(prefix)s… 已撤销。") % {"prefix": token.prefix})
    return redirect("token_list")


# --- audit log -------------------------------------------------------------------------


@login_required
def audit_list(request):
    if not selectors.can_read_audit(request.role):
        raise PermissionDenied(_("您当前的角色不能使用此功能。"))
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.audit_events(**{k: v for k, v in filters.items() if v})
    # Keyset pages over (time, id), newest first: the log grows without bound, and an OFFSET page with an
    # exact count read the whole log (cpd/pagination.py; the indexes of security 0002).
    page = keyset_page(qs, request.GET.get("cursor"), 50)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "security/audit_list.html", {"form": form, "page": page, "query": query.urlencode()})

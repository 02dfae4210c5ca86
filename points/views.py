"""Browser pages: my points (balance, history, exchange), the school's payment queue, the city's rules,
windows and imports."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import RoleKind, Teacher
from accounts.permissions import require_role
from cpd.bad_input import is_int_text
from cpd.errors import StateConflict
from cpd.pagination import keyset_page
from cpd.xlsx import XLSX_CONTENT_TYPE

from . import imports, services
from .models import CAP_HOURS, EarningRule, ExchangeRequest, ExchangeWindow, PointsEntry, PointsEvent, PointsImport, RequestState

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExchangeForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("兑换为"),
        choices=[("professional", gettext_lazy("专业科目")), ("elective", gettext_lazy("个人选修科目"))],
    )
    hours = forms.IntegerField(label=gettext_lazy("学时（整数）"), min_value=1, max_value=10)


class RuleForm(forms.ModelForm):
    class Meta:
        model = EarningRule
        fields = ["action_code", "name", "points", "kind", "daily_limit", "yearly_limit", "is_active"]


class WindowForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    opens_on = forms.DateField(label=gettext_lazy("开始日期"), widget=DATE_WIDGET)
    closes_on = forms.DateField(label=gettext_lazy("结束日期"), widget=DATE_WIDGET)


def _errors(request, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


@login_required
def my_points(request):
    role = require_role(request, RoleKind.TEACHER)
    teacher = Teacher.objects.filter(user_id=role.user_id).first()
    if teacher is None:
        raise Http404
    form = ExchangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exchange_request(role=role, actor=request.user, **form.cleaned_data)
        except StateConflict as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            for field, errs in exc.error_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                for e in errs:
                    form.add_error(field if field in form.fields else None, e)
        else:
            messages.success(request, _("兑换申请已提交，积分已冻结，等待学校确认。"))
            return redirect("my_points")
    year = timezone.localdate().year
    entries = (
        PointsEntry.objects.filter(account__teacher=teacher).select_related("account", "rule").order_by("-created_at", "-pk")
    )
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "points/my_points.html",
        {
            "now": services.exchangeable_now(teacher, year),
            "form": form,
            "page": page,
            "requests": ExchangeRequest.objects.filter(teacher=teacher)[:50],
            "caps": CAP_HOURS,
        },
    )


@login_required
@require_POST
def request_cancel(request, pk: int):
    role = require_role(request, RoleKind.TEACHER)
    req = get_object_or_404(services.requests_visible_to(role), pk=pk)
    try:
        services.exchange_cancel(role=role, actor=request.user, request=req)
    except StateConflict as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已取消，积分已退回。"))
    return redirect("my_points")


@login_required
def school_requests(request):
    role = require_role(request, RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)
    qs = services.requests_visible_to(role)
    if request.method == "POST":
        ids = [int(x) for x in request.POST.getlist("ids") if is_int_text(x)]
        if not ids:
            messages.error(request, _("请先勾选要办理的兑换申请。"))
            return redirect("school_requests")
        try:
            if request.POST.get("action") == "refuse":
                for pk in ids:
                    services.exchange_refuse(
                        role=role, actor=request.user, request=get_object_or_404(qs, pk=pk), reason=request.POST.get("reason", "")
                    )
                messages.success(request, _("已退回，积分已解冻。"))
            else:
                result = services.exchange_confirm_paid(role=role, actor=request.user, request_ids=ids)
                if result["confirmed"]:
                    messages.success(request, _("已确认 %(n)s 份兑换，学时已计入。") % {"n": len(result["confirmed"])})
                for f in result["failed"]:
                    messages.error(request, f"#{f['id']}: {f['error']}")
        except (StateConflict, ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        return redirect("school_requests")
    show = request.GET.get("show", "pending")
    if show == "pending":
        qs = qs.filter(state=RequestState.PENDING)
    # Keyset pages, newest first (the (state, created_at, id) index): a district's or the city's requests
    # grow with the teachers, and an OFFSET page counted them all.
    page = keyset_page(qs.order_by("-created_at", "-pk"), request.GET.get("cursor"), 50, count=False)
    return render(
        request,
        "points/school_requests.html",
        {"page": page, "show": show, "can_act": role.kind == RoleKind.SCHOOL_ADMIN, "query": f"show={show}"},
    )


@login_required
def rules(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    edit = request.GET.get("edit")
    instance = get_object_or_404(EarningRule, pk=edit) if edit and is_int_text(edit) else None
    rule_form = RuleForm(request.POST if request.POST.get("form") == "rule" else None, instance=instance)
    window_form = WindowForm(
        request.POST if request.POST.get("form") == "window" else None, initial={"year": timezone.localdate().year}
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "rule" and rule_form.is_valid():
                services.rule_save(role=role, data=rule_form.cleaned_data, rule=instance)
                messages.success(request, _("积分规则已保存。"))
                return redirect("points_rules")
            if request.POST.get("form") == "window" and window_form.is_valid():
                services.window_save(role=role, **window_form.cleaned_data)
                messages.success(request, _("兑换时间已保存。"))
                return redirect("points_rules")
        except ValidationError as exc:
            _errors(request, exc)
    return render(
        request,
        "points/rules.html",
        {
            "rules": EarningRule.objects.all(),
            "windows": ExchangeWindow.objects.all(),
            "rule_form": rule_form,
            "window_form": window_form,
            "events": PointsEvent.objects.all()[:30],
        },
    )


@login_required
def points_import(request, pk: int | None = None):
    role = require_role(request, RoleKind.CITY_ADMIN)
    record = get_object_or_404(PointsImport, pk=pk) if pk else None
    if request.method == "POST":
        try:
            if record is not None:
                record = imports.points_import_confirm(role=role, record=record)
                messages.success(
                    request, _("已导入：计入 %(a)s 条，未计入 %(r)s 条。") % {"a": record.accepted, "r": len(record.refused)}
                )
            elif request.FILES.get("file"):
                record = imports.points_import_upload(role=role, actor=request.user, uploaded=request.FILES["file"])
            else:
                messages.error(request, _("请选择要上传的文件。"))
                return redirect("points_import")
        except (StateConflict, ValidationError) as exc:
            _errors(request, exc)
            return redirect("points_import")
        return redirect("points_import_detail", pk=record.pk)
    return render(request, "points/import.html", {"record": record, "recent": PointsImport.objects.all()[:10]})


@login_required
def points_template(request):
    response = HttpResponse(imports.template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="points-template.xlsx"'
    return response

from __future__ import annotations

import re
from functools import partial

from django import forms
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from cpd.widgets import FastSelect

from .models import ActivityType, Category, Declaration, DeclarationState, Year
from .services import COMMON_RETURN_REASONS, DECLARATION_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACCEPT = "image/*,application/pdf"  # phones offer the camera and the photo library


class DeclarationForm(forms.ModelForm):
    certificate_in_chinese = forms.TypedChoiceField(
        label=_("证书是中文的吗？"),
        choices=[(True, _("是")), (False, _("否，需上传学校盖章的中文翻译件"))],
        coerce=lambda v: v in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
        initial=True,
    )
    certificate_states_hours = forms.TypedChoiceField(
        label=_("证书上注明了学时吗？"),
        choices=[(True, _("是")), (False, _("否，需上传学校盖章的学时证明"))],
        coerce=lambda v: v in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
        initial=True,
    )

    class Meta:
        model = Declaration
        fields = list(DECLARATION_FIELDS)
        widgets = {
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0.5"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["year"] = forms.TypedChoiceField(
            label=_("年度"), choices=[(y, y) for y in (this_year, this_year - 1)], coerce=int, initial=this_year
        )
        self.fields["certificate_number"].help_text = _("证书上的编号；没有编号可留空。")
        self.fields["hours"].help_text = _("每天最多计6学时。")


class ReviewForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", _("通过")), ("return", _("退回修改")), ("reject", _("不予认定"))])
    common_reason = forms.ChoiceField(
        label=_("常用原因"), required=False, choices=[("", "—")] + [(r, r) for r in COMMON_RETURN_REASONS]
    )
    reason = forms.CharField(label=_("原因说明"), required=False, max_length=900, widget=forms.Textarea(attrs={"rows": 2}))

    def full_reason(self) -> str:
        parts = [self.cleaned_data.get("common_reason") or "", (self.cleaned_data.get("reason") or "").strip()]
        return "；".join(p for p in parts if p)


class _Item:
    """What `hours/_review_form.html` reads of a declaration: its id, its form and its refusal."""

    __slots__ = ("pk", "review_errors", "review_form")

    def __init__(self, pk: int, review_form: ReviewForm, review_errors: list[str]):
        self.pk, self.review_form, self.review_errors = pk, review_form, review_errors


# Stand-ins while the form is rendered once: the largest bigint for the item's id (a number, so that the
# form's `{% url %}` reverses; only the form's own markup holds it when it is replaced), then the page's
# address and CSRF token, put in by the same single pass so that nothing put in is scanned again.
_PK = 9_223_372_036_854_775_807
_NEXT, _CSRF = "__review_next__", "__review_csrf__"


def _put_in(values: dict[str, str], match: re.Match[str]) -> str:
    return values[match.group(0)]


def review_forms(items: list[tuple[int, dict | None, list[str]]], *, next_url: str, csrf_token: str) -> dict[int, SafeString]:
    """{pk: the item's review form, the HTML of `hours/_review_form.html`}, for the review queue's page: one
    (pk, the data a refused action brings back, its errors) per item.

    Rendering the form template per item (its controls, CSRF field, URL and buttons) was about a quarter of
    the queue page's Python. It is rendered once with stand-ins and copied per item; an item whose refused
    action brings back its reason or errors is rendered on its own. The same HTML as the include per item
    (one CSRF token for the page's forms instead of a fresh mask of the same secret per form)."""
    template = get_template("hours/_review_form.html")

    def render(pk: int, form: ReviewForm, errors: list[str], next_: str, csrf: str) -> SafeString:
        context = {"d": _Item(pk, form, errors), "next_url": next_, "csrf_token": csrf}
        return mark_safe(template.render(context))  # the template's own output

    # An item whose refused action brings back its reason or errors gets its own; the rest share one copy.
    out = {
        pk: render(pk, ReviewForm(auto_id=f"review-{pk}-%s", initial=initial), errors, next_url, csrf_token)
        for pk, initial, errors in items
        if initial or errors
    }
    copied = [pk for pk, _initial, _errors in items if pk not in out]
    if not copied:
        return out
    blank = render(_PK, ReviewForm(auto_id=f"review-{_PK}-%s"), [], _NEXT, _CSRF)
    stand_ins = re.compile("|".join(re.escape(x) for x in (str(_PK), _NEXT, _CSRF)))
    page = {_NEXT: str(escape(next_url)), _CSRF: str(escape(csrf_token))}
    for pk in copied:
        values = {**page, str(_PK): str(pk)}
        out[pk] = mark_safe(stand_ins.sub(partial(_put_in, values), blank))  # what goes in is escaped above
    return out


class QueueFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None, widget=FastSelect)
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", _("全部类别")), *Category.choices], widget=FastSelect
    )
    activity_type = forms.ChoiceField(
        label=_("活动类型"), required=False, choices=[("", _("全部类型")), *ActivityType.choices], widget=FastSelect
    )
    q = forms.CharField(label=_("教师"), required=False, widget=forms.TextInput(attrs={"placeholder": _("姓名或继续教育证号")}))
    duplicates = forms.BooleanField(label=_("只看疑似重复"), required=False)

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("全部年度"))] + [(y, y) for y in years]


class DeclarationFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *DeclarationState.choices])


class YearForm(forms.ModelForm):
    class Meta:
        model = Year
        fields = ["declaration_deadline", "school_review_deadline", "district_review_deadline"]
        widgets = {f: DATE_WIDGET for f in fields}


class CorrectionForm(forms.Form):
    reason = forms.CharField(label=_("更正原因"), max_length=500)

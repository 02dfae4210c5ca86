from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.safestring import mark_safe
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


class _RenderedField:
    """What `hours/_review_form.html` reads of a bound field: its id, its label and its HTML."""

    __slots__ = ("html", "id_for_label", "label")

    def __init__(self, html: str, id_for_label: str, label: str):
        self.html, self.id_for_label, self.label = html, id_for_label, label

    def __html__(self) -> str:
        return self.html

    __str__ = __html__


_ITEM = "__review_item__"


def review_controls(pks: list[int], initial: dict[str, dict] | None = None) -> dict[int, object]:
    """{pk: the review form's fields for that item}, for a list of items (the review queue's page).

    Rendering a form per item through the widget templates was most of the queue page's time. A
    blank form is rendered once, with a placeholder where the item's id goes in each control's id,
    and copied per item; an item whose refused action brings back its reason (`initial`, keyed by
    the pk as text) gets a real form. The HTML is the same as a `ReviewForm(auto_id=f"review-{pk}-%s")`.
    """
    initial = initial or {}
    blank = ReviewForm(auto_id=f"review-{_ITEM}-%s")
    parts = {name: (str(blank[name]), blank[name].id_for_label, str(blank[name].label)) for name in ("common_reason", "reason")}
    out: dict[int, object] = {}
    for pk in pks:
        if initial.get(str(pk)):
            out[pk] = ReviewForm(auto_id=f"review-{pk}-%s", initial=initial[str(pk)])
            continue
        item = str(pk)
        out[pk] = {
            name: _RenderedField(mark_safe(html.replace(_ITEM, item)), id_.replace(_ITEM, item), label)  # the form's own HTML
            for name, (html, id_, label) in parts.items()
        }
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

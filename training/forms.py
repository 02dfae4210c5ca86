from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OnlineCourse, TrainingProject
from .projects import PROJECT_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.ModelForm):
    class Meta:
        model = TrainingProject
        fields = list(PROJECT_FIELDS)
        widgets = {
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "enrolment_start": DATE_WIDGET,
            "enrolment_end": DATE_WIDGET,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "enrolment_start": _("不需要报名的项目（如校本培训）请留空报名日期。"),
            "kind": _("集中培训须在12月31日前登记学时；校本培训和教研活动可到次年1月31日。"),
        }

    def __init__(self, *args, levels=(), districts=(), quotas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if levels:
            self.fields["level"].choices = [(v, label) for v, label in self.fields["level"].choices if v in levels]
        self.districts = list(districts)
        quotas = quotas or {}
        for d in self.districts:
            self.fields[f"quota_{d.pk}"] = forms.IntegerField(
                label=_("%(district)s名额") % {"district": d.name}, required=False, min_value=0, initial=quotas.get(d.pk)
            )

    def quotas(self) -> dict[int, int] | None:
        values = {d.pk: self.cleaned_data.get(f"quota_{d.pk}") for d in self.districts}
        given = {pk: v for pk, v in values.items() if v is not None}
        return given


class RegisterForm(forms.Form):
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Excel文件（.xlsx）"))


class ExtensionRequestForm(forms.Form):
    requested_until = forms.DateField(label=_("申请延至"), widget=DATE_WIDGET)
    reason = forms.CharField(label=_("理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionDecisionForm(forms.Form):
    granted_until = forms.DateField(label=_("批准延至"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=_("意见"), required=False, max_length=500)


class ComplaintForm(forms.Form):
    message = forms.CharField(label=_("哪里有误"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ComplaintResolveForm(forms.Form):
    response = forms.CharField(label=_("处理意见"), max_length=1000)


class CourseForm(forms.ModelForm):
    class Meta:
        model = OnlineCourse
        fields = ["code", "title", "category", "hours", "provider", "is_active"]

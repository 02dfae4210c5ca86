from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cpd.widgets import FastSelect

from .idnumber import id_number_error, normalise_id_number
from .models import Organisation, OrgKind, Stage, Subject, Teacher, TeacherStatus
from .services import ADMIN_EDITABLE_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RequiredMarksMixin:
    """Marks the SPEC §2 required fields in the form even where the DB lets them be blank."""

    fields: dict[str, Any]

    def mark_required(self) -> None:
        for name, field in self.fields.items():
            if name in Teacher.REQUIRED_FIELDS:
                field.is_record_required = True
                field.widget.attrs["data-required"] = "1"


class TeacherSelfForm(RequiredMarksMixin, forms.ModelForm):
    class Meta:
        model = Teacher
        fields = list(Teacher.SELF_EDITABLE_FIELDS)
        widgets = {"first_employment_date": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mark_required()
        # A teacher completing the record must fill every required field they own.
        for name in Teacher.SELF_EDITABLE_FIELDS:
            if name in Teacher.REQUIRED_FIELDS:
                self.fields[name].required = True


class TeacherAdminForm(RequiredMarksMixin, forms.ModelForm):
    class Meta:
        model = Teacher
        fields = list(ADMIN_EDITABLE_FIELDS)
        widgets = {"first_employment_date": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mark_required()
        if self.instance.pk:
            # The ID number is shown masked even here; typing a new one replaces it.
            field = self.fields["id_number"]
            field.required = False
            field.widget.attrs["placeholder"] = self.instance.masked_id_number
            field.help_text = _("留空表示不修改；如需更正请输入完整的新身份证号。")
            self.initial["id_number"] = ""

    def clean_id_number(self) -> str:
        if self.instance.pk and not (self.cleaned_data.get("id_number") or "").strip():
            return self.instance.id_number
        value = normalise_id_number(self.cleaned_data["id_number"])
        error = id_number_error(value)
        if error:
            raise forms.ValidationError(error)
        return value


class PickerWidget(forms.Widget):
    """A search-as-you-type picker (static/js/picker.js) for a choice among thousands (schools,
    teachers): a hidden input with the chosen id, a search box that asks `url_name` for matches, and
    their list. Renders no options, so a city's 2,000 schools cost nothing on the page. Without
    script the search box is submitted as `<name>_q` (see `picker_text`)."""

    def __init__(self, url_name: str, placeholder: str | Promise = "", attrs=None):
        super().__init__(attrs)
        self.url_name = url_name
        self.placeholder = placeholder

    class Media:
        js = ["js/picker.js"]

    def label_for(self, value) -> str:
        if value in (None, "") or not str(value).isdigit():
            return ""
        org = Organisation.objects.filter(pk=int(value)).values_list("name", flat=True).first()
        return org or ""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        field_id = attrs.get("id") or f"id_{name}"
        return format_html(
            '<input type="hidden" name="{name}" id="{id}" value="{value}">'
            '<input type="search" name="{name}_q" id="{id}_q" value="{label}" placeholder="{placeholder}" autocomplete="off" '
            'role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="{id}_list" '
            'data-picker-url="{url}" data-picker-for="{id}" data-testid="picker-{name}">'
            '<ul class="picker-list" id="{id}_list" role="listbox" hidden></ul>',
            name=name,
            id=field_id,
            value="" if value is None else value,
            label=self.label_for(value),
            placeholder=self.placeholder,
            url=reverse(self.url_name),
        )

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def id_for_label(self, id_):
        return f"{id_}_q" if id_ else id_


def picker_text(data, name: str) -> str:
    """The search box's text when no id was chosen (a browser without script)."""
    return "" if data.get(name) else (data.get(f"{name}_q") or "").strip()


class RosterFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"), required=False, widget=forms.TextInput(attrs={"placeholder": _("姓名、身份证号或继续教育证号")})
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *TeacherStatus.choices], widget=FastSelect
    )
    stage = forms.ChoiceField(label=_("学段"), required=False, choices=[("", _("全部学段")), *Stage.choices], widget=FastSelect)
    subject = forms.ChoiceField(
        label=_("学科"), required=False, choices=[("", _("全部学科")), *Subject.choices], widget=FastSelect
    )
    school = forms.ModelChoiceField(
        label=_("学校"),
        required=False,
        queryset=Organisation.objects.none(),
        widget=PickerWidget("picker_schools", placeholder=_("输入校名搜索")),
    )

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if schools is not None:
            self.fields["school"].queryset = schools
        else:
            del self.fields["school"]


class TransferForm(forms.Form):
    to_school = forms.ModelChoiceField(
        label=_("调入学校"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("调出本市（请在说明中填写调入单位）"),
    )
    effective_date = forms.DateField(label=_("生效日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = targets if targets is not None else Organisation.objects.none()


class StatusChangeForm(forms.Form):
    effective_date = forms.DateField(label=_("生效日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "code", "kind", "parent", "is_active"]

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [c for c in OrgKind.choices if c[0] != OrgKind.CITY]
        if parents is not None:
            self.fields["parent"].queryset = parents
        self.fields["parent"].required = True
        if self.instance.pk:
            # The kind of an existing organisation does not change.
            self.fields["kind"].disabled = True


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("名册文件（.xlsx）"))

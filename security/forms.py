from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditEventKind


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        help_text=_("身份验证器应用中的6位数字，或一个恢复码。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("用途"), max_length=100, required=False)


class AuditFilterForm(forms.Form):
    event = forms.ChoiceField(label=_("事件"), required=False, choices=[("", "—"), *AuditEventKind.choices])
    actor = forms.CharField(label=_("用户名"), required=False, max_length=150)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

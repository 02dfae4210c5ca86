"""The organisation list's rows, written in Python (accounts.views._organisation_rows), are the HTML the
template wrote, byte for byte: in both languages, for those who manage and those who do not, estimated and
exact counts, inactive, overdue and never-confirmed schools, values that need escaping."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, engines
from django.utils import translation

from accounts import views
from accounts.models import Organisation, OrgKind
from accounts.selectors import TeacherCount

# The rows as templates/accounts/organisation_list.html wrote them before they moved to Python.
TEMPLATE_ROWS = (
    "{% load i18n %}"
    + '{% for o in page %}<tr>\n  <td style="padding-left:{{ o.depth|add:1 }}rem">{{ o.name }}{% if not o.is_active %} <span class="badge">{% trans "停用" %}</span>{% endif %}</td>\n  <td>{{ o.code }}</td><td>{{ o.get_kind_display }}</td>\n  {% if o.teacher_count.estimated %}<td data-testid="count-{{ o.code }}" data-estimated="1" title="{% blocktrans with date=o.teacher_count.as_of|date:\'Y-m-d\' %}统计于 {{ date }}{% endblocktrans %}">{% blocktrans with n=o.teacher_count.n %}约 {{ n }}{% endblocktrans %}</td>\n  {% else %}<td data-testid="count-{{ o.code }}">{{ o.teacher_count.n }}</td>{% endif %}\n  <td>{% if o.kind == "school" %}{% if o.last_confirmed %}{{ o.last_confirmed|date:"Y-m-d" }}{% else %}{% trans "从未确认" %}{% endif %}{% if o.overdue %} <span class="badge overdue">{% trans "逾期" %}</span>{% endif %}{% endif %}</td>\n  {% if can_manage %}<td>{% if o.kind != "city" %}<a href="{% url \'organisation_edit\' o.pk %}">{% trans "编辑" %}</a>{% endif %}</td>{% endif %}\n</tr>{% endfor %}'
)

UTC = datetime.UTC


def organisations() -> list[Organisation]:
    cases = [
        (
            "广州市",
            "4401",
            OrgKind.CITY,
            True,
            TeacherCount(198030, estimated=True, as_of=datetime.datetime(2026, 12, 7, 20, tzinfo=UTC)),
            None,
            False,
        ),
        ("A&B <区>", '44"01', OrgKind.DISTRICT, False, TeacherCount(12), None, False),
        ("育才小学", "A1", OrgKind.SCHOOL, True, TeacherCount(30), datetime.datetime(2026, 5, 31, 17, tzinfo=UTC), False),
        ("东山中学", "A2", OrgKind.SCHOOL, True, TeacherCount(0), None, True),
        ("南华小学", "B1", OrgKind.SCHOOL, False, TeacherCount(7), datetime.datetime(2025, 1, 2, tzinfo=UTC), True),
        ("机构", "P1", OrgKind.PROVIDER, True, TeacherCount(0), None, False),
    ]
    out = []
    for i, (name, code, kind, active, count, confirmed, overdue) in enumerate(cases, start=1):
        o = Organisation(pk=i, name=name, code=code, kind=kind, is_active=active)
        o.teacher_count, o.depth, o.last_confirmed, o.overdue = count, i % 3, confirmed, overdue
        out.append(o)
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("can_manage", [True, False])
def test_the_rows_are_the_templates(language, can_manage):
    page = organisations()
    with translation.override(language):
        expected = engines["django"].from_string(TEMPLATE_ROWS).template.render(Context({"page": page, "can_manage": can_manage}))
        written = "".join(views._organisation_rows(page, can_manage=can_manage))
    assert written == expected
    assert "2026-06-01" in expected and "2026-12-08" in expected  # the dates in the reader's time zone

"""The hours page's ledger rows, written in Python (hours.views._ledger_rows), are the HTML the template wrote,
byte for byte: in both languages, the teacher's own page and a reviewer's, with and without the city's revoke
form, dates, declarations, projects, reasons, entries that do not count, values that need escaping."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, engines
from django.test import RequestFactory
from django.utils import translation

from hours import views
from hours.models import LedgerEntry

# The rows as templates/hours/my_hours.html wrote them before they moved to Python.
TEMPLATE_ROWS = (
    "{% load i18n %}"
    + '{% for e in entries %}<tr>\n  <td data-label="{% trans \'日期\' %}">{% if e.start_date %}{{ e.start_date|date:"Y-m-d" }}{% if e.end_date and e.end_date != e.start_date %} ~ {{ e.end_date|date:"Y-m-d" }}{% endif %}{% else %}{{ e.created_at|date:"Y-m-d" }}{% endif %}</td>\n  <td class="card-head">{{ e.title|stored_trans }}{% if e.declaration_id %} <a href="{% url \'declaration_detail\' e.declaration_id %}">#{{ e.declaration_id }}</a>{% endif %}{% if e.reason %}<br><small class="muted">{{ e.reason }}</small>{% endif %}</td>\n  <td data-label="{% trans \'主办单位\' %}">{{ e.organiser }}{% if e.project_id %}<br><a href="{% url \'project_detail\' e.project_id %}">{% trans "项目详情" %}</a>{% if own and e.source == "registration" %} · <a href="{% url \'complaint_new\' e.pk %}" data-testid="complain-{{ e.pk }}">{% trans "有异议" %}</a>{% endif %}{% endif %}</td><td data-label="{% trans \'类别\' %}">{{ e.get_category_display }}</td><td data-label="{% trans \'来源\' %}">{{ e.get_source_display }}</td><td data-label="{% trans \'学时\' %}">{{ e.hours|hours }}{% if e.not_counted %}<br><small class="muted" data-testid="not-counted-{{ e.pk }}">{{ e.not_counted }}</small>{% endif %}</td>\n  {% if can_correct %}<td data-label="{% trans \'更正\' %}">{% if not e.revokes_id %}<form method="post" action="{% url \'ledger_revoke\' e.pk %}" class="inline">{% csrf_token %}<input name="reason" required placeholder="{% trans \'更正原因\' %}" size="10"><button class="btn secondary" type="submit">{% trans "撤销" %}</button></form>{% endif %}</td>{% endif %}\n</tr>{% endfor %}'
)

UTC = datetime.UTC
D = datetime.date


def entries() -> list[LedgerEntry]:
    cases = [
        dict(
            category="public", source="online_course", title="师德师风建设专题", start_date=D(2025, 3, 1), end_date=D(2025, 3, 1)
        ),
        dict(
            category="professional",
            source="registration",
            title='<b>"课"</b> & 张\'s',
            organiser="区 <中心>",
            project_id=7,
            start_date=D(2025, 3, 1),
            end_date=D(2025, 3, 3),
            reason="补登 <x>",
        ),
        dict(category="elective", source="declaration", title="外出培训", declaration_id=12, revokes_id=3),
        dict(category="professional", source="carry_over", title="", organiser=""),
        dict(category="unknown", source="registration", title="x", project_id=8, start_date=D(2025, 1, 1)),
    ]
    out = []
    for i, c in enumerate(cases, start=1):
        e = LedgerEntry(
            pk=100 + i,
            year=2025,
            hours=Decimal("12.25") if i % 2 else Decimal("-3"),
            created_at=datetime.datetime(2025, 5, 31, 17, tzinfo=UTC),
            **c,
        )
        e.not_counted = "已撤销，不计入" if e.revokes_id else ("同一公需 <专题>" if i == 1 else "")
        out.append(e)
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("own", "can_correct"), [(True, False), (False, False), (False, True)])
def test_the_rows_are_the_templates(monkeypatch, language, own, can_correct):
    monkeypatch.setattr(views, "get_token", lambda request: "TOKEN")
    rows = entries()
    with translation.override(language):
        context = {"entries": rows, "own": own, "can_correct": can_correct, "csrf_token": "TOKEN"}
        expected = engines["django"].from_string(TEMPLATE_ROWS).template.render(Context(context))
        written = "".join(views._ledger_rows(rows, own=own, can_correct=can_correct, request=RequestFactory().get("/")))
    assert written == expected
    assert "2025-06-01" in expected and "#12" in expected and ("complain-102" in expected) == own

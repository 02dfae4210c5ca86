"""The roster's rows, written in Python (accounts.views._roster_rows), are the HTML the template wrote, byte
for byte: in both languages, with and without the other apps' columns, blank and unknown choices, and
values that need escaping."""

from __future__ import annotations

import pytest
from django.template import Context, engines
from django.utils import translation

from accounts import views
from accounts.models import Organisation, Teacher

# The rows as templates/accounts/roster_list.html wrote them before they moved to Python.
TEMPLATE_ROWS = (
    "{% load i18n %}"
    + '{% trans "身份证号" as l_id %}{% trans "继续教育证号" as l_cpd %}{% trans "学校" as l_school %}{% trans "学段" as l_stage %}{% trans "学科" as l_subject %}{% trans "状态" as l_status %}'
    + '{% for t in page %}<tr>\n  <td class="card-head"><a href="{% url \'teacher_detail\' t.pk %}">{{ t.name }}</a></td><td data-label="{{ l_id }}">{{ t.masked_id_number }}</td><td data-label="{{ l_cpd }}">{{ t.cpd_number }}</td>\n  <td data-label="{{ l_school }}">{{ t.school.name }}</td><td data-label="{{ l_stage }}">{{ t.get_stage_display|default:"—" }}</td><td data-label="{{ l_subject }}">{{ t.get_subject_display|default:"—" }}</td>\n  <td data-label="{{ l_status }}"><span class="badge {{ t.status }}">{{ t.get_status_display }}</span></td>{% for h, c in t.extra_cells %}<td data-label="{{ h }}" data-testid="extra-cell">{{ c }}</td>{% endfor %}</tr>\n{% endfor %}'
)


def teachers() -> list[Teacher]:
    cases = [
        ("李老师", "440104198001011234", "primary", "math", "active", "育才小学"),
        ('<b>"王" & 张\'s</b>', "4401", "", "", "left", "A&B <学校>"),
        ("赵老师", "", "not-a-stage", "chinese", "retired", "东山中学"),
    ]
    return [
        Teacher(
            pk=100 + i,
            name=name,
            id_number=idn,
            cpd_number=f"GZ{i}<&>",
            stage=stage,
            subject=subject,
            status=status,
            school=Organisation(pk=10 + i, name=school),
        )
        for i, (name, idn, stage, subject, status, school) in enumerate(cases, start=1)
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("extra", [[], [("2026年还差学时", {101: "12.0", 102: "公需 <3>"}), ("x&y", {})]])
def test_the_rows_are_the_templates(language, extra):
    page = teachers()
    with translation.override(language):
        for t in page:
            t.extra_cells = [(header, cells.get(t.pk, "")) for header, cells in extra]
        expected = engines["django"].from_string(TEMPLATE_ROWS).template.render(Context({"page": page}))
        written = "".join(views._roster_rows(page, extra))
    assert written == expected
    assert "&lt;b&gt;&quot;王&quot; &amp; 张&#x27;s&lt;/b&gt;" in expected and "—" in expected

"""The results table's rows, written in Python (verification.views._result_rows), are the HTML the template
wrote, byte for byte: in both languages, with and without the exemption column and its form, exempt and
provisional rows, and names that need escaping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, engines
from django.test import RequestFactory
from django.utils import translation

from accounts.models import Organisation, Teacher
from verification import views
from verification.models import ResultStatus, VerificationResult, VerificationRun, YearPolicy

# The rows as templates/verification/results.html wrote them before they moved to Python.
TEMPLATE_ROWS = (
    "{% load i18n %}"
    '{% trans "学校" as l_school %}{% trans "公需" as l_public %}{% trans "专业（本年）" as l_prof %}{% trans "结转" as l_carry %}{% trans "选修" as l_elective %}{% trans "总学时" as l_total %}{% trans "结果" as l_result %}{% trans "结转下年" as l_carry_out %}{% trans "免验" as l_exempt %}{% trans "免验原因" as l_reason %}{% trans "取消免验" as l_unexempt %}{% trans "试算" as l_provisional %}{% url \'exemption_toggle\' as toggle_url %}'
    + '{% for r in page %}<tr><td class="card-head">{{ r.teacher.name }}</td><td data-label="{{ l_school }}">{{ r.school.name }}</td><td data-label="{{ l_public }}">{{ r.public|hours }}</td><td data-label="{{ l_prof }}">{{ r.professional_own|hours }}</td><td data-label="{{ l_carry }}">{{ r.carry_in|hours }}</td><td data-label="{{ l_elective }}">{{ r.elective|hours }}</td><td data-label="{{ l_total }}">{{ r.total|hours }}</td><td data-label="{{ l_result }}"><span class="badge {% if r.status == \'passed\' %}active{% elif r.status == \'failed\' %}overdue{% endif %}">{{ r.get_status_display }}</span>{% if r.run.provisional %} <span class="badge provisional">{{ l_provisional }}</span>{% endif %}</td><td data-label="{{ l_carry_out }}">{{ r.carry_out|hours }}</td>\n{% if can_exempt %}<td data-label="{{ l_exempt }}">{% if not policy.is_finalised %}<form method="post" action="{{ toggle_url }}" class="inline">{% csrf_token %}<input type="hidden" name="teacher" value="{{ r.teacher_id }}"><input type="hidden" name="year" value="{{ year }}">{% if r.teacher_id in exempt %}<button class="btn secondary" name="remove" value="1">{{ l_unexempt }}</button>{% else %}<label class="sr-only" for="exempt-reason-{{ r.teacher_id }}">{% blocktrans with name=r.teacher.name %}{{ name }}的免验原因{% endblocktrans %}</label><input name="reason" id="exempt-reason-{{ r.teacher_id }}" placeholder="{{ l_reason }}" size="8" required><button class="btn secondary" data-testid="exempt-{{ r.teacher_id }}">{{ l_exempt }}</button>{% endif %}</form>{% endif %}</td>{% endif %}</tr>\n{% endfor %}'
)


def rows() -> list[VerificationResult]:
    provisional, final = VerificationRun(pk=1, year=2025, provisional=True), VerificationRun(pk=2, year=2025)
    cases = [
        ("李老师", "育才小学", ResultStatus.PASSED, final, "90.0"),
        ('<b>"王" & 张\'s</b>', "A&B <学校>", ResultStatus.FAILED, provisional, "-3.5"),
        ("赵老师", "东山中学", ResultStatus.EXEMPT, None, "0"),
        ("钱老师", "南华小学", "not-a-status", final, "12.25"),
    ]
    out = []
    for i, (name, school, status, run, h) in enumerate(cases, start=1):
        r = VerificationResult(
            teacher=Teacher(pk=100 + i, name=name),
            school=Organisation(pk=10 + i, name=school),
            year=2025,
            status=status,
            public=Decimal(h),
            professional_own=Decimal("30.0"),
            carry_in=Decimal("8"),
            elective=Decimal("18.0"),
            total=Decimal(h) + 56,
            carry_out=Decimal("2.0"),
        )
        r.run = run
        out.append(r)
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("can_exempt", [True, False])
@pytest.mark.parametrize("policy", [None, YearPolicy(year=2025), YearPolicy(year=2025, finalised_at="2026-03-01T00:00Z")])
def test_the_rows_are_the_templates(monkeypatch, language, can_exempt, policy):
    monkeypatch.setattr(views, "get_token", lambda request: "TOKEN")
    page, exempt = rows(), {101, 103}
    exempt_form = can_exempt and not (policy is not None and policy.is_finalised)
    with translation.override(language):
        context = {
            "page": page,
            "exempt": exempt,
            "can_exempt": can_exempt,
            "policy": policy,
            "year": 2025,
            "csrf_token": "TOKEN",
        }
        expected = engines["django"].from_string(TEMPLATE_ROWS).template.render(Context(context))
        trial_runs = {r.run.pk for r in page if r.run is not None and r.run.provisional}
        written = views._result_rows(
            page,
            year=2025,
            exempt=exempt,
            trial_runs=trial_runs,
            can_exempt=can_exempt,
            exempt_form=exempt_form,
            request=RequestFactory().get("/"),
        )
    assert "".join(written) == expected
    assert ("&lt;b&gt;&quot;王&quot; &amp; 张&#x27;s&lt;/b&gt;" in expected) and ("exempt-reason-102" in expected) == exempt_form

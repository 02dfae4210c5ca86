"""The statistics table's rows, written in Python (verification.views._statistics_rows), are the HTML the
template wrote, byte for byte: in both languages, units without results, names that need escaping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, engines
from django.utils import translation

from accounts.models import Organisation
from verification import views

# The rows as templates/verification/statistics.html wrote them before they moved to Python.
TEMPLATE_ROWS = (
    "{% for r in rows %}<tr><td>{{ r.unit.name }}</td><td>{{ r.teachers }}</td><td>{{ r.verified|default:0 }}</td>"
    "<td>{{ r.passed|default:0 }}</td><td>{{ r.failed|default:0 }}</td><td>{{ r.exempt|default:0 }}</td>"
    "<td>{% if r.pass_rate is not None %}{{ r.pass_rate }}%{% else %}—{% endif %}</td><td>{{ r.public|hours }}</td>"
    "<td>{{ r.professional|hours }}</td><td>{{ r.elective|hours }}</td></tr>{% endfor %}"
)


def rows() -> list[dict]:
    full = {"teachers": 1200, "verified": 1180, "passed": 1100, "failed": 60, "exempt": 20, "pass_rate": Decimal("93.2")}
    empty = {"teachers": 0, "verified": None, "passed": None, "failed": None, "exempt": None, "pass_rate": None}
    hours = {"public": Decimal("30.0"), "professional": Decimal("41.25"), "elective": None}
    return [
        {"unit": Organisation(pk=1, name="越秀区"), **full, **hours},
        {"unit": Organisation(pk=2, name='A&B <"区">'), **empty, **hours, "elective": Decimal("-2")},
        {"unit": Organisation(pk=3, name="市直属"), **full, "pass_rate": Decimal("100"), **hours},
        {"unit": Organisation(pk=4, name="没有统计的学校"), "teachers": 0},
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_are_the_templates(language):
    with translation.override(language):
        expected = engines["django"].from_string(TEMPLATE_ROWS).template.render(Context({"rows": rows()}))
        written = "".join(views._statistics_rows(rows()))
    assert written == expected
    assert "&lt;&quot;区&quot;&gt;" in expected and "<td>—</td>" in expected

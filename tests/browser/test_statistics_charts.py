"""The city's statistics page draws its charts: the bars' data is the pass rates the table shows."""

from __future__ import annotations

from tests.verification.conftest import give, verify
from verification.models import YearPolicy


def test_statistics_charts_hold_the_pass_rates_of_the_table(live_world, open_as):
    world = live_world
    YearPolicy.objects.get_or_create(
        year=2025,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    t = world.teachers
    give(t["teacher_a1"], 2025, public=30, professional=50, elective=18)  # passes
    give(t["teacher_a2"], 2025, public=30, professional=20, elective=18)  # fails
    give(t["teacher_b1"], 2025, public=30, professional=42, elective=18)  # passes
    verify(world, 2025)

    city = open_as("city_admin")
    city.goto("/verification/statistics/?year=2025")
    units = city.evaluate("() => Chart.getChart(document.getElementById('chart-units')).data")
    rows = {
        r[0]: r[6]
        for r in city.locator("[data-testid=stats-table] tbody tr").evaluate_all(
            "trs => trs.map(tr => [...tr.cells].map(td => td.textContent.trim()))"
        )
    }
    assert dict(zip(units["labels"], units["datasets"][0]["data"], strict=True)) == {
        "越秀区": 50.0,  # a1 passed, a2 failed
        "海珠区": 100.0,
        "市直属": 0.0,  # c1 has no hours: failed
    }
    assert {k: v for k, v in rows.items()} == {"越秀区": "50.0%", "海珠区": "100.0%", "市直属": "0.0%"}
    trend = city.evaluate("() => Chart.getChart(document.getElementById('chart-trend')).data")
    assert trend["labels"] == [2025]
    assert trend["datasets"][0]["data"] == [round(100 * 2 / 4, 1)]

"""The cycle regime (SPEC §7): the home card shows the cycle's hours against 360 / 80 and the days to
the cycle's end; the transcript covers the cycle and its check page shows the cycle's totals."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from cycles import rules as cycles
from home import transcript

from .test_cycles import cycle_regime, frozen, hours_of, veteran  # noqa: F401

pytestmark = pytest.mark.cycle


@pytest.fixture
def short_in_cycle(world, frozen, cycle_regime):  # noqa: F811
    teacher = veteran(world)
    hours_of(teacher, total=200, school_based=50)
    cycles.cycle_open(teacher=teacher)  # the nightly job stores every teacher's cycle
    return teacher


def test_cycle_card_shows_cycle_hours_missing_and_days_to_the_cycle_end(world, short_in_cycle):
    card = world.client("teacher_a1").get("/").context["card"]
    rows = {r.category: r for r in card.rows}
    assert (rows["total"].counted, rows["total"].minimum, rows["total"].missing) == (
        Decimal("200"),
        Decimal("360"),
        Decimal("160"),
    )
    assert (rows["school_based"].counted, rows["school_based"].missing) == (Decimal("50"), Decimal("30"))
    assert (
        card.deadline.date == datetime.date(2029, 6, 15)
        and card.days_left == (datetime.date(2029, 6, 15) - datetime.date(2026, 6, 15)).days
    )
    assert not card.done


def test_cycle_transcript_and_its_public_check(world, short_in_cycle):
    cycle = cycles.progress(short_in_cycle).cycle
    response = world.client("teacher_a1").get(f"/transcripts/cycle/{cycle.pk}.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    code = transcript.make_code(short_in_cycle.pk, f"C{cycle.pk}")
    html = Client().get(f"/transcripts/check/{code}/").content.decode()
    assert 'data-testid="total">200.0<' in html and "进行中" in html and "2024-06-15 ~ 2029-06-15" in html
    assert short_in_cycle.id_number not in html and short_in_cycle.name not in html
    assert Client().get(f"/transcripts/check/{code[:-1]}Z/").status_code == 404
    # someone else's cycle is not downloadable
    assert world.client("teacher_a2").get(f"/transcripts/cycle/{cycle.pk}.pdf").status_code == 404

"""On a phone (390×844) the lists a teacher and a school reviewer read are cards, not tables that scroll.

Each row of a <table class="list-cards"> becomes a card the width of the list: its heading cell on top,
then one line per cell with the column's name before the value (the cell's data-label, shown by CSS),
its buttons full width and at least 44 px high. At a desk (1366) the same page is the table it was:
the cells of a row side by side, no names before the values. Data as a demo teacher has it in spring
(tests/list_cards_kit.py); axe-core finds nothing serious on the phone pages.
"""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.list_cards_kit import SCHOOL_ADMIN, TEACHER, demo_like

from .checks import DESK, PHONE, PageChecks
from .conftest import log_in

# How a row is laid out: its box, the table's, and each shown cell's box, label (the ::before content)
# and where the cell's own text starts.
ROW_LAYOUT = """tr => {
  const box = e => { const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height}; };
  const cells = [...tr.children].filter(td => getComputedStyle(td).display !== 'none').map(td => {
    const range = document.createRange(); range.selectNodeContents(td);
    const text = [...range.getClientRects()].filter(r => r.width > 0);
    const before = getComputedStyle(td, '::before');
    return {...box(td), head: td.classList.contains('card-head'), actions: td.classList.contains('card-actions'), text: td.innerText.trim(),
            label: before.display === 'none' ? 'none' : before.content,
            textLeft: text.length ? Math.min(...text.map(r => r.left)) : null};
  });
  return {row: box(tr), table: box(tr.closest('table')), cells};
}"""


@pytest.fixture
def as_role(browser, live_server):
    contexts = []

    def _open(persona: str, viewport: dict, english: bool) -> PageChecks:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN")
        contexts.append(context)
        if english:
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
        page = context.new_page()
        log_in(page, persona, PASSWORD)
        return PageChecks(page, english=english)

    yield _open
    for context in contexts:
        context.close()


def _row(checks: PageChecks, testid: str, text: str) -> dict:
    row = checks.page.get_by_test_id(testid).locator("tbody tr").filter(has_text=text)
    expect(row).to_have_count(1)
    return row.evaluate(ROW_LAYOUT)


def _cell(layout: dict, label: str) -> dict:
    (cell,) = [c for c in layout["cells"] if c["label"] == f'"{label}"']
    return cell


def _assert_card(layout: dict, head: str) -> None:
    """The row is a card as wide as the list, its heading first, its cells one under the other."""
    row, table, cells = layout["row"], layout["table"], layout["cells"]
    assert abs(row["width"] - table["width"]) < 1 and row["width"] > PHONE["width"] * 0.85, (row, table)
    by_top = sorted(cells, key=lambda c: c["top"])
    assert by_top[0]["head"] and by_top[0]["text"].startswith(head), f"the heading cell is the card's first line: {by_top[0]}"
    for above, below in itertools.pairwise(by_top):
        assert below["top"] >= above["bottom"] - 0.5, (above, below)
    for c in cells:
        assert c["left"] >= row["left"] and c["right"] <= row["right"] + 0.5, c
        if not (c["head"] or c["actions"]):  # a cell of buttons only speaks for itself
            assert c["label"] not in ("none", "normal"), f"a card line without its column's name: {c}"


def _assert_labelled(cell: dict, value: str) -> None:
    """The column's name stands before the value, on the same line."""
    assert cell["text"].startswith(value), cell
    assert cell["textLeft"] is not None and cell["textLeft"] >= cell["left"] + 60, cell


def _assert_table_row(layout: dict) -> None:
    cells = layout["cells"]
    assert len(cells) >= 4
    assert len({round(c["top"]) for c in cells}) == 1, "a desk row keeps its cells side by side"
    assert all(c["left"] < d["left"] for c, d in itertools.pairwise(cells))
    assert {c["label"] for c in cells} <= {"none", "normal"}, "no names before the values at a desk"


def _assert_no_sideways_scroll(checks: PageChecks, testid: str) -> None:
    table = checks.page.get_by_test_id(testid)
    scroll, client = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert scroll <= client, f"{testid} scrolls sideways: {scroll} > {client}"


def _assert_accessible(checks: PageChecks) -> None:
    violations = checks.axe()
    assert violations == [], f"{checks.page.url}: {violations}"


def test_a_teachers_lists_are_cards_on_a_phone(live_world, as_role):
    objects = demo_like(live_world)
    t = as_role(TEACHER, PHONE, True)

    # My declarations: one card per declaration, headed by its title.
    t.goto(reverse("declaration_list"))
    card = _row(t, "declarations", "区级教研活动")
    _assert_card(card, "区级教研活动")
    _assert_labelled(_cell(card, "Hours"), "6.0")
    _assert_labelled(_cell(card, "Year"), str(objects["submitted"].year))
    status = _cell(card, "Status")
    badge = t.page.get_by_test_id("declarations").locator("tbody tr").filter(has_text="读书分享会").locator(".badge")
    expect(badge).to_have_text("Returned")
    assert badge.evaluate("b => parseFloat(getComputedStyle(b).fontSize)") >= 13
    assert status["right"] <= card["row"]["right"]
    _assert_labelled(_cell(_row(t, "declarations", "读书分享会"), "Latest comment"), "证书照片不清楚")
    _assert_no_sideways_scroll(t, "declarations")
    _assert_accessible(t)

    # My hours: the figures by category and the ledger are cards too.
    t.goto(reverse("my_hours"))
    entry = _row(t, "ledger", "校本研修：课堂观察")
    _assert_card(entry, "校本研修：课堂观察")
    _assert_labelled(_cell(entry, "Hours"), "6.0")
    _assert_labelled(_cell(entry, "Source"), "Training hours registration")
    complain = t.page.get_by_test_id(f"complain-{objects['entry'].pk}").bounding_box()
    assert complain is not None and complain["height"] >= 44, complain
    professional = _row(t, "hours-figures", "Professional subjects")
    _assert_card(professional, "Professional")
    _assert_labelled(_cell(professional, "Hours counted"), "6.0")
    for testid in ("ledger", "hours-figures"):
        _assert_no_sideways_scroll(t, testid)
    _assert_accessible(t)

    # Points: the pending exchange is a card whose cancel button is a full-width thumb target.
    t.goto(reverse("my_points"))
    request = _row(t, "requests", "Electives")
    _assert_card(request, "Electives")
    _assert_labelled(_cell(request, "Points"), "100")
    cancel = t.page.get_by_test_id("requests").get_by_role("button", name="Cancel")
    size = cancel.bounding_box()
    assert size is not None and size["height"] >= 44 and size["width"] >= request["row"]["width"] * 0.8, size
    history = t.page.get_by_test_id("points-history").locator("tbody tr")
    expect(history).to_have_count(6)  # five courses earned, one hold
    _assert_labelled(_cell(history.first.evaluate(ROW_LAYOUT), "Available points"), "−100")
    for testid in ("requests", "points-history", "caps"):
        _assert_no_sideways_scroll(t, testid)
    _assert_accessible(t)


def test_the_same_lists_stay_tables_at_a_desk(live_world, as_role):
    demo_like(live_world)
    t = as_role(TEACHER, DESK, False)
    t.goto(reverse("declaration_list"))
    _assert_table_row(_row(t, "declarations", "区级教研活动"))
    t.goto(reverse("my_hours"))
    _assert_table_row(_row(t, "ledger", "校本研修：课堂观察"))
    t.goto(reverse("my_points"))
    _assert_table_row(_row(t, "requests", "个人选修科目"))
    s = as_role(SCHOOL_ADMIN, DESK, False)
    s.goto(reverse("school_requests"))
    layout = _row(s, "school-requests", live_world.teachers[TEACHER].name)
    _assert_table_row(layout)
    expect(s.page.get_by_test_id("school-requests").locator("thead").get_by_text("全选")).to_be_hidden()


def test_the_school_reviews_on_a_phone(live_world, as_role):
    objects = demo_like(live_world)
    s = as_role(SCHOOL_ADMIN, PHONE, True)

    # The review queue: each declaration a card with its box to tick; "select all" ticks both.
    s.goto(reverse("review_queue"))
    items = s.page.locator("section.queue-item")
    expect(items).to_have_count(2)
    for i in range(2):
        box = items.nth(i).bounding_box()
        assert box is not None and box["width"] > PHONE["width"] * 0.85, box
        pick = items.nth(i).locator("input[name=ids]")
        expect(pick).to_be_visible()
        pick_box = pick.bounding_box()
        assert pick_box is not None and pick_box["width"] >= 22, pick_box
    approve = s.page.get_by_test_id(f"approve-{objects['submitted'].pk}").bounding_box()
    assert approve is not None and approve["height"] >= 44, approve
    s.page.get_by_label("Select all on this page").check()
    for i in range(2):
        expect(items.nth(i).locator("input[name=ids]")).to_be_checked()
    _assert_accessible(s)

    # The points to pay: a card per request, the check-all box above the cards with its words.
    s.goto(reverse("school_requests"))
    teacher = live_world.teachers[TEACHER].name
    card = _row(s, "school-requests", teacher)
    _assert_card(card, teacher)
    _assert_labelled(_cell(card, "Hours"), "1.0")
    pick = s.page.get_by_test_id(f"pick-{objects['exchange'].pk}")
    expect(pick).to_be_visible()
    select_all = s.page.get_by_test_id("school-requests").locator("thead").get_by_text("Select all")
    expect(select_all).to_be_visible()
    select_all.click()
    expect(pick).to_be_checked()
    _assert_no_sideways_scroll(s, "school-requests")
    _assert_accessible(s)

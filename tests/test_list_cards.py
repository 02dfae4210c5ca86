"""The lists people read on a phone are <table class="list-cards">: below 640 px each row is a card whose
lines are labelled from the cells' data-label (static/css/app.css). A cell without its label would show a
bare value on the phone, so every cell of every such table carries one, and it names the cell's column.

The pages are rendered for a teacher and a school admin on demo-like data (tests/list_cards_kit.py) and
read with the standard library's HTML parser, so a new column added without its label fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from .list_cards_kit import SCHOOL_ADMIN, TEACHER, demo_like

pytestmark = pytest.mark.django_db


@dataclass
class Cell:
    attrs: dict[str, str]
    text: str = ""
    has_input: bool = False


@dataclass
class Table:
    testid: str
    headers: list[Cell] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


class _Tables(HTMLParser):
    """Collects every table with the class list-cards: its header cells and the cells of its body rows."""

    def __init__(self):
        super().__init__()
        self.tables: list[Table] = []
        self.table: Table | None = None
        self.depth = 0  # tables nested inside a list-cards table (none today) are not its rows
        self.section = ""
        self.cell: Cell | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            if self.table is not None:
                self.depth += 1
            elif "list-cards" in a.get("class", "").split():
                self.table = Table(testid=a.get("data-testid", "?"))
            return
        if self.table is None or self.depth:
            return
        if tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr" and self.section == "tbody":
            self.table.rows.append([])
        elif tag in ("td", "th"):
            self.cell = Cell(attrs=a)
            if self.section == "thead":
                self.table.headers.append(self.cell)
            elif self.table.rows:
                self.table.rows[-1].append(self.cell)
        elif tag == "input" and self.cell is not None:
            self.cell.has_input = True

    def handle_endtag(self, tag):
        if tag == "table" and self.table is not None:
            if self.depth:
                self.depth -= 1
            else:
                self.tables.append(self.table)
                self.table = None
        elif tag in ("td", "th"):
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.text += data


def list_tables(html: str) -> list[Table]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def unlabelled(table: Table) -> list[str]:
    """What is wrong with the table's cells: a cell with no label, or a label that is not its column's name.

    The row's heading cell (td.card-head) needs none; an empty-state row is one cell spanning the table.
    """
    problems = []
    for row in table.rows:
        if len(row) == 1 and "colspan" in row[0].attrs:
            continue
        heads = [c for c in row if "card-head" in c.attrs.get("class", "").split()]
        if len(heads) > 1:
            problems.append(f"{table.testid}: {len(heads)} heading cells in one row")
        for i, cell in enumerate(row):
            if cell in heads:
                continue
            label = cell.attrs.get("data-label", "").strip()
            if not label:
                problems.append(f"{table.testid}: column {i + 1} ({_words(cell.text)[:30]!r}) has no data-label")
                continue
            header = table.headers[i] if i < len(table.headers) else None
            # A header holding a control (the check-all box) or no words (an actions column) names nothing.
            if header is not None and not header.has_input and _words(header.text) and _words(header.text) != label:
                problems.append(f"{table.testid}: column {i + 1} is labelled {label!r} under the header {_words(header.text)!r}")
    return problems


def data_rows(tables: list[Table]) -> int:
    return sum(1 for t in tables for row in t.rows if not (len(row) == 1 and "colspan" in row[0].attrs))


def test_a_cell_without_its_label_is_caught():
    html = """<table class="list-cards" data-testid="x"><thead><tr><th>年度</th><th>名称</th><th>学时</th><th>状态</th></tr></thead>
    <tbody><tr><td data-label="年度">2026</td><td class="card-head">教研</td><td>6.0</td><td data-label="学时">待审</td></tr>
    <tr><td colspan="4">没有。</td></tr></tbody></table><table><tr><td>not a card list</td></tr></table>"""
    (table,) = list_tables(html)
    assert unlabelled(table) == [
        "x: column 3 ('6.0') has no data-label",
        "x: column 4 is labelled '学时' under the header '状态'",
    ]
    assert data_rows([table]) == 1


def _pages(world, objects):
    last = objects["entry"].year - 1
    teacher = [
        reverse("declaration_list"),
        reverse("my_hours"),
        reverse("my_points"),
        reverse("my_results"),
        reverse("project_list"),
        reverse("complaint_list"),
        reverse("declaration_detail", args=[objects["returned"].pk]),
        reverse("enrolment_list"),
        reverse("course_list"),
    ]
    school = [
        reverse("roster_list"),
        reverse("school_requests"),
        f"{reverse('result_list')}?year={last}",
        reverse("complaint_list"),
        reverse("result_complaints"),
        reverse("home_returned"),
        reverse("enrolment_list"),
        reverse("review_queue"),
    ]
    return [(TEACHER, p) for p in teacher] + [(SCHOOL_ADMIN, p) for p in school]


# The pages where the demo-like data puts at least one row in a card list: the test cannot pass on empty lists.
WITH_ROWS = {
    (TEACHER, "declaration_list"),
    (TEACHER, "my_hours"),
    (TEACHER, "my_points"),
    (TEACHER, "my_results"),
    (TEACHER, "project_list"),
    (TEACHER, "complaint_list"),
    (TEACHER, "declaration_detail"),
    (SCHOOL_ADMIN, "roster_list"),
    (SCHOOL_ADMIN, "school_requests"),
    (SCHOOL_ADMIN, "result_list"),
    (SCHOOL_ADMIN, "complaint_list"),
    (SCHOOL_ADMIN, "home_returned"),
}


def test_every_cell_of_the_phone_card_lists_is_labelled_with_its_column(world):
    from django.urls import resolve

    objects = demo_like(world)
    clients = {TEACHER: world.client(TEACHER), SCHOOL_ADMIN: world.client(SCHOOL_ADMIN)}
    problems, seen = [], set()
    for persona, path in _pages(world, objects):
        response = clients[persona].get(path)
        assert response.status_code == 200, (persona, path, response.status_code)
        tables = list_tables(response.content.decode())
        for table in tables:
            problems += [f"{persona} {path} {p}" for p in unlabelled(table)]
        if data_rows(tables):
            seen.add((persona, resolve(path.split("?")[0]).url_name))
    assert problems == []
    assert WITH_ROWS - seen == set(), "these pages showed no card-list row"


def test_the_labels_are_translated(world):
    objects = demo_like(world)
    client = world.client(TEACHER)
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    (table,) = [t for t in list_tables(client.get(reverse("declaration_list")).content.decode()) if t.testid == "declarations"]
    row = next(r for r in table.rows if any("card-head" in c.attrs.get("class", "") for c in r))
    labels = [c.attrs.get("data-label") for c in row]
    assert labels == ["Year", None, "Category", "Hours", "Status", "Latest comment", "Updated"]
    assert objects["submitted"].title in [_words(c.text) for t in [table] for r in t.rows for c in r]

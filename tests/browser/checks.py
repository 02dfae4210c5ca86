"""What every journey asserts on every page it visits, and the axe-core run.

- the page is no wider than the window (document width ≤ viewport): phones scroll tables inside their box;
- the browser logged no console error;
- in English, no Chinese is left on the page except data (names, titles and other text people typed,
  read from the test database at each check);
- axe-core (vendored from the npm registry in vendor/) finds no "serious" or "critical" violation.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


class PageChecks:
    """Collects console errors of one page object and checks each page the journey lands on."""

    def __init__(self, page: Page, *, english: bool):
        self.page = page
        self.english = english
        self.errors: list[str] = []
        self.visited: list[str] = []
        page.on("console", lambda m: self.errors.append(f"{m.text} ({page.url})") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{e} ({page.url})"))

    def goto(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        self.check()

    def check(self) -> None:
        page = self.page
        self.visited.append(page.url)
        width = page.viewport_size["width"]
        document_width = page.evaluate("document.documentElement.scrollWidth")
        assert document_width <= width, f"{page.url}: the page is {document_width}px wide in a {width}px window"
        assert self.errors == [], self.errors
        if self.english:
            text = page.evaluate(
                "(document.querySelector('header')?.innerText || '') + '\\n' + document.querySelector('main').innerText"
            )
            for item in sorted(data_strings(), key=len, reverse=True):  # read now: the journey adds data
                text = text.replace(item, " ")
            left = CJK.findall(text)
            assert left == [], f"{page.url}: untranslated text {left[:10]}"

    def axe(self) -> list[tuple[str, str, int]]:
        """Serious and critical axe-core violations of the current page: (rule, impact, nodes)."""
        # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not
        # govern: a <script> tag with the source inline would be blocked, as it should be.
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        found = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']}))"
            ".violations.map(v => [v.id, v.impact, v.nodes.length])"
        )
        return [tuple(v) for v in found if v[1] in ("serious", "critical")]


def data_strings() -> set[str]:
    """Text the people and organisations of the test database wrote or are called (allowed in any language)."""
    from accounts.models import Organisation, Teacher, User
    from hours.models import Declaration, Evidence, LedgerEntry, StagedUpload
    from points.models import EarningRule
    from training.models import TrainingProject
    from verification.models import ResultComplaint

    found: set[str] = set()
    found.update(Organisation.objects.values_list("name", flat=True))
    found.update(Teacher.objects.values_list("name", flat=True))
    found.update(str(u) for u in User.objects.all())
    found.update(TrainingProject.objects.values_list("title", flat=True))
    found.update(EarningRule.objects.values_list("name", flat=True))  # named by the city, shown as the reason of points
    for title, organiser, reason in Declaration.objects.values_list("title", "organiser", "last_reason"):
        found.update({title, organiser, reason})
    found.update(Evidence.objects.values_list("original_name", flat=True))  # file names as uploaded
    found.update(StagedUpload.objects.values_list("original_name", flat=True))  # and as kept for a form being fixed
    for title, organiser in LedgerEntry.objects.values_list("title", "organiser"):
        found.update({title, organiser})
    for message, resolution in ResultComplaint.objects.values_list("message", "resolution"):
        found.update({message, resolution})
    return {s for s in found if s}

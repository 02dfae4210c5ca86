"""The review queue page: a refusal shows beside its own item, every item's controls have their own
ids, bulk approval asks first, and acting on nothing ticked says so."""

from __future__ import annotations

import re
from collections import Counter

from .conftest import declare


def test_a_return_without_reason_is_shown_beside_that_item_not_at_the_top(world, in_year, private_media):
    first, second = declare(world), declare(world)
    client = world.client("school_a1_admin")

    response = client.post(f"/hours/declarations/{second.pk}/review/", {"action": "return", "next": "/hours/review/"})
    assert response["Location"].endswith(f"#queue-item-{second.pk}")
    html = client.get("/hours/review/").content.decode()

    item = re.search(rf'data-testid="queue-item-{second.pk}">(.*?)</section>', html, re.S).group(1)
    assert f'data-testid="review-error-{second.pk}"' in item and "必须填写原因" in item
    other = re.search(rf'data-testid="queue-item-{first.pk}">(.*?)</section>', html, re.S).group(1)
    assert "必须填写原因" not in other
    assert '<div class="messages">' not in html
    # Shown once: the next visit is clean.
    assert "必须填写原因" not in client.get("/hours/review/").content.decode()


def test_every_id_on_the_queue_page_is_unique_and_every_reason_box_has_its_label(world, in_year, private_media):
    items = [declare(world) for _ in range(3)]
    html = world.client("school_a1_admin").get("/hours/review/").content.decode()

    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    for d in items:
        assert f'<label for="review-{d.pk}-reason">' in html and f'id="review-{d.pk}-reason"' in html


def test_bulk_approval_asks_first_and_refuses_an_empty_selection(world, in_year, private_media):
    declare(world)
    client = world.client("school_a1_admin")
    html = client.get("/hours/review/").content.decode()
    button = re.search(r'<button[^>]*data-testid="bulk-approve"[^>]*>', html).group(0)
    assert "data-confirm=" in button and 'data-needs-ticked="ids"' in button

    page = client.post("/hours/review/approve/", {}, follow=True).content.decode()
    assert "请先勾选要通过的申报" in page


def test_confirming_payment_with_nothing_ticked_says_so(world):
    client = world.client("school_a1_admin")
    page = client.post("/points/requests/", {"action": "confirm"}, follow=True).content.decode()
    assert "请先勾选要办理的兑换申请" in page


def test_the_queue_controls_rendered_once_are_each_items_own_form():
    """The queue renders the review form's controls once and copies them per item: the same HTML as a
    form per item, each control with the item's own id, in either language; a brought-back reason
    still fills its own item's box."""
    from django.utils import translation

    from hours.forms import ReviewForm, review_controls

    for language in ("zh-hans", "en"):
        with translation.override(language):
            controls = review_controls([7, 12], {"12": {"reason": "请补充盖章页"}})
            for pk in (7, 12):
                own = ReviewForm(auto_id=f"review-{pk}-%s", initial={"reason": "请补充盖章页"} if pk == 12 else None)
                for name in ("common_reason", "reason"):
                    copied = controls[pk][name]
                    assert str(copied) == str(own[name])
                    assert copied.id_for_label == own[name].id_for_label == f"review-{pk}-{name}"
                    assert str(copied.label) == str(own[name].label)
            assert "请补充盖章页" in str(controls[12]["reason"]) and "请补充盖章页" not in str(controls[7]["reason"])

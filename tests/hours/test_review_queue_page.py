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


def test_the_queue_forms_rendered_once_are_each_items_own_form():
    """The queue renders the review form once and copies it per item: the same HTML as the form template
    rendered for each item (its own ids, action, buttons, the page's address and token), in either language;
    an item whose refused action brings back a reason and errors gets its own, with them."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from hours.forms import ReviewForm, review_forms

    class Item:
        def __init__(self, pk, form, errors):
            self.pk, self.review_form, self.review_errors = pk, form, errors

    next_url = '/hours/review/?q=王&x="<9223372036854775807>"&__review_csrf__'
    for language in ("zh-hans", "en"):
        with translation.override(language):
            got = review_forms(
                [
                    (7, None, []),
                    (12, {"reason": "请补充盖章页"}, ["退回或不予认定必须填写原因。"]),
                    (9223372036854775807, None, []),
                ],
                next_url=next_url,
                csrf_token="tok3n",
            )
            for pk, initial, errors in ((7, None, []), (12, {"reason": "请补充盖章页"}, ["退回或不予认定必须填写原因。"])):
                own = render_to_string(
                    "hours/_review_form.html",
                    {
                        "d": Item(pk, ReviewForm(auto_id=f"review-{pk}-%s", initial=initial), errors),
                        "next_url": next_url,
                        "csrf_token": "tok3n",
                    },
                )
                assert got[pk] == own, pk
            assert 'id="review-7-reason"' in got[7] and 'action="/hours/declarations/7/review/"' in got[7]
            # The stand-in id is a real one too: such an item still gets its own form.
            big = got[9223372036854775807]
            assert 'action="/hours/declarations/9223372036854775807/review/"' in big and 'value="tok3n"' in big
            assert "请补充盖章页" in got[12] and 'data-testid="review-error-12"' in got[12] and "请补充盖章页" not in got[7]
            assert 'value="/hours/review/?q=王&amp;x=&quot;&lt;9223372036854775807&gt;&quot;&amp;__review_csrf__"' in got[7]

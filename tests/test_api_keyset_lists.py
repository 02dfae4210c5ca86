"""The API lists that grow with the teachers page by keyset (cpd/pagination.py): `{count,
count_is_estimate, next, previous, results}`, `next` carrying `?cursor=`; walking them lists each row
once, and a page costs the same number of queries with 2 rows as with 200."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hours.models import Notification
from security.models import AuditEvent
from verification.models import Notice


def _notifications(world, n):
    user = world.users["teacher_a1"]
    Notification.objects.bulk_create(Notification(user=user, message=f"通知{i}") for i in range(n))


def _audit(world, n):
    AuditEvent.objects.bulk_create(AuditEvent(event="login", actor_username=f"user{i}") for i in range(n))


def _notices(world, n):
    now, first = timezone.now(), 1000 + Notice.objects.count()  # one notice per school and year
    Notice.objects.bulk_create(
        Notice(school=world.school_a1, year=first + i, ends_at=now + datetime.timedelta(days=7)) for i in range(n)
    )


LISTS = [
    ("teacher_a1", "/api/v1/notifications/", _notifications),
    ("city_admin", "/api/v1/audit-events/", _audit),
    ("city_admin", "/api/v1/notices/", _notices),
]


def _walk(client, url):
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"count", "count_is_estimate", "next", "previous", "results"}
        assert body["next"] is None or "cursor=" in body["next"]
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    return seen, pages


@pytest.mark.parametrize("persona, url, add", LISTS, ids=[u for _p, u, _a in LISTS])
def test_a_growing_api_list_walks_by_cursor_each_row_once(world, persona, url, add):
    add(world, 7)
    client = world.api(persona)
    total = client.get(url).json()["count"]
    seen, pages = _walk(client, f"{url}?page_size=2")
    assert len(seen) == len(set(seen)) == total >= 7
    assert pages == -(-total // 2)
    # Page numbers are gone from these lists: `page=` is ignored, the first page answers.
    assert client.get(f"{url}?page=3&page_size=2").json()["results"] == client.get(f"{url}?page_size=2").json()["results"]


@pytest.mark.parametrize("persona, url, add", LISTS, ids=[u for _p, u, _a in LISTS])
def test_a_growing_api_list_costs_the_same_queries_with_2_and_200_rows(world, persona, url, add):
    client = world.api(persona)

    def count():
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    add(world, 2)
    with_two = count()
    add(world, 198)
    assert count() == with_two

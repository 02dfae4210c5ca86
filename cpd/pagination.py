"""Keyset ("cursor") pagination for the long lists: the API's and the browser's.

Why not OFFSET: page 40,000 of the ledger made PostgreSQL sort and skip two million rows per
request. A keyset page asks for "the next N rows after this one" in the list's own order,
`WHERE (a, b, pk) > (x, y, z) ORDER BY a, b, pk LIMIT N`, which an index on (a, b, pk) answers by
reading N index entries, however deep the page. Rows inserted while someone walks the list do not
shift what they have already seen, so every row appears once.

The ordering is the queryset's own `order_by(...)`: all ascending or all descending, ending with
the primary key (appended if missing) so the position is unique. The cursor is an opaque string
(urlsafe base64 of the last row's sort values).

Counts: exact where cheap (SQLite deployments: one COUNT); on
PostgreSQL the planner's estimate, marked as such (`count_is_estimate`), because an exact COUNT(*)
over a city's scoped join costs as much as the sort we are avoiding.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_PARAM = "cursor"


class BadCursor(ValueError):
    pass


def _ordering(qs: QuerySet) -> tuple[list[str], bool]:
    """The queryset's sort fields (without signs, pk last) and whether they run descending."""
    fields = [str(f) for f in (qs.query.order_by or qs.model._meta.ordering)]
    if not fields:
        fields = ["pk"]
    signs = {f.startswith("-") for f in fields}
    if len(signs) != 1:
        raise ValueError(f"keyset pagination needs one direction for every sort field, got {fields}")
    descending = signs.pop()
    names = [f.lstrip("-") for f in fields]
    if not _unique(qs.model, names):
        names.append("pk")
    return names, descending


def _unique(model, names: list[str]) -> bool:
    """Whether `names` already identify one row (the pk, or a unique constraint's fields)."""
    meta = model._meta
    given = {meta.pk.attname if n == "pk" else n for n in names}
    if meta.pk.attname in given or "id" in given:
        return True
    for constraint in meta.constraints:
        fields = getattr(constraint, "fields", ())
        if fields and getattr(constraint, "condition", None) is None:
            if {meta.get_field(f).attname for f in fields} <= given:
                return True
    return False


def _value_of(obj: Any, name: str) -> Any:
    return obj.pk if name == "pk" else getattr(obj, name)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return datetime.date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
        raise BadCursor("unknown value")
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_jsonable(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = [_from_json(v) for v in json.loads(raw)]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise BadCursor(str(exc)) from exc
    if not isinstance(values, list) or len(values) != length or any(isinstance(v, (list, dict)) for v in values):
        raise BadCursor("wrong shape")
    return values


def after(qs: QuerySet, cursor: str | None) -> QuerySet:
    """`qs` from the row after `cursor` on, in its own order (the row comparison the index answers)."""
    names, descending = _ordering(qs)
    qs = qs.order_by(*[f"-{n}" if descending else n for n in names])
    if not cursor:
        return qs
    values = decode_cursor(cursor, len(names))
    lookup = TupleLessThan if descending else TupleGreaterThan
    return qs.filter(lookup(Tuple(*[F(n) for n in names]), tuple(values)))


def cursor_of(obj: Any, qs: QuerySet) -> str:
    names, _desc = _ordering(qs)
    return encode_cursor([_value_of(obj, n) for n in names])


_ROWS = re.compile(r"rows=(\d+)")
_COST = re.compile(r"cost=[\d.]+\.\.([\d.]+)")


def estimated_count(qs: QuerySet) -> int:
    """The planner's row estimate for `qs` (PostgreSQL; one EXPLAIN, no scan)."""
    return _estimate(qs)[0]


def _estimate(qs: QuerySet) -> tuple[int, float]:
    """(rows, total cost) of `qs` by the planner (one EXPLAIN, no scan)."""
    with connections[qs.db].cursor() as cursor:
        sql, params = qs.order_by().values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        first = cursor.fetchone()[0]
    rows, cost = _ROWS.search(first), _COST.search(first)
    return (int(rows.group(1)) if rows else 0), (float(cost.group(1)) if cost else 0.0)


# Below this many rows (by the planner's estimate) an exact COUNT is cheap, so the list says the exact figure...
EXACT_COUNT_BELOW = 10_000
# ...unless the planner prices the count above this (its units are roughly pages read): a few rows can cost
# many, e.g. a district's 王 (6,600 at 1,500,000 teachers) are found among the city's 34,000 in the name
# index, 0.3 s to count exactly. A count of a few thousand rows by an index costs a few hundred.
EXACT_COUNT_COST_BELOW = 5_000.0


def list_count(qs: QuerySet) -> tuple[int, bool]:
    """(count, is_estimate): exact on SQLite (small deployments) and for small lists that are cheap to count;
    otherwise on PostgreSQL the planner's estimate, and the caller says it is one."""
    if connections[qs.db].vendor != "postgresql":
        return qs.order_by().count(), False
    try:
        estimate, cost = _estimate(qs)
    except EmptyResultSet:  # a filter that can match nothing (e.g. an id beyond the column's range)
        return 0, False
    if estimate < EXACT_COUNT_BELOW and cost < EXACT_COUNT_COST_BELOW:
        return qs.order_by().count(), False
    return estimate, True


def capped_count(qs: QuerySet, cap: int) -> tuple[int, bool]:
    """(count, more): exact up to `cap`, then `cap` and more=True ("1000+"). Reads at most cap + 1 rows,
    where an exact COUNT over a city's scoped join reads every one of them."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


@dataclass
class KeysetPage:
    """One page of a browser list: iterate it; `next_cursor` is None on the last page."""

    object_list: list[Any]
    next_cursor: str | None
    cursor: str | None
    count: int
    count_is_estimate: bool

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return bool(self.cursor)


def keyset_page(qs: QuerySet, cursor: str | None, size: int, *, count: bool = True) -> KeysetPage:
    """A page of `qs` after `cursor` (None: the first page). A malformed cursor starts at the first page."""
    try:
        ordered = after(qs, cursor)
    except BadCursor:
        cursor, ordered = None, after(qs, None)
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    total, estimate = (0, False)
    if count:
        total, estimate = list_count(qs)
    return KeysetPage(
        object_list=rows,
        next_cursor=cursor_of(rows[-1], qs) if more else None,
        cursor=cursor,
        count=total,
        count_is_estimate=estimate,
    )


class KeysetPagination(BasePagination):
    """DRF pagination over the view's `order_by(...)`: `{"count", "count_is_estimate", "next", "previous", "results"}`.

    `next` carries `?cursor=`; `previous` is the first page's address when on a later page (keyset
    walks forward; to go back, start again). `page_size` up to 200 may be asked for.
    """

    page_size = 50
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = request.query_params.get("page_size", "")
        self.size = min(int(size), self.max_page_size) if size.isdigit() and int(size) > 0 else self.page_size
        cursor = request.query_params.get(CURSOR_PARAM) or None
        try:
            ordered = after(queryset, cursor)
        except BadCursor:
            raise ValidationError({CURSOR_PARAM: ["Invalid cursor."]}) from None
        rows = list(ordered[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        self.cursor = cursor
        self.next_cursor = cursor_of(rows[-1], queryset) if more else None
        self.count, self.count_is_estimate = list_count(queryset)
        return rows

    def get_next_link(self):
        if self.next_cursor is None:
            return None
        return replace_query_param(self.base_url, CURSOR_PARAM, self.next_cursor)

    def get_previous_link(self):
        return remove_query_param(self.base_url, CURSOR_PARAM) if self.cursor else None

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_is_estimate", self.count_is_estimate),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "results"],
            "properties": {
                "count": {"type": "integer", "description": "exact, or the planner's estimate when count_is_estimate"},
                "count_is_estimate": {"type": "boolean"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "the first page"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": CURSOR_PARAM, "required": False, "in": "query", "schema": {"type": "string"}},
            {"name": "page_size", "required": False, "in": "query", "schema": {"type": "integer", "maximum": 200}},
        ]

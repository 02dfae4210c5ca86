"""API plumbing shared by every app: error shapes and the active role."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.fields import SkipField
from rest_framework.parsers import JSONParser
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import NotFound, ServiceUnavailable, StateConflict

MAX_JSON_DEPTH = 32


def _too_deep(value, limit: int) -> bool:
    """Whether `value` nests more than `limit` arrays/objects (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Any
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class ObjectJSONParser(JSONParser):
    """JSON bodies as every endpoint of this API expects them: one object, at most 32 levels deep.

    A body that is an array, a string, a number or null reached views as something without
    `.get()`, and 5,000 nested arrays exhausted the decoder's recursion: both were 500s. Here
    they are 400s saying what the body must be, for every view at once.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON 请求体嵌套过深（最多 %(n)s 层）。") % {"n": MAX_JSON_DEPTH}) from exc
        if not isinstance(data, dict):
            kind = type(data).__name__ if data is not None else "null"
            raise ParseError(_("请求体必须是 JSON 对象（{...}），收到的是 %(kind)s。") % {"kind": kind})
        if _too_deep(data, MAX_JSON_DEPTH):
            raise ParseError(_("JSON 请求体嵌套过深（最多 %(n)s 层）。") % {"n": MAX_JSON_DEPTH})
        return data


def query_int(request, name: str, *, default: int | None = None, min_value: int = 0, max_value: int = 2**31 - 1):
    """An integer query parameter, or `default` when absent; anything else is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    field = serializers.IntegerField(min_value=min_value, max_value=max_value)
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from exc


def exception_handler(exc, context):
    """Turn model/service validation errors into 400 with field messages, never 500."""
    if isinstance(exc, NotFound):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DataError | OverflowError):
        # The database refused a value (out of range, too long, a NUL byte on PostgreSQL): the
        # request's input was wrong, not the server.
        return Response({"non_field_errors": [_("请求中有超出范围或格式不正确的值。")]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StateConflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    unavailable = service_unavailable_message(exc)
    if unavailable is not None:
        return Response({"detail": unavailable}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "30"})
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            if "__all__" in detail:
                detail["non_field_errors"] = detail.pop("__all__")
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def service_unavailable_message(exc: BaseException | None) -> str | None:
    """The message for a 503 when `exc` means a service is down (queue or database), else None."""
    from django.db import InterfaceError, OperationalError
    from django.utils.translation import gettext as _

    if isinstance(exc, ServiceUnavailable):
        return exc.message
    if isinstance(exc, (OperationalError, InterfaceError)):
        return _("数据库暂时不可用，请稍后重试。")
    return None


class CachedFields:
    """ModelSerializer mixin: the fields are built from the model once per serializer class, and each instance
    gets a deep copy of them, as DRF already gives each instance a deep copy of the declared fields.

    DRF builds every model field's serializer field again for each serializer it creates (looking up the
    model field, its validators, its label): on a create+submit that was the request's four serializers
    (input, declaration, evidence, events) at 1.9 ms of its 15.7 ms of Python; the copies take 0.7 ms.
    Only for serializers whose fields depend on nothing but their class (not on the instance, the context
    or the request); labels and messages stay lazy, translated when shown, so one cache serves every language.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_cached_fields")  # the class's own: a subclass builds its own fields
        if built is None:
            built = super().get_fields()
            cls._cached_fields = built
        return copy.deepcopy(built)


class PlainRows:
    """Serializer mixin for list rows: a field whose source is a chain of forward relations ending in a concrete
    model field is read with plain `getattr`, then shaped by the field's own `to_representation`; any other field
    (a method, a nested serializer, a relation's pk), and any row where the chain meets None or a missing row,
    goes DRF's generic way. The output is DRF's own (tests/hours/test_api_plain_rows.py); DRF's generic walk (a
    Mapping check and a callable check per step, a generator per row) was half the cost of serialising 50
    declarations."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_plain_rows_plan")
        if plan is None:
            plan = self._plain_rows_plan = [(f.field_name, f, _plain_source(self, f)) for f in self._readable_fields]
        ret = {}
        for name, field, attrs in plan:
            if attrs is not None:
                value = instance
                try:
                    for attr in attrs[:-1]:
                        value = getattr(value, attr)
                        if value is None:
                            break  # DRF's generic way decides (None, the default, or the field left out)
                    else:
                        value = getattr(value, attrs[-1])
                        ret[name] = None if value is None else field.to_representation(value)
                        continue
                except ObjectDoesNotExist:
                    pass
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check is None else field.to_representation(attribute)
        return ret


def _plain_source(serializer, field) -> tuple[str, ...] | None:
    """The field's source attributes when every step is a forward relation and the last a concrete non-relation
    field of the model (nothing callable on the way); else None."""
    from django.db import models

    if isinstance(field, (serializers.BaseSerializer, serializers.RelatedField, serializers.SerializerMethodField)):
        return None
    attrs = tuple(getattr(field, "source_attrs", ()) or ())
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if not attrs or model is None:
        return None
    for i, attr in enumerate(attrs):
        try:
            f = model._meta.get_field(attr)
        except Exception:
            return None
        last = i == len(attrs) - 1
        if last:
            if not f.concrete or f.is_relation or getattr(f, "attname", None) != attr:
                return None
        elif isinstance(f, (models.ForeignKey, models.OneToOneField)) and not f.auto_created:
            model = f.related_model
        else:
            return None
    return attrs

"""`get_FOO_display()` without translating every label of the field.

Django's `Model._get_FIELD_display` builds `dict(make_hashable(field.flatchoices))` on each call, and
hashing a `(value, label)` pair hashes the lazy label, which translates it: a teacher's subject label
cost some 30 gettext calls, and the roster's 25 rows × 3 labels about a fifth of the page's time. The
replacement keys the dict by the values alone and translates only the label it returns, in the
language active at the call, as Django's does; the value when it is not a choice, as Django's does.
The value → label dict is built once per field (a model field's choices are a fixed list; a callable's
are read each time, as Django reads them): building it per call was ~100 Python calls a label.
"""

from __future__ import annotations

from functools import partialmethod

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

# {id(field): (its choices, {value: label})}: the labels stay lazy (translated when shown), so the dict of a
# field's fixed choices is built once, not per row (a page of 20 declarations showed 40 labels).
_LABELS: dict[int, tuple[object, dict]] = {}


def _labels_of(field: models.Field) -> dict:
    choices = field.choices
    cached = _LABELS.get(id(field))
    if cached is not None and cached[0] is choices:
        return cached[1]
    labels = {make_hashable(choice): label for choice, label in field.flatchoices}
    if isinstance(choices, (list, tuple)):  # fixed choices (callable ones are read afresh, as Django does)
        _LABELS[id(field)] = (choices, labels)
    return labels


def choice_display(instance: models.Model, field: models.Field) -> str:
    value = getattr(instance, field.attname)
    labels = _labels_of(field)
    try:
        label = labels.get(value, value)
    except TypeError:  # an unhashable value (a JSON field's list): Django's way
        label = labels.get(make_hashable(value), value)
    return force_str(label, strings_only=True)


def page_display(model: type[models.Model], name: str):
    """`instance.get_<name>_display()` for the rows of one page, each label translated once a page (a
    translation is ~40 Python calls; a page of 50 rows shows a handful of labels). Build one per request:
    the labels are in the language active when they are first shown."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a field with choices")
    shown: dict = {}

    def display(instance: models.Model) -> str:
        value = getattr(instance, field.attname)
        try:
            return shown[value]
        except KeyError:
            label = shown[value] = choice_display(instance, field)
            return label
        except TypeError:
            return choice_display(instance, field)

    return display


def install(all_models) -> None:
    """Point every model's Django-made `get_FOO_display` at `choice_display` (a model's own
    `get_FOO_display` stays). Call once the models are loaded (AppConfig.ready): Django binds the
    method per field when the model class is built, so patching `Model` afterwards would not reach it."""
    for model in all_models:
        for field in model._meta.get_fields(include_parents=False):
            if not getattr(field, "choices", None) or not getattr(field, "concrete", False):
                continue
            name = f"get_{field.name}_display"
            made = model.__dict__.get(name)
            if isinstance(made, partialmethod) and made.func is models.Model._get_FIELD_display:  # type: ignore[attr-defined]
                setattr(model, name, partialmethod(choice_display, field=field))

"""Declaration.state_fields is what django-fsm's ConcurrentTransitionMixin finds itself (every FSM field of the
model), without testing every field on each instance made; the stale-state check still refuses a save."""

from __future__ import annotations

import pytest
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin

from hours.models import Declaration, DeclarationState

from .conftest import declare


def test_the_state_fields_are_the_mixins():
    d = Declaration()
    assert list(d.state_fields) == list(ConcurrentTransitionMixin.state_fields.fget(d))


def test_a_declaration_changed_meanwhile_is_not_saved_over(world, in_year, private_media):
    made = declare(world, "teacher_a1", state="submitted")
    stale = Declaration.objects.get(pk=made.pk)
    Declaration.objects.filter(pk=made.pk).update(state=DeclarationState.RETURNED)
    stale.last_reason = "x"
    with pytest.raises(ConcurrentTransition):
        stale.save()

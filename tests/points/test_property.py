"""Random sequences of earning, requesting, confirming, cancelling, refusing and expiring, for two
teachers of two schools: the points ledger never disagrees with itself or with the hours ledger."""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from cpd.errors import StateConflict
from hours.models import LedgerEntry, Source
from points import services
from points.models import CAP_HOURS, EarningRule, ExchangeRequest, ExchangeWindow, PointsAccount, PointsEntry, RequestState

from .conftest import YEAR, at

TEACHERS = {"teacher_a1": "school_a1_admin", "teacher_a2": "school_a2_admin"}
_events = itertools.count(1)


class PointsMachine(RuleBasedStateMachine):
    """Each example runs in a savepoint rolled back at its end, on top of the test's `world`."""

    requests = Bundle("requests")

    def __init__(self, world):
        super().__init__()
        self.world = world
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        # The model: what each teacher should see.
        self.balance = dict.fromkeys(TEACHERS, 0)
        self.pending: dict[int, tuple[str, int]] = {}  # request id -> (teacher persona, points)
        self.state: dict[int, str] = {}
        self.paid_hours: dict[str, dict[str, int]] = {p: defaultdict(int) for p in TEACHERS}
        self.used: dict[str, dict[str, int]] = {p: defaultdict(int) for p in TEACHERS}  # pending + paid
        self.owner: dict[int, str] = {}
        self.category: dict[int, tuple[str, int]] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _as(self, persona):
        role = self.world.roles[persona]
        return {"role": role, "actor": role.user}

    # --- rules ---------------------------------------------------------------------------------------

    @rule(persona=st.sampled_from(list(TEACHERS)), points=st.sampled_from([20, 50, 100, 300]))
    def earn(self, persona, points):
        event = services.points_earn(
            event_id=f"prop-{next(_events)}",
            teacher_key=self.world.teachers[persona].cpd_number,
            action_code=f"r{points}",
            occurred_on=datetime.date(YEAR, 6, 15),
        )
        assert event.status == "accepted", event.reason
        self.balance[persona] += points

    @rule(
        target=requests,
        persona=st.sampled_from(list(TEACHERS)),
        category=st.sampled_from(list(CAP_HOURS)),
        hours=st.integers(1, 4),
    )
    def request(self, persona, category, hours):
        fits = self.used[persona][category] + hours <= CAP_HOURS[category] and hours * 100 <= self.balance[persona]
        try:
            req = services.exchange_request(**self._as(persona), category=category, hours=hours)
        except ValidationError:
            assert not fits, "a request within the balance and the cap was refused"
            return multiple()
        assert fits, "a request over the balance or the cap was accepted"
        self.balance[persona] -= req.points
        self.used[persona][category] += hours
        self.pending[req.pk] = (persona, req.points)
        self.state[req.pk] = RequestState.PENDING
        self.owner[req.pk] = persona
        self.category[req.pk] = (category, hours)
        return req.pk

    @rule(pk=requests)
    def confirm(self, pk):
        school = TEACHERS[self.owner[pk]]
        result = services.exchange_confirm_paid(**self._as(school), request_ids=[pk])
        if pk in self.pending:
            assert result["confirmed"] == [pk], result
            persona, _points = self.pending.pop(pk)
            category, hours = self.category[pk]
            self.paid_hours[persona][category] += hours
            self.state[pk] = RequestState.PAID
        else:
            assert result["confirmed"] == [] and [f["id"] for f in result["failed"]] == [pk]

    def _release(self, pk, call, new_state):
        was_pending = pk in self.pending
        try:
            call()
        except StateConflict:
            assert not was_pending
            return
        assert was_pending
        persona, points = self.pending.pop(pk)
        category, hours = self.category[pk]
        self.balance[persona] += points
        self.used[persona][category] -= hours
        self.state[pk] = new_state

    @rule(pk=requests)
    def cancel(self, pk):
        persona = self.owner[pk]
        req = ExchangeRequest.objects.get(pk=pk)
        self._release(pk, lambda: services.exchange_cancel(**self._as(persona), request=req), RequestState.CANCELLED)

    @rule(pk=requests, reason=st.sampled_from(["名额已满", "资料不全"]))
    def refuse(self, pk, reason):
        school = TEACHERS[self.owner[pk]]
        req = ExchangeRequest.objects.get(pk=pk)
        self._release(pk, lambda: services.exchange_refuse(**self._as(school), request=req, reason=reason), RequestState.REFUSED)

    @rule()
    def expire(self):
        services.points_expire_year(YEAR)
        for pk, (persona, _points) in list(self.pending.items()):
            category, hours = self.category[pk]
            self.used[persona][category] -= hours
            self.state[pk] = RequestState.CANCELLED
            del self.pending[pk]
        self.balance = dict.fromkeys(TEACHERS, 0)
        # A second run is the same as one: no new entry, no changed balance.
        entries = PointsEntry.objects.count()
        accounts = sorted(PointsAccount.objects.values_list("pk", "balance", "held"))
        assert services.points_expire_year(YEAR) == {"cancelled": 0, "expired_accounts": 0}
        assert PointsEntry.objects.count() == entries
        assert sorted(PointsAccount.objects.values_list("pk", "balance", "held")) == accounts

    # --- invariants ------------------------------------------------------------------------------------

    @invariant()
    def ledgers_agree(self):
        for persona in TEACHERS:
            teacher = self.world.teachers[persona]
            acc = PointsAccount.objects.filter(teacher=teacher, year=YEAR).first()
            balance, held = (acc.balance, acc.held) if acc else (0, 0)
            deltas = PointsEntry.objects.filter(account__teacher=teacher, account__year=YEAR).aggregate(s=Sum("delta"))["s"] or 0
            pending = (
                ExchangeRequest.objects.filter(teacher=teacher, state=RequestState.PENDING).aggregate(s=Sum("points"))["s"] or 0
            )
            assert balance >= 0
            assert balance == deltas == self.balance[persona]
            assert held == pending == sum(p for who, p in self.pending.values() if who == persona)
            hours = dict(
                LedgerEntry.objects.filter(teacher=teacher, source=Source.POINTS_EXCHANGE)
                .values("category")
                .annotate(h=Sum("hours"))
                .values_list("category", "h")
            )
            assert {c: int(h) for c, h in hours.items()} == {c: h for c, h in self.paid_hours[persona].items() if h}
            paid = ExchangeRequest.objects.filter(teacher=teacher, state=RequestState.PAID).aggregate(h=Sum("hours"))["h"] or 0
            assert paid == sum(self.paid_hours[persona].values())

    @invariant()
    def request_states_agree(self):
        if self.state:
            assert dict(ExchangeRequest.objects.filter(pk__in=self.state).values_list("pk", "state")) == self.state


@pytest.mark.django_db
def test_random_sequences_keep_the_points_and_hours_ledgers_consistent(world):
    with at(datetime.date(YEAR, 6, 15)):
        ExchangeWindow.objects.create(year=YEAR, opens_on=datetime.date(YEAR, 3, 1), closes_on=datetime.date(YEAR, 11, 30))
        for points in (20, 50, 100, 300):
            EarningRule.objects.create(action_code=f"r{points}", name=f"{points}分行为", points=points)
        run_state_machine_as_test(
            lambda: PointsMachine(world),
            settings=settings(
                max_examples=30,
                stateful_step_count=20,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            ),
        )

"""The annual rule (SPEC §5) in plain Python: the reference the engine's SQL (`engine._rule_sql`) is
property-tested against (tests/verification/test_rule_reference.py), and what the open year's pages use
to say what is still missing.

    professional = carry_in + professional_own            (carried-in hours are used first)
    total        = public + professional + elective
    passed       = every category and the total reach the year's minimums (exempt: not judged)
    excess       = professional - min_professional                                   (2022 rule)
    excess       = min(professional - min_professional, total - min_total)           (2019 rule)
    carry_out    = max(0, min(professional_own, excess)) if passed else 0            (none: 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hours.ledger import YearFigures

from .models import CarryRule, ResultStatus, YearPolicy

ZERO = Decimal("0")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Minimums:
    """A year's minimums and carry-over rule, as plain values (a `YearPolicy` gives them with `of`)."""

    public: Decimal
    professional: Decimal
    elective: Decimal
    total: Decimal
    carry_rule: str = CarryRule.RULE_2022

    @classmethod
    def of(cls, policy: YearPolicy | Minimums) -> Minimums:
        if isinstance(policy, Minimums):
            return policy
        return cls(
            public=policy.min_public,
            professional=policy.min_professional,
            elective=policy.min_elective,
            total=policy.min_total,
            carry_rule=policy.carry_rule,
        )

    def as_dict(self) -> dict[str, Decimal]:
        return {"public": self.public, "professional": self.professional, "elective": self.elective, "total": self.total}


@dataclass(frozen=True)
class Judgement:
    status: str  # a ResultStatus value
    short_public: Decimal
    short_professional: Decimal
    short_elective: Decimal
    short_total: Decimal
    carry_out: Decimal

    @property
    def passed(self) -> bool:
        return self.status == ResultStatus.PASSED

    @property
    def shortfall(self) -> dict[str, Decimal]:
        """{public, professional, elective, total: hours still missing} (zero where met)."""
        return {
            "public": self.short_public,
            "professional": self.short_professional,
            "elective": self.short_elective,
            "total": self.short_total,
        }

    @property
    def complete(self) -> bool:
        return not any(self.shortfall.values())


def _tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH)


def judge(*, figures: YearFigures, policy: YearPolicy | Minimums, exempt: bool = False) -> Judgement:
    """The verdict of SPEC §5 on one teacher's counted figures. An exempt teacher is not judged (status
    exempt, nothing carries) but the shortfalls are still stated, as the engine stores them."""
    m = Minimums.of(policy)
    professional, total = figures.professional, figures.total
    shorts = {
        "public": _tenth(max(ZERO, m.public - figures.public)),
        "professional": _tenth(max(ZERO, m.professional - professional)),
        "elective": _tenth(max(ZERO, m.elective - figures.elective)),
        "total": _tenth(max(ZERO, m.total - total)),
    }
    if exempt:
        status = ResultStatus.EXEMPT
    elif not any(shorts.values()):
        status = ResultStatus.PASSED
    else:
        status = ResultStatus.FAILED
    carry_out = ZERO
    if status == ResultStatus.PASSED and m.carry_rule != CarryRule.NONE:
        excess = professional - m.professional
        if m.carry_rule == CarryRule.RULE_2019:
            excess = min(excess, total - m.total)
        carry_out = _tenth(max(ZERO, min(figures.professional_own, excess)))
    return Judgement(
        status=str(status),
        short_public=shorts["public"],
        short_professional=shorts["professional"],
        short_elective=shorts["elective"],
        short_total=shorts["total"],
        carry_out=carry_out,
    )

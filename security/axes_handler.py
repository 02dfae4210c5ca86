"""django-axes handler with its own limit per lockout parameter.

Axes counts failures per parameter (here: per username across addresses, and per address
across usernames) but compares all of them with one AXES_FAILURE_LIMIT. A school's teachers
share one NAT address, so the address may fail more often than one username before it is
locked: its count is scaled so that CPD_LOGIN_IP_FAILURE_LIMIT failures reach the limit.
"""

from __future__ import annotations

from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from django.db.models import Sum


class PerParameterLimitHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        limit = settings.AXES_FAILURE_LIMIT
        worst = 0
        attempts_list = self.get_user_attempts(request, credentials)
        for parameter, attempts in zip(settings.AXES_LOCKOUT_PARAMETERS, attempts_list, strict=False):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == "ip_address":
                count = count * limit // max(settings.CPD_LOGIN_IP_FAILURE_LIMIT, 1)
            worst = max(worst, count)
        return worst

"""The personal iCalendar feed: the deadlines of every role the user holds, as all-day events."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event

from accounts.selectors import roles_of

from . import deadlines


def feed(user, today: datetime.date | None = None) -> bytes:
    today = today or timezone.localdate()
    cal = Calendar()
    cal.add("prodid", "-//cpd//deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "继续教育截止日期")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    seen: set[str] = set()
    for role in roles_of(user):
        for d in deadlines.deadlines_for(role, [today.year - 1, today.year, today.year + 1]):
            if d.key in seen:
                continue
            seen.add(d.key)
            event = Event()
            event.add("uid", f"{d.key}@cpd")
            event.add("summary", d.label + (f" · {d.detail}" if d.detail else ""))
            event.add("dtstart", d.date)
            event.add("dtend", d.date + datetime.timedelta(days=1))
            event.add("dtstamp", timezone.now())
            event.add("url", f"{settings.CPD_SITE_URL}/calendar/")
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", d.label)
            alarm.add("trigger", datetime.timedelta(days=-7))
            event.add_component(alarm)
            cal.add_component(event)
    return cal.to_ical()

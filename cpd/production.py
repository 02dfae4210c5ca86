"""What a production process refuses to start with (CPD_PRODUCTION=1).

The secret key is refused by the settings themselves (nothing can run with it). The demo platform
key and the demo users live in the database, so gunicorn (cpd/wsgi.py) and the Celery worker and
beat (cpd/celery.py) check them once at start: a database seeded by `seed_demo` is public
knowledge (the README prints its passwords and key) and must never serve real teachers.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The demo's platform key and logins (accounts/demo.py, hours/demo_projects.py, verification/cycle_demo.py),
# written out here so that this check does not depend on where the demo code lives.
DEMO_PLATFORM_KEY = "demo-online-platform-key-change-me"
DEMO_PASSWORD = "cpd-demo-2026"
DEMO_USERNAMES = (
    "city",
    "district",
    "citycentre",
    "school",
    "principal",
    "provider",
    "teacher",
    "newteacher",
    "multi",
    "province",
    "county",
    "done",
    "behind",
)


def unsafe_start_reasons() -> list[str]:
    """Why this deployment must not serve, if it is a production one; [] when it may."""
    if not settings.PRODUCTION:
        return []
    from accounts.models import User
    from cpd.models import PlatformClient

    reasons = []
    if PlatformClient.objects.filter(key_hash=hashlib.sha256(DEMO_PLATFORM_KEY.encode()).hexdigest(), is_active=True).exists():
        reasons.append("the demo online-platform key is active (deactivate or delete that PlatformClient)")
    # Only users that exist under a demo name are hashed, so a clean database costs one query.
    demo_users = [
        u.username for u in User.objects.filter(username__in=DEMO_USERNAMES, is_active=True) if u.check_password(DEMO_PASSWORD)
    ]
    if demo_users:
        reasons.append(f"demo users with the demo password are active: {', '.join(sorted(demo_users))}")
    return reasons


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured (the process exits) when `unsafe_start_reasons` finds anything."""
    reasons = unsafe_start_reasons()
    if reasons:
        raise ImproperlyConfigured("CPD_PRODUCTION=1 refuses to start: " + "; ".join(reasons))

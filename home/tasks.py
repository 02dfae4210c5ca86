from celery import shared_task


@shared_task(name="home.tasks.send_reminders")
def send_reminders() -> dict[str, int]:
    """Celery beat, daily: the day's deadline reminders (idempotent per person, deadline and offset)."""
    from django.utils import timezone

    from .reminders import send_reminders as run

    return run(today=timezone.localdate())


@shared_task(name="home.tasks.refresh_behind")
def refresh_behind() -> int:
    """Celery beat, hourly: each school's count of teachers short of the open year's minimums (the area
    levels of "who is behind" read these; see home.behind)."""
    from .behind import behind_refresh

    return behind_refresh()

from celery import shared_task


@shared_task(name="home.tasks.send_reminders")
def send_reminders() -> dict[str, int]:
    """Celery beat, daily: the day's deadline reminders (idempotent per person, deadline and offset)."""
    from django.utils import timezone

    from .reminders import send_reminders as run

    return run(today=timezone.localdate())

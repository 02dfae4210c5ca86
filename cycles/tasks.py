from celery import shared_task

from . import rules


@shared_task(name="cycles.tasks.open_due_cycles")
def open_due_cycles() -> int:
    """Daily: open the current cycle of every active teacher who has none stored (new teachers, ended cycles)."""
    return rules.cycles_open_due()


@shared_task(name="cycles.tasks.refresh_cycle_counts")
def refresh_cycle_counts() -> int:
    """Hourly: store each school's cycle statistics (the district's and the city's statistics sum them)."""
    return rules.cycle_counts_refresh()

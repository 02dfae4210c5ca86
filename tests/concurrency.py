"""Running calls at the same moment, each in its own thread and database connection (PostgreSQL tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(calls: list[Callable[[], object]], *, timeout: float = 60) -> list[object]:
    """Run each callable in its own thread and connection, all released at once; their outcomes in order
    (a return value, or the exception raised)."""
    barrier = threading.Barrier(len(calls))
    outcomes: dict[int, object] = {}

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as exc:  # the test inspects whatever each thread got
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (lock never released?)"
    return [outcomes[i] for i in range(len(calls))]

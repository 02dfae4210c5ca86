"""Fixtures for the operations tests: a broker on a closed port, a database that is down."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError, connections
from kombu import pools

from cpd.celery import app

CELERY_KEYS = ("broker_url", "result_backend", "task_always_eager")


def closed_port() -> int:
    """A local port nothing listens on (bound, read and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def forget_celery_connections() -> None:
    """The broker pool and the result backend are built on first use; drop them so new URLs apply."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    # kombu keeps producer pools per connection URL for the process: a later test on the same URL would
    # get the pool closed above ("Acquire on closed pool").
    pools.reset()


class Broker:
    """The task queue as the code sees it: `down()` points Celery at a closed port, `up()` brings it back
    (tasks run in-process again, as they do when no broker is configured)."""

    def __init__(self, settings):
        self.settings = settings
        self.saved = {key: app.conf[key] for key in CELERY_KEYS}

    def down(self) -> None:
        url = f"redis://127.0.0.1:{closed_port()}/0"
        forget_celery_connections()
        app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
        self.settings.CELERY_TASK_ALWAYS_EAGER = False

    def up(self) -> None:
        forget_celery_connections()
        app.conf.update(self.saved)
        self.settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def broker(settings):
    b = Broker(settings)
    yield b
    b.up()


class Database:
    """The default database as the code sees it: `down()` makes every query fail to connect, `up()` restores it.

    PostgreSQL: the connection is closed and pointed at a closed port (a real refused connection).
    SQLite's in-memory test database cannot be disconnected, so its cursors raise what the driver
    raises when the file cannot be opened.
    """

    def __init__(self):
        self.connection = connections["default"]
        self.saved = dict(self.connection.settings_dict)

    def down(self) -> None:
        if self.connection.vendor == "sqlite":

            def unreachable(*args, **kwargs):
                raise OperationalError("unable to open database file")

            self.connection._cursor = unreachable
        else:
            self.connection.close()
            self.connection.settings_dict["HOST"] = "127.0.0.1"
            self.connection.settings_dict["PORT"] = str(closed_port())

    def up(self) -> None:
        self.connection.__dict__.pop("_cursor", None)
        if self.connection.vendor != "sqlite":
            self.connection.close()
            self.connection.settings_dict.update(self.saved)


@pytest.fixture
def committed_db(transactional_db):
    """Real commits (so `on_commit` hooks run, as in a request), with the rows the migrations seed (year
    policies) put back first: an earlier transactional test's flush removed them. (serialized_rollback
    cannot do it here: after the browser journeys the test thread has another connection object,
    without the serialized copy.)"""
    import importlib

    from django.apps import apps

    importlib.import_module("verification.migrations.0002_seed_policies").seed(apps, None)


@pytest.fixture
def database(committed_db):
    d = Database()
    yield d
    d.up()

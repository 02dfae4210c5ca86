"""A real Celery worker consumes from Redis and stores results (the production shape)."""

from __future__ import annotations

import os

import pytest
from celery.contrib.testing.worker import start_worker

from cpd.celery import app, ping

SETTINGS = ("broker_url", "result_backend", "task_always_eager")


def _forget_connections() -> None:
    """The broker pool and the result backend are built on first use; drop them so new URLs apply."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_app():
    url = os.environ["REDIS_URL"]
    saved = {key: app.conf[key] for key in SETTINGS}
    _forget_connections()
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    try:
        yield app
    finally:
        _forget_connections()
        app.conf.update(saved)


@pytest.mark.redis
def test_worker_answers_ping_through_redis(redis_app):
    with start_worker(redis_app, perform_ping_check=False):
        result = ping.delay()
        assert result.get(timeout=20) == "pong"
        assert result.successful()

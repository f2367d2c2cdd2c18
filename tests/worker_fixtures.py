"""A real Celery worker for the tests marked ``worker`` (imported by tests/conftest.py).

Every other test runs tasks eagerly. ``celery_worker_process`` starts one
``celery worker`` per pytest process, on this process's test database and on a
queue of its own, so that xdist workers sharing one Redis never take each
other's tasks; ``live_celery_worker`` turns eager mode off for one test, so that
``.delay()`` goes through Redis to that worker as it does in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds; a cold start imports every app on a busy 2-core machine
STOP_TIMEOUT = 20  # seconds for a warm shutdown (the solo pool finishes its task first)
IDLE_TIMEOUT = 30  # seconds for the task in hand to end before the database is flushed


@dataclass(frozen=True)
class CeleryWorker:
    queue: str
    nodename: str
    log_path: Path

    def log(self) -> str:
        """What the worker printed so far (its INFO log: tasks received, failures)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _test_database_url() -> str:
    """DATABASE_URL with its database replaced by the test database pytest-django made.

    The name differs per xdist worker (test_portal_ci_gw0, …), so each Celery
    worker sees exactly the rows its own tests committed.
    """
    url = urlsplit(os.environ["DATABASE_URL"])  # read_env copies a .env value here too
    return url._replace(path="/" + connection.settings_dict["NAME"]).geturl()


def _require_services() -> None:
    # Session fixtures run before the per-test service check in conftest: a
    # missing service is reported here, plainly, rather than as a worker that
    # never came up.
    if not settings.IS_POSTGRES:
        pytest.fail("a Celery worker test needs PostgreSQL: set DATABASE_URL=postgres://…")
    if not settings.REDIS_URL:
        pytest.fail("a Celery worker test needs Redis: set REDIS_URL=redis://…")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        problem = str(exc)
    else:
        return
    pytest.fail(f"Redis at REDIS_URL does not answer: {problem}")


def worker_start(
    *, queue: str, log_path: Path, nodename: str | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, CeleryWorker]:
    """Start ``celery -A config worker --pool=solo`` on ``queue``; returns once it answers a ping.

    ``env`` adds to the worker's environment (a broker of the test's own, a
    shorter lease). The caller stops it (``worker_stop``), or kills it.
    """
    from config.celery import app

    nodename = nodename or f"{queue}@{socket.gethostname()}"
    environment = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        # No -Q below: the worker consumes its default queue, so this test also
        # proves that the setting is read.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        "-n",
        nodename,
    ]
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    worker = CeleryWorker(queue=queue, nodename=nodename, log_path=log_path)
    own_broker = "CELERY_BROKER_URL" in (env or {})
    deadline = time.monotonic() + START_TIMEOUT

    def ready() -> bool:
        if own_broker:  # the control messages would go out through this app's broker
            time.sleep(0.2)
            return f"{nodename} ready." in worker.log()
        return bool(app.control.ping(destination=[nodename], timeout=0.5))

    try:
        while not ready():
            if process.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with status {process.returncode}:\n{worker.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker was not ready within {START_TIMEOUT} s:\n{worker.log()}"
                )
    except BaseException:
        worker_stop(process)
        raise
    return process, worker


def worker_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def queue_purge(queue: str, broker: str | None = None) -> None:
    """Drop the tasks a killed run left in ``queue``."""
    from config.celery import app

    with app.connection_for_write(broker) as conn:
        conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    """``celery -A config worker`` in a subprocess, answering pings; stopped at session end.

    Depends on django_db_setup so that it stops before the test database is
    dropped (a connected worker would block the DROP DATABASE).
    """
    _require_services()
    # Named after the test database: one queue per pytest process, the same on
    # every run, so that a killed run leaves nothing that piles up in Redis.
    queue = f"portal-test.{connection.settings_dict['NAME']}"
    queue_purge(queue)
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    process, worker = worker_start(queue=queue, log_path=log_path)
    try:
        yield worker
    finally:
        worker_stop(process)


@pytest.fixture
def live_celery_worker(celery_worker_process):
    """Send this test's tasks through Redis to the real worker instead of running them eagerly.

    The test needs ``django_db(transaction=True)``: the worker is another
    process and sees only committed rows.
    """
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_default_queue)
    # The router reads the default queue at every send, so this takes effect at once.
    app.conf.task_always_eager = False
    app.conf.task_default_queue = celery_worker_process.queue
    try:
        yield celery_worker_process
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        worker_settle(celery_worker_process)


def worker_settle(worker: CeleryWorker, *, timeout: float = IDLE_TIMEOUT) -> bool:
    """Drop what is still queued for ``worker`` and wait for its task in hand to end.

    Before the test database is flushed: a task still writing would deadlock the
    flush's TRUNCATE. The solo pool answers a ping only between tasks, so an answer
    means idle. Returns whether it answered within ``timeout`` seconds.
    """
    from config.celery import app

    queue_purge(worker.queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[worker.nodename], timeout=1.0):
            return True
    return False

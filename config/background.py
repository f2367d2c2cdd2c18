"""Sending long Celery tasks, so that a page that starts one returns at once.

With a broker (``REDIS_URL``), ``send(task, *args)`` is ``task.delay(*args)``: a worker
runs it. On the embedded default (no broker, Celery eager) ``delay`` would run the task
inside the request that sent it, and the approving manager's page would freeze for the
whole rescore. There, ``send`` hands the task to one background thread of this process
instead, which runs what it is sent in order (``task.apply``, so retries and errors
behave as in eager mode) and closes its database connections after each task. The
page polls the job's progress row as it would with a worker.

The thread is not a daemon: a command that sent work exits only once it is done.
It stops after a second without work and starts again with the next task.
``EMBEDDED_BACKGROUND_TASKS=false`` (the test suite) runs sent tasks inline, as
plain eager Celery does; ``inline()`` does the same for one block (a command that
reports the result).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_IDLE_SECONDS = 1.0
_queue: queue.Queue = queue.Queue()
_lock = threading.Lock()
_worker: threading.Thread | None = None
_local = threading.local()


def _in_background() -> bool:
    return bool(
        settings.CELERY_TASK_ALWAYS_EAGER
        and settings.EMBEDDED_BACKGROUND_TASKS
        and not getattr(_local, "inline", False)
    )


def send(task, *args) -> None:
    """Queue ``task`` with ``args``: to the broker, or to the embedded background thread."""
    if not _in_background():
        task.delay(*args)
        return
    global _worker
    with _lock:
        _queue.put((task, args))
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="embedded-tasks", daemon=False)
            _worker.start()


def _run() -> None:
    global _worker
    while True:
        try:
            task, args = _queue.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                if _queue.empty():
                    _worker = None
                    return
            continue
        try:
            # apply() records a failure in the task's result instead of raising it;
            # the task's own handlers (a job marked failed) have already run.
            result = task.apply(args=args, throw=False)
            if result.failed():
                logger.error("background task %s%r failed: %s", task.name, args, result.result)
        except Exception:
            logger.exception("background task %s%r failed", task.name, args)
        finally:
            connections.close_all()
            _queue.task_done()


def wait_idle(timeout: float = 60.0) -> bool:
    """Block until every sent task has run (tests, shutdown); False on timeout."""
    done = threading.Event()

    def _join() -> None:
        _queue.join()
        done.set()

    threading.Thread(target=_join, daemon=True).start()
    return done.wait(timeout)


@contextmanager
def inline() -> Iterator[None]:
    """Within the block, this thread's sent tasks run inline (eager) as before."""
    previous = getattr(_local, "inline", False)
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = previous

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

``on_commit_once(kind, update)`` queues one callback of a kind per transaction: the
sends of many batches in one transaction share it (``update`` adds each batch's part).

``deliver(task, *args)`` is ``task.delay(*args)`` for the sends that follow a commit
(``send`` uses it too): when the broker cannot be reached it logs a warning and
returns False instead of raising. The work is in the database already (pending
rows, a job's chunks, a queued import), so the caller's answer must not change;
the beat sweeps (``scoring.tasks.rescore_sweep``, ``leads.tasks.import_jobs_sweep``)
find it again once the broker is back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.db import connections, transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# What a send raises when the broker is down or unreachable: kombu turns the
# transport's connection errors into its OperationalError once its publish
# retries are spent; a socket error may escape before that.
BROKER_ERRORS = (BrokerError, OSError)

_IDLE_SECONDS = 1.0

C = TypeVar("C", bound=Callable[[], object])


def on_commit_once(kind: type[C], update: Callable[[C], None] = lambda callback: None) -> None:
    """Run a ``kind()`` callback once the current transaction commits, one per transaction.

    A callback of that kind already waiting for this commit is reused; ``update`` is
    applied to it (or to the new one, before it is queued: outside a transaction
    ``on_commit`` runs it at once).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, kind):
                update(func)
                return
    callback = kind()
    update(callback)
    transaction.on_commit(callback)


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


def deliver(task, *args) -> bool:
    """``task.delay(*args)``; a broker that cannot be reached is logged, not raised.

    Returns whether the task was sent. Only broker errors are caught: in eager
    mode the task runs here, and its own errors propagate as before.
    """
    try:
        task.delay(*args)
    except BROKER_ERRORS as exc:
        logger.warning(
            "could not send %s%r to the broker (%s: %s); a sweep will find the work again",
            task.name,
            args,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def send(task, *args) -> bool:
    """Queue ``task`` with ``args``: to the broker, or to the embedded background thread.

    Returns False when the broker could not be reached (logged; see ``deliver``).
    """
    if not _in_background():
        return deliver(task, *args)
    global _worker
    with _lock:
        _queue.put((task, args))
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="embedded-tasks", daemon=False)
            _worker.start()
    return True


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

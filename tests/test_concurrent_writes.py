"""Eight integrations writing at once through the real API, on a real server.

The portal runs as ``make run`` runs it: ``manage.py runserver`` (one thread per
request) with Celery eager and the embedded background thread rescoring, on a
SQLite *file* (the embedded default) or, when DATABASE_URL is PostgreSQL, a
database of its own. Eight threads post event batches, single events, contact
upserts and intent signals that overlap (the same contacts, companies and
replayed ids), all at once. Every request must succeed and nothing may be stored
twice. A write that cannot get its lock within the timeout must be a 503 JSON
with Retry-After, never a 500: that is provoked by holding the lock from here.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8
ROUNDS = 18  # requests per thread: 144 in all, as in the issue
LOCK_TIMEOUT = 2  # seconds the server waits for a lock in the 503 test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Portal:
    url: str
    token: str
    database_url: str
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, body=None) -> tuple[int, dict, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept-Language": "en",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {"raw": raw[:300].decode(errors="replace")}
            return error.code, dict(error.headers), payload


def _postgres_database(base_url: str, name: str) -> str:
    """A fresh database beside the test database: the server must commit for real."""
    import psycopg

    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(database_url: str) -> None:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _running_portal(backend: str, tmp_path: Path, **extra_env: str) -> Iterator[Portal]:
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
        database_url = _postgres_database(
            os.environ["DATABASE_URL"], f"{settings.DATABASES['default']['NAME']}_live_{suffix}"
        )
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true", **extra_env}
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DB_LOCK_TIMEOUT"):
        if name not in extra_env:
            env.pop(name, None)  # the embedded default: eager Celery, the background thread
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    token = (
        subprocess.run(
            [*manage, "create_api_token", "concurrency"],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Portal(f"http://127.0.0.1:{port}", token, database_url, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(running.url + "/accounts/login/", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()[-3000:]) from None
                time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)
        if database_url.startswith("postgres"):
            _drop_postgres_database(database_url)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def portal(request, tmp_path) -> Iterator[Portal]:
    """The portal with its default lock timeout (SQLite 20 s; PostgreSQL waits)."""
    with _running_portal(request.param, tmp_path) as running:
        yield running


@pytest.fixture(params=BACKENDS)
def impatient_portal(request, tmp_path) -> Iterator[Portal]:
    """The portal giving up on a lock after LOCK_TIMEOUT seconds (DB_LOCK_TIMEOUT)."""
    with _running_portal(request.param, tmp_path, DB_LOCK_TIMEOUT=str(LOCK_TIMEOUT)) as running:
        yield running


def _count(portal: Portal, sql: str) -> int:
    if portal.database_url.startswith("sqlite"):
        connection = sqlite3.connect(portal.database_url.removeprefix("sqlite:///"))
        try:
            return connection.execute(sql).fetchone()[0]
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(portal.database_url) as connection:
        return connection.execute(sql).fetchone()[0]


WHEN = "2026-11-01T10:00:00+09:00"


def _work(thread: int, round_: int) -> tuple[str, str, dict]:
    """One request of one thread. Threads share contacts, companies and replayed ids."""
    shared = [f"shared{n}@c{n % 5}.example.jp" for n in range(10)]
    kind = round_ % 4
    if kind == 0:  # a batch over the shared contacts, replayed by every other thread
        key = round_ // 4 % 2
        events = [
            {
                "source": "ma-tool",
                "external_id": f"batch-{round_}-{key}-{n}",
                "kind": "page_view",
                "occurred_at": WHEN,
                "contact": {"email": email, "company": f"株式会社共有{n % 5}"},
            }
            for n, email in enumerate(shared)
        ]
        return "POST", "/api/v1/events", {"events": events}
    if kind == 1:  # one event of this thread's own, and one shared by all threads
        external = f"single-{thread}-{round_}" if thread % 2 else f"single-shared-{round_}"
        return (
            "POST",
            "/api/v1/event",
            {
                "source": "crm",
                "external_id": external,
                "kind": "form_submission",
                "occurred_at": WHEN,
                "contact": {"email": shared[(thread + round_) % 10]},
            },
        )
    if kind == 2:  # upserts of the same contacts from every thread
        contacts = [
            {"email": email, "name": f"担当{thread}", "company": {"domain": f"c{n % 5}.example.jp"}}
            for n, email in enumerate(shared[:5])
        ]
        contacts.append({"email": f"own{thread}-{round_}@t{thread}.example.jp"})
        return "POST", "/api/v1/contacts/batch", {"contacts": contacts}
    return (
        "POST",
        "/api/v1/intent-signals",
        {
            "company": {"domain": f"c{(thread + round_) % 5}.example.jp"},
            "topic": "CRM",
            "strength": 60,
            "observed_at": WHEN,
            "provider": "bombora",
            "external_id": f"sig-{round_}",  # the same signal from every thread
        },
    )


def test_eight_clients_writing_at_once_get_no_errors_and_store_nothing_twice(portal):
    barrier = threading.Barrier(THREADS)
    statuses: Counter[int] = Counter()
    created: Counter[str] = Counter()
    failures: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def client(thread: int) -> None:
        barrier.wait()
        for round_ in range(ROUNDS):
            method, path, payload = _work(thread, round_)
            status, _headers, body = portal.request(method, path, payload)
            with lock:
                statuses[status] += 1
                if status == 201:
                    created[path] += 1
                if status >= 300:
                    failures.append((status, body))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\n{portal.database_url.split(':')[0]}: {dict(statuses)} created: {dict(created)}")
    assert sum(statuses.values()) == THREADS * ROUNDS
    assert failures == [], (failures[:5], portal.log.read_text()[-3000:])

    # Nothing twice: each key once, whatever the interleaving.
    batches = {f"batch-{r}-{r // 4 % 2}-{n}" for r in range(0, ROUNDS, 4) for n in range(10)}
    singles = {
        f"single-{t}-{r}" if t % 2 else f"single-shared-{r}"
        for t in range(THREADS)
        for r in range(1, ROUNDS, 4)
    }
    assert _count(portal, "SELECT count(*) FROM leads_activity") == len(batches) + len(singles)
    # ... and each stored once is reported "created" (201) to exactly one of its senders.
    signals = len(range(3, ROUNDS, 4))
    assert created == {"/api/v1/event": len(singles), "/api/v1/intent-signals": signals}
    own = THREADS * len(range(2, ROUNDS, 4))
    assert _count(portal, "SELECT count(*) FROM leads_contact") == 10 + own
    assert _count(portal, "SELECT count(*) FROM leads_intentsignal") == signals
    assert _count(portal, "SELECT count(DISTINCT domain) FROM leads_company") == _count(
        portal, "SELECT count(*) FROM leads_company WHERE domain <> ''"
    )


def test_a_write_that_cannot_get_its_lock_is_a_503_with_retry_after(impatient_portal):
    portal = impatient_portal
    # Take the lock the server needs and keep it past the server's lock timeout.
    if portal.database_url.startswith("sqlite"):
        holder = sqlite3.connect(portal.database_url.removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")  # the database's one write lock
    else:
        import psycopg

        status, _h, _b = portal.request("POST", "/api/v1/contacts", {"email": "held@x.co.jp"})
        assert status == 201
        holder = psycopg.connect(portal.database_url)
        holder.execute("SELECT 1 FROM leads_contact WHERE email = 'held@x.co.jp' FOR UPDATE")
    try:
        started = time.monotonic()
        status, headers, body = portal.request(
            "POST", "/api/v1/contacts", {"email": "held@x.co.jp", "name": "待ち"}
        )
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert status == 503, (status, body)
    assert int(headers["Retry-After"]) >= 1
    assert "non_field_errors" in body and "try again" in body["non_field_errors"][0]
    assert waited >= LOCK_TIMEOUT * 0.9  # it waited for the lock before giving up
    # Once the lock is free the same request goes through.
    assert portal.request("POST", "/api/v1/contacts", {"email": "held@x.co.jp"})[0] in (200, 201)

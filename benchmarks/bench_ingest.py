"""Ingestion throughput on PostgreSQL, each figure beside its floor (`make bench-ingest`).

What it does, in a database of its own (bench_ingest_<pid>, created and dropped
on the server that DATABASE_URL names; default postgres://postgres@127.0.0.1:5432/postgres):

1. migrates it, makes an API token, and starts the real WSGI app under
   gunicorn on 127.0.0.1: 2 workers (gthread, 2 threads each: a worker
   overlaps one request's database waits with another's work; clients keep
   their connections alive, as an integration's HTTP pool does) with
   DEBUG=false and persistent database connections, as in production;
2. posts batches of 1,000 events to /api/v1/events from 3 client threads for
   BENCH_SECONDS (default 25) and counts stored events per second;
3. posts single events to /api/v1/event from 4 client threads (BENCH_SINGLE_SECONDS,
   default 10);
4. floors: the same activity rows written straight into leads_activity by
   COPY, and by batched ``INSERT … ON CONFLICT DO NOTHING`` (1,000-row VALUES
   lists, a transaction each, as the API does); for single events, one-row
   INSERTs with a COMMIT each from 4 connections;
5. imports a generated 100,000-row CSV of contacts with
   leads.services.imports.leads_import_csv (if it exists), beside COPY of
   100,000 rows into leads_contact.

Celery tasks that ingestion enqueues (rescoring the leads whose activity
changed) are sent to a broker and not run, as in production, where a worker
runs them (``make bench-scoring`` measures that work): to Redis if REDIS_URL is
set (a queue of the bench's own, deleted afterwards, so each request pays the
round trip it pays in production), else to an in-memory broker. With
BENCH_EAGER_TASKS=true they run inline instead, as in the embedded default:
every request then rescores its own leads before it answers.

BENCH_WORKERS, BENCH_WORKER_CLASS (sync|gthread) and BENCH_THREADS change the
server. The machine is shared, so figures vary by ±30 % between runs: compare
each figure with its floor from the same run.

The last line is machine-readable:
``api_events_per_s=… single_events_per_s=… copy_rows_per_s=… insert_rows_per_s=… import_rows_per_s=…``
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH_SIZE = 1000
BATCH_CLIENTS = 3
SINGLE_CLIENTS = 4
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
BATCH_SECONDS = float(os.environ.get("BENCH_SECONDS", "25"))
SINGLE_SECONDS = float(os.environ.get("BENCH_SINGLE_SECONDS", "10"))
EAGER_TASKS = os.environ.get("BENCH_EAGER_TASKS", "").lower() in {"1", "true", "yes", "on"}
IMPORT_ROWS = 100_000
FLOOR_ROWS = 100_000
COMPANIES = 2_000
CONTACTS = 50_000
KINDS = ["page_view", "whitepaper_download", "email_click", "webinar_registration"]
JST = dt.timezone(dt.timedelta(hours=9))


# --- The database of our own -----------------------------------------------------


def _server_url() -> str:
    return os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin_connect(url: str):
    import psycopg

    return psycopg.connect(
        _with_db(url, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True
    )


def _create_database(url: str, name: str) -> None:
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(url: str, name: str) -> None:
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- Workload ---------------------------------------------------------------------


def _event(rng: random.Random, external_id: str, now: dt.datetime) -> dict:
    occurred = (now - dt.timedelta(seconds=rng.randrange(30 * 86400))).astimezone(JST)
    item = {
        "source": "bench-ma",
        "external_id": external_id,
        "kind": rng.choice(KINDS),
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "properties": {"url": f"/p/{rng.randrange(500)}", "campaign": "bench"},
    }
    if rng.random() < 0.05:  # account-level activity (e.g. a reverse-IP page view)
        n = rng.randrange(COMPANIES)
        item["company"] = {"domain": f"c{n}.bench.example.jp", "name": f"株式会社ベンチ{n}"}
    else:
        n = rng.randrange(CONTACTS)
        item["contact"] = {
            "email": f"p{n}@c{n % COMPANIES}.bench.example.jp",
            "name": f"ベンチ 太郎{n}",
            "company": f"株式会社ベンチ{n % COMPANIES}",
        }
    return item


def _batches(prefix: str, count: int, size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    return [
        json.dumps(
            {"events": [_event(rng, f"{prefix}-{b}-{i}", now) for i in range(size)]},
            ensure_ascii=False,
        ).encode()
        for b in range(count)
    ]


def _singles(prefix: str, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    return [
        json.dumps(_event(rng, f"{prefix}-{i}", now), ensure_ascii=False).encode()
        for i in range(count)
    ]


# --- HTTP -------------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str]):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._local = threading.local()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--workers",
                str(WORKERS),
                "--worker-class",
                WORKER_CLASS,
                "--threads",
                str(THREADS),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
        )

    def request(self, method: str, path: str, body: bytes | None, token: str):
        """One request on this thread's connection, kept alive when the server allows."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=120
            )
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            raise
        if response.will_close:  # sync workers close after every response
            conn.close()
            self._local.conn = None
        return response.status, content

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited")
            try:
                status, _ = self.request("GET", "/api/v1/companies?page_size=1", None, token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _drive(
    send: Callable[[bytes], int], bodies: list[bytes], clients: int, seconds: float
) -> tuple[int, float]:
    """Send bodies from ``clients`` threads until time is up; (items stored, elapsed)."""
    feed: Iterator[bytes] = iter(bodies)
    lock = threading.Lock()
    stored = [0]
    failures: list[str] = []
    stop_at = time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop_at and not failures:
            with lock:
                body = next(feed, None)
            if body is None:
                return
            try:
                n = send(body)
            except Exception as exc:  # the benchmark reports, never hides, a failure
                failures.append(repr(exc))
                return
            with lock:
                stored[0] += n

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if failures:
        raise RuntimeError(f"requests failed: {failures[0]}")
    return stored[0], elapsed


# --- Floors ------------------------------------------------------------------------------


def _activity_rows(conn, source: str, count: int) -> list[tuple]:
    contacts = conn.execute("SELECT id, company_id FROM leads_contact ORDER BY id").fetchall()
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        contact_id, company_id = contacts[rng.randrange(len(contacts))]
        occurred = now - dt.timedelta(seconds=rng.randrange(30 * 86400))
        properties = json.dumps({"url": f"/p/{rng.randrange(500)}", "campaign": "bench"})
        rows.append(
            (
                contact_id,
                company_id,
                rng.choice(KINDS),
                occurred,
                source,
                f"{source}-{i}",
                properties,
                now,
            )
        )
    return rows


_ACTIVITY_COLUMNS = (
    "contact_id, company_id, kind, occurred_at, source, external_id, properties, received_at"
)


def _copy_activity(conn, rows: list[tuple]) -> float:
    started = time.monotonic()
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(f"COPY leads_activity ({_ACTIVITY_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    return len(rows) / (time.monotonic() - started)


def _insert_activity(conn, rows: list[tuple]) -> float:
    started = time.monotonic()
    for i in range(0, len(rows), BATCH_SIZE):
        chunk = rows[i : i + BATCH_SIZE]
        values = ",".join(["(%s,%s,%s,%s,%s,%s,%s::jsonb,%s)"] * len(chunk))
        params = [value for row in chunk for value in row]
        with conn.transaction():
            conn.execute(
                f"INSERT INTO leads_activity ({_ACTIVITY_COLUMNS}) VALUES {values} "
                "ON CONFLICT DO NOTHING",
                params,
            )
    return len(rows) / (time.monotonic() - started)


def _insert_one_by_one(url: str, rows: list[tuple], clients: int) -> float:
    """The single-event floor: one-row INSERT … ON CONFLICT and COMMIT per event,
    from ``clients`` connections at once (as many as the API's clients)."""
    import psycopg

    sql = (
        f"INSERT INTO leads_activity ({_ACTIVITY_COLUMNS}) "
        "VALUES (%s,%s,%s,%s,%s,%s,%s::jsonb,%s) ON CONFLICT DO NOTHING"
    )
    share = [rows[i::clients] for i in range(clients)]

    def worker(part: list[tuple]) -> None:
        with psycopg.connect(url) as conn:
            for row in part:
                with conn.transaction():
                    conn.execute(sql, row)

    threads = [threading.Thread(target=worker, args=(part,)) for part in share]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(rows) / (time.monotonic() - started)


def _copy_contacts(conn, count: int) -> float:
    now = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    columns = (
        "company_id, email, name, name_kana, title, department, job_level, phone, "
        "has_consent, is_unsubscribed, created_at, updated_at"
    )
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(f"COPY leads_contact ({columns}) FROM STDIN") as copy,
    ):
        for i in range(count):
            copy.write_row(
                (
                    None,
                    f"copy{i}@floor.example.jp",
                    f"コピー 花子{i}",
                    "",
                    "部長",
                    "営業部",
                    "",
                    "03-1234-5678",
                    True,
                    False,
                    now,
                    now,
                )
            )
    return count / (time.monotonic() - started)


# --- CSV import ----------------------------------------------------------------------------

_PREFECTURES = ["東京都", "大阪府", "愛知県", "福岡県", "北海道", "神奈川県"]


def _import_csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write("会社名,氏名,メールアドレス,役職,部署,電話番号,都道府県,従業員数\n")
    for i in range(rows):
        c = i % 5000
        out.write(
            f"株式会社インポート{c},山田 花子{i},h{i}@imp{c}.example.jp,部長,営業部,"
            f"03-1234-{i % 10000:04d},{_PREFECTURES[c % len(_PREFECTURES)]},{50 + c}\n"
        )
    return out.getvalue().encode("utf-8")


def _measure_import() -> tuple[float | None, str]:
    try:
        from leads.services.imports import leads_import_csv
    except ImportError as exc:
        return None, f"leads.services.imports.leads_import_csv is not available ({exc})"
    data = _import_csv(IMPORT_ROWS)
    started = time.monotonic()
    outcome = leads_import_csv(data=data, dry_run=False)
    elapsed = time.monotonic() - started
    errors = getattr(outcome, "errors", None)
    if errors:
        return None, f"the import reported errors, e.g. {list(errors)[:1]}"
    return IMPORT_ROWS / elapsed, f"{IMPORT_ROWS:,} rows in {elapsed:.1f} s"


def _delete_queue(url: str, name: str) -> None:
    """Drop the bench's task queue, the messages nobody ran and its bindings from Redis."""
    import redis

    try:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"*{name}*"))  # the name holds our pid
        if keys:
            client.delete(*keys)
    except redis.RedisError as exc:  # never hide the figures
        print(f"could not delete the Celery queue {name}: {exc!r}", file=sys.stderr)


# --- Main ----------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "NA" if value is None else f"{value:.0f}"


def main() -> int:
    server_url = _server_url()
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("bench-ingest needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    name = f"bench_ingest_{os.getpid()}"
    bench_url = _with_db(server_url, name)
    broker_url = os.environ.get("REDIS_URL") or "memory://"
    _create_database(server_url, name)
    server = None
    try:
        env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-ingest-" + "x" * 50,
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "true" if EAGER_TASKS else "false",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": name,
            # One token sends ~400 single events a second here, past the default
            # write limit (6,000 a minute per token, docs/api.md): the limit's own
            # cost (two cache calls per write) is measured, its refusals are not.
            "API_WRITE_RATE": os.environ.get("API_WRITE_RATE", "1000000/min"),
        }
        env.pop("REDIS_URL", None)  # the cache stays in-process (locmem)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from accounts.services import api_token_create

        tasks = "run inline" if EAGER_TASKS else f"queued in {broker_url.split(':')[0]}, not run"
        print(f"database {name}: migrating… (Celery tasks: {tasks})", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        token = api_token_create(name="bench", actor=None).secret

        server = Server(env)
        server.wait_ready(token)

        def send_batch(body: bytes) -> int:
            status, content = server.request("POST", "/api/v1/events", body, token)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {content[:300]!r}")
            result = json.loads(content)
            if result["rejected"]:
                raise RuntimeError(f"rejected items: {result['results'][:2]}")
            return result["created"]

        def send_single(body: bytes) -> int:
            status, content = server.request("POST", "/api/v1/event", body, token)
            if status not in (200, 201):
                raise RuntimeError(f"HTTP {status}: {content[:300]!r}")
            return 1 if status == 201 else 0

        print("generating events…", flush=True)
        warmup = _batches("warm", 6, BATCH_SIZE, seed=1)
        batches = _batches("b", int(BATCH_SECONDS * 8) + 10, BATCH_SIZE, seed=2)
        singles = _singles("s", int(SINGLE_SECONDS * 1500) + 100, seed=3)
        _drive(send_batch, warmup, BATCH_CLIENTS, 120)  # imports, connections, first contacts

        print(
            f"batch API: {BATCH_CLIENTS} clients, {BATCH_SIZE}/batch, {BATCH_SECONDS:.0f} s…",
            flush=True,
        )
        events, elapsed = _drive(send_batch, batches, BATCH_CLIENTS, BATCH_SECONDS)
        api_rate = events / elapsed
        print(f"single-event API: {SINGLE_CLIENTS} clients, {SINGLE_SECONDS:.0f} s…", flush=True)
        singles_stored, single_elapsed = _drive(
            send_single, singles, SINGLE_CLIENTS, SINGLE_SECONDS
        )
        single_rate = singles_stored / single_elapsed
        server.stop()
        server = None

        import psycopg

        pg_url = bench_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(pg_url) as conn:
            rows = _activity_rows(conn, "copy-floor", FLOOR_ROWS)
            copy_rate = _copy_activity(conn, rows)
            rows = _activity_rows(conn, "insert-floor", FLOOR_ROWS)
            insert_rate = _insert_activity(conn, rows)
            rows = _activity_rows(conn, "single-floor", 4_000)
        single_floor = _insert_one_by_one(pg_url, rows, SINGLE_CLIENTS)
        with psycopg.connect(pg_url) as conn:
            contact_copy_rate = _copy_contacts(conn, IMPORT_ROWS)

        print(f"CSV import: {IMPORT_ROWS:,} contacts…", flush=True)
        import_rate, import_note = _measure_import()

        print()
        print(f"batch API   {api_rate:9,.0f} events/s  ({events:,} events in {elapsed:.1f} s)")
        print(f"  floor     {copy_rate:9,.0f} rows/s    COPY into leads_activity")
        print(
            f"  floor     {insert_rate:9,.0f} rows/s    INSERT … ON CONFLICT DO NOTHING, "
            f"{BATCH_SIZE}-row VALUES"
        )
        print(
            f"single API  {single_rate:9,.0f} events/s  ({singles_stored:,} in "
            f"{single_elapsed:.1f} s)"
        )
        print(
            f"  floor     {single_floor:9,.0f} rows/s    one-row INSERT … ON CONFLICT + COMMIT each, "
            f"{SINGLE_CLIENTS} connections"
        )
        if import_rate is None:
            print(f"CSV import         NA rows/s    ({import_note})")
        else:
            print(f"CSV import  {import_rate:9,.0f} rows/s    ({import_note})")
        print(f"  floor     {contact_copy_rate:9,.0f} rows/s    COPY into leads_contact")
        print(
            f"api_events_per_s={_fmt(api_rate)} single_events_per_s={_fmt(single_rate)} "
            f"copy_rows_per_s={_fmt(copy_rate)} insert_rows_per_s={_fmt(insert_rate)} "
            f"import_rows_per_s={_fmt(import_rate)}"
        )
        return 0
    finally:
        if server is not None:
            server.stop()
        if broker_url.startswith("redis") and not EAGER_TASKS:
            _delete_queue(broker_url, name)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        _drop_database(server_url, name)


if __name__ == "__main__":
    sys.exit(main())

"""make bench-pages: the leads pages' p95 on PostgreSQL at 200,000 leads, and the export.

In a database of its own (created and dropped here, on the server DATABASE_URL names;
default postgres://postgres@127.0.0.1:5432/postgres):

1. data: the scoring benchmark's (BENCH_LEADS contacts, default 200,000, in companies of
   ~5 plus 2 % contact-less ones; BENCH_ACTIVITIES activities, default 5,000,000; intent),
   one lead with 10,000 activities of its own, scored by a full rescore;
2. each page through the real view and middleware (Django's test client, logged in as a
   sales manager): BENCH_REQUESTS requests after a warm-up, p50 and p95, with its query
   count and the time its SQL took; beside the floor, the same client fetching the
   login page (middleware, session, template, no query of ours);
3. the CSV export of every lead, rows/s, beside ``COPY (SELECT …) TO STDOUT`` of the same
   columns in the same run; and its peak Python memory (tracemalloc) for all leads
   against a tenth of them, which must be flat.

The last line is machine-readable:
pages_p95_ms=… (the slowest page) export_rows_per_s=… copy_rows_per_s=…
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scoring  # noqa: E402  (the same data)

LEADS = int(os.environ.get("BENCH_LEADS", "200000"))
ACTIVITIES = int(os.environ.get("BENCH_ACTIVITIES", "5000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))
HEAVY = 10_000
GOAL_P95_MS = 150
GOAL_EXPORT = 20_000


class _SqlTimer:
    """Counts queries and the time they take (a connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            self.seconds += time.perf_counter() - started


@contextmanager
def _sql_timed():
    from django.db import connection

    timer = _SqlTimer()
    with connection.execute_wrapper(timer):
        yield timer


def page_timings(client, url: str) -> tuple[float, float, int, float]:
    """(p50 ms, p95 ms, queries, median SQL ms) of GET url."""
    for _ in range(3):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    totals, sql = [], []
    queries = 0
    for _ in range(REQUESTS):
        with _sql_timed() as timer:
            started = time.perf_counter()
            response = client.get(url)
            totals.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        sql.append(timer.seconds * 1000)
        queries = timer.queries
    return (
        bench_scoring.percentile(totals, 0.5),
        bench_scoring.percentile(totals, 0.95),
        queries,
        statistics.median(sql),
    )


def heavy_lead_add(cursor, *, contact_id: int, company_id: int) -> None:
    cursor.execute(
        f"""
        INSERT INTO leads_activity (contact_id, company_id, kind, occurred_at, source, external_id,
            properties, url_key, content_key, campaign_key, received_at)
        SELECT {contact_id}, {company_id},
               (ARRAY['page_view','page_view','page_view','whitepaper_download','email_open'])[1 + g % 5],
               now() - (g * 3571 % (300 * 86400)) * interval '1 second', 'bench-heavy', 'h' || g,
               jsonb_build_object('url', '/pricing', 'title', '料金プラン ' || (g % 40)),
               '/pricing', '料金プラン ' || (g % 40), '', now()
        FROM generate_series(1, {HEAVY}) g
        """
    )
    cursor.execute("ANALYZE leads_activity")


EXPORT_SQL = """
    SELECT c.name, c.name_kana, c.email, co.name, c.title, c.department, c.phone,
           co.prefecture, co.industry, co.industry_detail, co.employee_count,
           s.total, s.band, s.fit, s.engagement, v.number, a.total, c.is_unsubscribed,
           c.last_activity_at
    FROM leads_contact c
    LEFT JOIN leads_company co ON co.id = c.company_id
    LEFT JOIN scoring_leadscore s ON s.contact_id = c.id
    LEFT JOIN scoring_definitionversion v ON v.id = s.version_id
    LEFT JOIN scoring_leadscore a ON a.company_id = co.id
    ORDER BY c.last_activity_at DESC, c.id DESC
"""


def copy_floor() -> tuple[float, int]:
    from django.db import connection

    connection.ensure_connection()
    rows = 0
    started = time.perf_counter()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY ({EXPORT_SQL}) TO STDOUT (FORMAT csv)") as copy,
    ):
        for chunk in copy:
            rows += bytes(chunk).count(b"\n")
    return time.perf_counter() - started, rows


def export_run(client, query: str = "") -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get("/leads/export.csv" + query)
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\r\n")
    return time.perf_counter() - started, lines - 1  # the header


def export_peak_mb(client, query: str = "") -> float:
    tracemalloc.start()
    try:
        export_run(client, query)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> int:
    server_url = bench_scoring._server_url()
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("bench-pages needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    name = f"bench_pages_{os.getpid()}"
    bench_scoring._admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            bench_scoring.production_settings(
                database_url=bench_scoring._with_db(server_url, name),
                name="bench-pages",
                REDIS_URL="",
                CELERY_TASK_ALWAYS_EAGER="true",
                EMBEDDED_BACKGROUND_TASKS="false",
            )
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from leads.models import Company, Contact
        from scoring.models import LeadScore
        from scoring.services.jobs import active_version, rescore_full_start

        print(f"database {name}: migrating…", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG off: hashed names
        print(f"data: {LEADS:,} leads, {ACTIVITIES:,} activities…", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            info = bench_scoring.data_create(cursor, leads=LEADS, activities=ACTIVITIES)
            heavy = info["first_contact"] + LEADS // 2
            heavy_company = Contact.objects.values_list("company_id", flat=True).get(pk=heavy)
            heavy_lead_add(cursor, contact_id=heavy, company_id=heavy_company)
            cursor.execute(
                "UPDATE leads_contact c SET last_activity_at = a.at FROM ("
                " SELECT contact_id, max(occurred_at) AS at FROM leads_activity"
                " WHERE contact_id IS NOT NULL GROUP BY contact_id) a WHERE a.contact_id = c.id"
            )
            cursor.execute(
                "UPDATE leads_company co SET last_activity_at = a.at FROM ("
                " SELECT company_id, max(occurred_at) AS at FROM leads_activity"
                " GROUP BY company_id) a WHERE a.company_id = co.id"
            )
            cursor.execute("VACUUM ANALYZE")
        print(f"  written in {time.perf_counter() - started:.0f} s; scoring…", flush=True)
        started = time.perf_counter()
        from django.db import transaction

        with transaction.atomic():
            rescore_full_start(version=active_version())  # chunks run (eagerly) on commit
        print(
            f"  {LeadScore.objects.count():,} scores in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        user = get_user_model().objects.create_user("bench-manager", password="x" * 12)
        user.groups.add(Group.objects.get(name="sales_manager"))
        client = Client(HTTP_ACCEPT_LANGUAGE="ja")
        client.force_login(user)
        typical = info["first_contact"] + min(12345, LEADS // 3)
        company = Contact.objects.values_list("company_id", flat=True).get(pk=typical)
        busiest_page = Contact.objects.count() // 25 // 2  # the middle of the list
        pages = [
            # Home first, as people land on it after signing in: its figures are then counted.
            ("home", "/"),
            ("leads list, first page", "/leads/"),
            ("leads list, hot by score", "/leads/?band=hot&sort=-score"),
            ("leads list, filtered by fit", "/leads/?min_fit=20&prefecture=13&sort=-engagement"),
            ("leads list, page 500", "/leads/?page=500"),
            (f"leads list, page {busiest_page:,}", f"/leads/?page={busiest_page}"),
            ("lead page, typical", f"/leads/{typical}/"),
            (f"lead page, {HEAVY:,} activities", f"/leads/{heavy}/"),
            ("companies list", "/leads/companies/"),
            ("companies list, by account score", "/leads/companies/?sort=-score"),
            ("company page", f"/leads/companies/{company}/"),
        ]
        from portal import figures

        recount = []
        for _ in range(3):
            started = time.perf_counter()
            figures.home_figures_refresh(zone="Asia/Tokyo")
            recount.append((time.perf_counter() - started) * 1000)
        print(
            f"home's figures recounted: {statistics.median(recount):,.0f} ms "
            f"(once a minute per time zone, by a worker; visits are served from the cache)"
        )
        anonymous = Client(HTTP_ACCEPT_LANGUAGE="ja")
        print(f"pages ({REQUESTS} requests each, after 3 to warm up):", flush=True)
        floor = page_timings(anonymous, "/accounts/login/")
        print(f"  {'floor: the login page':42s} p50 {floor[0]:6.1f} ms  p95 {floor[1]:6.1f} ms")
        slowest = 0.0
        for label, url in pages:
            p50, p95, queries, sql_ms = page_timings(client, url)
            slowest = max(slowest, p95)
            verdict = "MET" if p95 <= GOAL_P95_MS else "MISSED"
            print(
                f"  {label:42s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                f"({queries} queries, SQL {sql_ms:5.1f} ms)  {verdict}",
                flush=True,
            )

        companies = Company.objects.count()
        print(f"export of all {LEADS:,} leads…", flush=True)
        export_run(client, "?prefecture=13")  # warm-up
        export_s, rows = export_run(client)
        copy_s, copied = copy_floor()
        export_rate, copy_rate = rows / export_s, copied / copy_s
        tenth_peak = export_peak_mb(client, "?min_score=-1000000&industry=E")
        all_peak = export_peak_mb(client)
        print(
            f"  export  {export_s:6.2f} s  {export_rate:9,.0f} rows/s  ({rows:,} rows; goal "
            f"≥ {GOAL_EXPORT:,})  {'MET' if export_rate >= GOAL_EXPORT else 'MISSED'}"
        )
        print(f"  floor   {copy_s:6.2f} s  {copy_rate:9,.0f} rows/s  COPY of the same columns")
        print(
            f"  peak Python memory: {all_peak:.1f} MB for all leads, {tenth_peak:.1f} MB for "
            f"a fifth of them (industry E) — flat in the row count"
        )
        print(f"  ({companies:,} companies)")
        print(
            f"pages_p95_ms={slowest:.1f} export_rows_per_s={export_rate:.0f} "
            f"copy_rows_per_s={copy_rate:.0f}"
        )
        return 0
    finally:
        bench_scoring.database_drop_unless_kept(server_url, name)


if __name__ == "__main__":
    sys.exit(main())

"""make bench-scoring: full and incremental rescoring on PostgreSQL, beside its floor.

In a database of its own (created and dropped here, on the server that
DATABASE_URL names; default postgres://postgres@127.0.0.1:5432/postgres), with
Redis (REDIS_URL, default redis://127.0.0.1:6379/14) and real Celery workers:

1. data: BENCH_LEADS contacts (default 200,000) in companies of ~5, 2 % more
   companies with no contact (accounts), BENCH_ACTIVITIES activities (default
   5,000,000; 3 % contact-less) and intent signals, written by SQL;
2. full rescoring through the real path: ``rescore_full_start`` under the
   starter definition, chunks run by 2 worker processes, until the job is done;
3. the floor: one hand-written SQL statement computing the same scores for
   every contact into a scratch table (its totals are compared with ours);
4. the naive way: per lead, load its facts with the ORM, score, save; on a
   sample, extrapolated;
5. linear: BENCH_ACTIVITIES_LARGE (default 12,500,000) activities in all,
   full rescoring and floor again;
6. incremental: 1,000 events for 1,000 leads posted to the API (in-process
   Django client) until every one of those leads has a new score, with the
   real worker draining; and a heavy lead (10,000 activities) against typical
   ones on the incremental path.

The last line is machine-readable:
full_s=… floor_s=… ratio_to_floor=… naive_speedup=… incremental_1000_s=… heavy_ratio=…
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEADS = int(os.environ.get("BENCH_LEADS", "200000"))
ACTIVITIES = int(os.environ.get("BENCH_ACTIVITIES", "5000000"))
ACTIVITIES_LARGE = int(os.environ.get("BENCH_ACTIVITIES_LARGE", "12500000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "300"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
HEAVY = 10_000
QUEUE = f"bench_scoring_{os.getpid()}"


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0.95 for the p95) the benchmarks print."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _server_url() -> str:
    return os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str, statement: str) -> None:
    import psycopg

    admin_url = _with_db(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


# --- Data, written by SQL -------------------------------------------------------------

TITLES = [
    "営業部長",
    "マーケティング課長",
    "担当",
    "Director of IT",
    "エンジニア",
    "学生",
    "取締役",
    "manager",
    "",
]
DOMAINS = ["gmail.com", "yahoo.co.jp"]  # free mail, for a few contacts
URLS = ["/", "/pricing", "/pricing/plans", "/blog/dx", "/careers", "/product", "/case/1", "/wp/dx"]
KIND_WEIGHTS = [
    ("page_view", 60), ("email_open", 12), ("email_click", 8), ("whitepaper_download", 5),
    ("webinar_registration", 3), ("webinar_attendance", 2), ("form_submission", 2),
    ("video_view", 3), ("event_visit", 1), ("case_study_download", 2), ("chat", 1),
    ("demo_request", 1),
]  # fmt: skip
TOPICS = ["CRM", "SFA", "MA", "DX", "ERP"]


def _sql_array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[])"


def _kinds_array() -> str:
    return _sql_array([k for k, w in KIND_WEIGHTS for _ in range(w)])


def production_settings(*, database_url: str, name: str, **extra: str) -> dict[str, str]:
    """The environment a benchmark's Django runs in: production's settings (DEBUG off,
    persistent connections) on its own database, HTTPS redirects off for the test client."""
    return {
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": f"{name}-" + "x" * 50,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        **extra,
    }


def database_drop_unless_kept(server_url: str, name: str) -> None:
    """Drop a benchmark's database, or keep it for EXPLAIN when BENCH_KEEP_DB is set."""
    from django.db import connections

    connections.close_all()
    if os.environ.get("BENCH_KEEP_DB"):
        print(f"kept database {name} (BENCH_KEEP_DB)")
    else:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def data_create(cursor, *, leads: int, activities: int) -> dict[str, int]:
    companies = max(1, leads // 5)
    accounts = max(1, companies // 50)
    cursor.execute(
        f"""
        INSERT INTO leads_company (name, name_kana, name_key, domain, corporate_number, industry,
            industry_detail, employee_count, revenue_band, prefecture, region, city, address,
            postal_code, created_at, updated_at)
        SELECT '株式会社ベンチ' || g, '', 'ベンチ' || g, 'c' || g || '.bench.example.jp', '',
               (ARRAY['E','G','I','D','L'])[1 + g % 5], '', (ARRAY[20, 120, 350, 800, 2500])[1 + (g * 7) % 5],
               '', lpad((1 + g % 47)::text, 2, '0'), '', '', '', '', now(), now()
        FROM generate_series(1, {companies + accounts}) g
        """
    )
    cursor.execute("SELECT min(id) FROM leads_company")
    (first_company,) = cursor.fetchone()
    cursor.execute(
        f"""
        INSERT INTO leads_contact (company_id, email, name, name_kana, title, department, job_level,
            phone, has_consent, is_unsubscribed, created_at, updated_at)
        SELECT {first_company} + (g - 1) / 5,
               'p' || g || '@' || CASE WHEN g % 40 = 0 THEN {_sql_array(DOMAINS)}[1 + g % 2]
                                       ELSE 'c' || ((g - 1) / 5 + 1) || '.bench.example.jp' END,
               'ベンチ 太郎' || g, '', {_sql_array(TITLES)}[1 + (g * 13) % {len(TITLES)}], '', '', '',
               true, g % 50 = 0, now(), now()
        FROM generate_series(1, {leads}) g
        """
    )
    cursor.execute("SELECT min(id) FROM leads_contact")
    (first_contact,) = cursor.fetchone()
    activities_add(cursor, count=activities, leads=leads, companies=companies,
                   first_contact=first_contact, first_company=first_company, offset=0)  # fmt: skip
    cursor.execute(
        f"""
        INSERT INTO leads_intentsignal (company_id, topic, topic_key, strength, observed_at,
            provider, external_id, received_at)
        SELECT {first_company} + (g * 7919) % {companies + accounts},
               {_sql_array(TOPICS)}[1 + g % 5], lower({_sql_array(TOPICS)}[1 + g % 5]),
               (g * 37) % 101, now() - ((g * 104729) % (120 * 86400)) * interval '1 second',
               'bench', 'i' || g, now()
        FROM generate_series(1::bigint, {companies}) g
        """
    )
    cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a live database
    return {"companies": companies, "accounts": accounts, "first_contact": first_contact,
            "first_company": first_company}  # fmt: skip


def activities_add(cursor, *, count, leads, companies, first_contact, first_company, offset):
    """``count`` activities: 97 % of leads (spread by a multiplicative hash), 3 % contact-less."""
    urls = _sql_array(URLS)
    cursor.execute(
        f"""
        INSERT INTO leads_activity (contact_id, company_id, kind, occurred_at, source, external_id,
            properties, url_key, content_key, campaign_key, received_at)
        SELECT CASE WHEN g % 33 = 0 THEN NULL ELSE {first_contact} + l END,
               {first_company} + CASE WHEN g % 33 = 0 THEN (g * 31) % {companies} ELSE l / 5 END,
               ({_kinds_array()})[1 + (g * 7) % 100],
               now() - ((g * 2654435761) % (365 * 86400)) * interval '1 second',
               'bench', 'a' || g,
               jsonb_build_object('url', {urls}[1 + (g * 11) % {len(URLS)}]),
               {urls}[1 + (g * 11) % {len(URLS)}], '', '', now()
        FROM (SELECT g, (g * 48271) % {leads} AS l
              FROM generate_series({offset + 1}::bigint, {offset + count}) g) s
        """
    )
    cursor.execute("VACUUM ANALYZE leads_activity")


# --- The floor: one statement ----------------------------------------------------------


def _floor_rule_columns(rules, at_sql: str) -> tuple[list[str], list[str]]:
    from scoring.engine import BehaviourRule, match_key

    cols, names = [], []
    for n, rule in enumerate(rules):
        if isinstance(rule, BehaviourRule):
            cond = "kind IN (" + ", ".join(f"'{k}'" for k in sorted(rule.kinds)) + ")"
            if rule.url_contains:
                cond += f" AND strpos(url_key, '{match_key(rule.url_contains)}') > 0"
            if rule.content_contains:
                cond += f" AND strpos(content_key, '{match_key(rule.content_contains)}') > 0"
            if rule.campaign:
                cond += f" AND campaign_key = '{match_key(rule.campaign)}'"
            time = "occurred_at"
        else:
            cond = f"strength >= {rule.min_strength}"
            if rule.topics:
                cond += " AND topic_key IN (" + ", ".join(
                    f"'{match_key(t)}'" for t in sorted(rule.topics)) + ")"  # fmt: skip
            time = "observed_at"
        if rule.window_days is not None:
            cond += f" AND {time} >= {at_sql} - interval '{rule.window_days} days'"
        age = f"extract(epoch FROM ({at_sql} - {time}))::float8 / 86400.0"
        term = str(rule.points)
        if rule.half_life_days is not None:
            term = f"{rule.points} * power(0.5, ({age}) / {rule.half_life_days})"
        cols.append(f"count(*) FILTER (WHERE {cond}) AS h{n}, "
                    f"coalesce(sum({term}) FILTER (WHERE {cond}), 0) AS s{n}")  # fmt: skip
        names.append(f"r{n}")
    return cols, names


def _capped(rule, hits: str, total: str) -> str:
    value = total
    if rule.cap is not None:
        value = f"{'least' if rule.points > 0 else 'greatest'}({total}, {rule.cap})"
    return f"CASE WHEN {hits} > 0 THEN round(({value})::numeric, 2) ELSE 0 END"


def _attribute_sql(rule) -> str:
    from scoring.engine import Op, match_key

    column = {
        "contact.title": "lower(c.title)",
        "contact.email_domain": "split_part(c.email, '@', 2)",
        "contact.is_unsubscribed": "c.is_unsubscribed",
        "company.employee_count": "co.employee_count",
        "company.industry": "lower(co.industry)",
    }[rule.attribute]
    values = [match_key(v) for v in rule.value] if isinstance(rule.value, tuple) else rule.value
    if rule.op is Op.CONTAINS_ANY:
        cond = " OR ".join(f"strpos({column}, '{v}') > 0" for v in values)
    elif rule.op is Op.IN:
        cond = f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"
    elif rule.op is Op.ENDS_WITH_ANY:
        cond = " OR ".join(f"({column} = '{v}' OR {column} LIKE '%.{v}')" for v in values)
    elif rule.op is Op.GTE:
        cond = f"{column} >= {values}"
    elif rule.op is Op.IS_TRUE:
        cond = f"{column}"
    else:
        raise NotImplementedError(rule.op)
    return f"CASE WHEN {cond} THEN {rule.points} ELSE 0 END"


def floor_sql(definition, at_sql: str) -> str:
    """Every contact's total, fit and band in one statement (the starter's rule shapes)."""
    b_cols, _ = _floor_rule_columns(definition.behaviour, at_sql)
    i_cols, _ = _floor_rule_columns(definition.intents, at_sql)
    behaviour = [
        _capped(r, f"coalesce(o.h{n}, 0) + coalesce(s.h{n}, 0)",
                f"coalesce(o.s{n}, 0) + coalesce(s.s{n}, 0)")
        for n, r in enumerate(definition.behaviour)
    ]  # fmt: skip
    intent = [
        _capped(r, f"coalesce(i.h{n}, 0)", f"coalesce(i.s{n}, 0)")
        for n, r in enumerate(definition.intents)
    ]
    fit = [_attribute_sql(r) for r in definition.attributes]
    t = definition.thresholds
    floor = "" if t.fit_floor is None else f" AND fit >= {t.fit_floor}"
    return f"""
    CREATE TEMP TABLE floor_scores AS
    WITH own AS (
        SELECT contact_id AS id, {", ".join(b_cols)} FROM leads_activity
        WHERE contact_id IS NOT NULL AND occurred_at <= {at_sql} GROUP BY contact_id
    ), shared AS (
        SELECT company_id AS id, {", ".join(b_cols)} FROM leads_activity
        WHERE contact_id IS NULL AND occurred_at <= {at_sql} GROUP BY company_id
    ), intent AS (
        SELECT company_id AS id, {", ".join(i_cols)} FROM leads_intentsignal
        WHERE observed_at <= {at_sql} GROUP BY company_id
    ), parts AS (
        SELECT c.id,
               ({" + ".join(fit) or "0"})::numeric AS fit,
               ({" + ".join(behaviour + intent) or "0"})::numeric AS engagement
        FROM leads_contact c
        LEFT JOIN leads_company co ON co.id = c.company_id
        LEFT JOIN own o ON o.id = c.id
        LEFT JOIN shared s ON s.id = c.company_id
        LEFT JOIN intent i ON i.id = c.company_id
    )
    SELECT id, fit, engagement, fit + engagement AS total,
           CASE WHEN fit + engagement >= {t.hot}{floor} THEN 'hot'
                WHEN fit + engagement >= {t.warm} THEN 'warm' ELSE 'cold' END AS band
    FROM parts
    """


# --- Workers -----------------------------------------------------------------------------


def workers_start(env: dict[str, str]) -> subprocess.Popen:
    log = open(f"/tmp/{QUEUE}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={WORKERS}",
         "--loglevel=WARNING", "-Q", QUEUE, "-n", f"{QUEUE}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited; see /tmp/{QUEUE}.log")
        if app.control.ping(destination=[f"{QUEUE}@{os.uname().nodename}"], timeout=1):
            return proc
    raise RuntimeError(f"worker did not answer; see /tmp/{QUEUE}.log")


def workers_stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- Measurements ----------------------------------------------------------------------------


def full_rescore_through_celery() -> tuple[float, int]:
    from scoring.models import RescoreJob
    from scoring.services.jobs import active_version, rescore_full_start

    started = time.perf_counter()
    job = rescore_full_start(version=active_version())
    while True:
        job.refresh_from_db()
        if job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if job.status != RescoreJob.Status.DONE:
        raise RuntimeError(f"rescore job failed: {job.message}")
    return elapsed, job.leads_scored


def floor_run(definition, at) -> tuple[float, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_scores")
        started = time.perf_counter()
        cursor.execute(floor_sql(definition, f"'{at.isoformat()}'::timestamptz"))
        elapsed = time.perf_counter() - started
        # Same scores? Compare with what the real path stored (same as_of).
        cursor.execute(
            """SELECT count(*), count(*) FILTER (WHERE abs(f.total - s.total) > 0.05
                                             OR f.band <> s.band)
               FROM floor_scores f JOIN scoring_leadscore s ON s.contact_id = f.id"""
        )
        compared, different = cursor.fetchone()
    return elapsed, compared, different


def naive_per_lead(sample_ids: list[int], version) -> float:
    """Seconds per lead: ORM facts, engine score, one save, per lead."""
    from django.utils import timezone

    from scoring.engine import score
    from scoring.facts import facts_for_contact
    from scoring.models import LeadScore
    from scoring.services.jobs import definition_of

    definition = definition_of(version)
    started = time.perf_counter()
    at = timezone.now()
    for contact_id in sample_ids:
        result = score(definition, facts_for_contact(contact_id), at)
        LeadScore.objects.update_or_create(
            contact_id=contact_id,
            defaults={"version": version, "total": round(result.total, 2),
                      "fit": round(result.fit, 2), "engagement": round(result.engagement, 2),
                      "band": result.band, "scored_at": at},
        )  # fmt: skip
    return (time.perf_counter() - started) / len(sample_ids)


def incremental_batch(contact_ids: list[int], token: str, prefix: str) -> float:
    """POST 1,000 events for 1,000 leads; seconds until all of them are rescored."""
    from django.test import Client

    from leads.models import Contact
    from scoring.models import LeadScore

    emails = dict(Contact.objects.filter(id__in=contact_ids).values_list("id", "email"))
    now = dt.datetime.now(dt.UTC)
    body = {"events": [
        {"source": "bench-incr", "external_id": f"{prefix}-{cid}", "kind": "webinar_attendance",
         "occurred_at": now.isoformat(), "contact": {"email": emails[cid]},
         "properties": {"url": "/webinar/dx"}}
        for cid in contact_ids
    ]}  # fmt: skip
    client = Client()
    payload = json.dumps(body)
    started = time.perf_counter()
    since = dt.datetime.now(dt.UTC)
    response = client.post("/api/v1/events", payload, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    if response.status_code != 200 or response.json()["created"] != len(contact_ids):
        raise RuntimeError(f"event batch failed: {response.status_code} {response.content[:300]!r}")
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        fresh = LeadScore.objects.filter(contact_id__in=contact_ids, scored_at__gte=since).count()
        if fresh == len(contact_ids):
            return time.perf_counter() - started
        time.sleep(0.005)
    raise RuntimeError("incremental rescoring did not finish within 60 s")


def incremental_one(contact_id: int, earliest=None) -> float:
    """Seconds to rescore one lead on the incremental path, in this process.

    Marked and drained in one transaction, so the workers' drain task (sent
    when it commits) finds nothing left and cannot race the measurement.
    ``earliest`` is what ingestion would pass: the time of the earliest new
    event (``REBUILD``: rebuild the running totals from the history).
    """
    from django.db import transaction

    from scoring.services.jobs import pending_drain, pending_record

    with transaction.atomic():
        pending_record(contact_ids=[contact_id], company_ids=[], earliest=earliest)
        started = time.perf_counter()
        scored = pending_drain()
        elapsed = time.perf_counter() - started
    if scored != 1:
        raise RuntimeError(f"the drain scored {scored} leads, not 1")
    return elapsed


def main() -> int:
    server_url = _server_url()
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("bench-scoring needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    name = f"bench_scoring_{os.getpid()}"
    bench_url = _with_db(server_url, name)
    _admin(server_url, f'CREATE DATABASE "{name}"')
    worker = None
    try:
        env = {
            **os.environ,
            **production_settings(
                database_url=bench_url,
                name="bench-scoring",
                REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                CELERY_TASK_ALWAYS_EAGER="false",
                CELERY_TASK_DEFAULT_QUEUE=QUEUE,
            ),
        }
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from accounts.services import api_token_create
        from scoring.services.jobs import active_version, definition_of

        print(f"database {name}: migrating…", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        token = api_token_create(name="bench", actor=None).secret
        version = active_version()
        definition = definition_of(version)

        print(f"data: {LEADS:,} leads, {ACTIVITIES:,} activities…", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            info = data_create(cursor, leads=LEADS, activities=ACTIVITIES)
        print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)

        worker = workers_start(env)
        print(f"full rescore through Celery ({WORKERS} worker processes)…", flush=True)
        full_rescore_through_celery()  # warm-up: caches, plans, first scores
        full_s, scored = full_rescore_through_celery()
        from scoring.models import RescoreJob

        as_of = RescoreJob.objects.latest("created_at").as_of
        print("floor: one SQL statement…", flush=True)
        floor_s, compared, different = floor_run(definition, as_of)
        print(f"  full {full_s:.2f} s, floor {floor_s:.2f} s ({different} differ)", flush=True)

        print(f"naive: one lead at a time, {NAIVE_SAMPLE} leads…", flush=True)
        sample = list(
            range(info["first_contact"], info["first_contact"] + LEADS, LEADS // NAIVE_SAMPLE)
        )
        naive_s = naive_per_lead(sample[:NAIVE_SAMPLE], version) * LEADS

        print("incremental: 1,000 events → their leads rescored…", flush=True)
        incr_ids = [info["first_contact"] + (i * 197) % LEADS for i in range(1000)]
        incremental_batch(incr_ids[:100], token, "warm")  # warm-up
        incremental_s = incremental_batch(incr_ids, token, "incr")

        print(f"heavy lead: {HEAVY:,} activities vs typical…", flush=True)
        heavy = info["first_contact"] + 1
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO leads_activity (contact_id, company_id, kind, occurred_at, source,
                       external_id, properties, url_key, content_key, campaign_key, received_at)
                   SELECT %s, (SELECT company_id FROM leads_contact WHERE id = %s), 'page_view',
                          now() - g * interval '37 minutes', 'bench-heavy', 'h' || g,
                          '{"url": "/pricing"}', '/pricing', '', '', now()
                   FROM generate_series(1, %s) g""",
                [heavy, heavy, HEAVY],
            )
            cursor.execute("VACUUM ANALYZE leads_activity")
        # The history was written behind ingestion's back, so say so, as
        # ingestion would: each lead's running totals are rebuilt once (also
        # warming caches). Then timed: typical leads and the heavy one alike.
        from scoring.services.jobs import REBUILD

        typical_ids = [info["first_contact"] + 1000 + i * 7 for i in range(10)]
        for contact_id in typical_ids:
            incremental_one(contact_id, earliest=REBUILD)
        rebuild_heavy = [incremental_one(heavy, earliest=REBUILD) for _ in range(3)]
        typical = [incremental_one(cid) for cid in typical_ids for _ in range(3)]
        heavy_times = [incremental_one(heavy) for _ in range(10)]
        heavy_ratio = statistics.median(heavy_times) / statistics.median(typical)

        large_full_s = large_floor_s = None
        if ACTIVITIES_LARGE > ACTIVITIES:
            print(f"linear: up to {ACTIVITIES_LARGE:,} activities…", flush=True)
            with connection.cursor() as cursor:
                activities_add(cursor, count=ACTIVITIES_LARGE - ACTIVITIES, leads=LEADS,
                               companies=info["companies"], first_contact=info["first_contact"],
                               first_company=info["first_company"], offset=ACTIVITIES + 10)  # fmt: skip
            full_rescore_through_celery()
            large_full_s, _ = full_rescore_through_celery()
            as_of = RescoreJob.objects.latest("created_at").as_of
            large_floor_s, _, _ = floor_run(definition, as_of)

        ratio = full_s / floor_s
        print()
        print(f"full rescore   {full_s:8.2f} s   {scored / full_s:9,.0f} leads/s "
              f"({scored:,} leads and accounts, {ACTIVITIES:,} activities, Celery, {WORKERS} processes)")  # fmt: skip
        print(f"  floor        {floor_s:8.2f} s   one SQL statement, same scores "
              f"({different} of {compared:,} differ by > 0.05 or in band)  → {ratio:.2f}× the floor (goal ≤ 1.5×)")  # fmt: skip
        print(f"  naive        {naive_s:8.2f} s   one ORM lead at a time ({NAIVE_SAMPLE} sampled, "
              f"extrapolated) → {naive_s / full_s:.0f}× slower (goal ≥ 20×)")  # fmt: skip
        if large_full_s is not None:
            print(f"full, {ACTIVITIES_LARGE:,} activities {large_full_s:8.2f} s   floor {large_floor_s:8.2f} s"
                  f" → {large_full_s / large_floor_s:.2f}× (goal ≤ 1.5×)")  # fmt: skip
        print(
            f"incremental    {incremental_s:8.3f} s   1,000 events posted → all 1,000 leads rescored (goal ≤ 0.6 s)"
        )
        print(f"heavy lead     {statistics.median(heavy_times) * 1000:8.1f} ms  vs typical "
              f"{statistics.median(typical) * 1000:.1f} ms → {heavy_ratio:.1f}× (goal ≤ 3×), from running "
              f"totals; rebuilding its totals from the history (a late event, a new version) "
              f"{statistics.median(rebuild_heavy) * 1000:.1f} ms")  # fmt: skip
        large_ratio = "NA" if large_full_s is None else f"{large_full_s / large_floor_s:.2f}"
        print(
            f"full_s={full_s:.2f} floor_s={floor_s:.2f} ratio_to_floor={ratio:.2f} "
            f"naive_speedup={naive_s / full_s:.1f} incremental_1000_s={incremental_s:.3f} "
            f"heavy_ratio={heavy_ratio:.2f} large_ratio_to_floor={large_ratio}"
        )
        return 0
    finally:
        workers_stop(worker)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())

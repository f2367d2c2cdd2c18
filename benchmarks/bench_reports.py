"""make bench-reports: the six feedback report pages on PostgreSQL with a year of history.

In a database of its own (``portal_bench_reports``, created and dropped here on the server
DATABASE_URL names; BENCH_KEEP_DB=1 keeps it for EXPLAIN ANALYZE):

1. data: BENCH_LEADS contacts (default 200,000) in companies of 5, each with a touch
   (campaign and content keys), and BENCH_CYCLES MQL cycles (default 60,000) over the last
   365 days, owned by 20 inside sales reps, with their transitions, verdicts (a third
   rejected, with reasons), SLA clocks, breakdowns and deals (won and lost), written in SQL;
2. facts: the real set-based service (``cycle_facts_refresh_all``: touches, rule hits,
   then ``cycle_facts_sync`` of every cycle), cycles/s;
3. each report page through the real view (Django's test client), the manager over the
   whole year, BENCH_REQUESTS requests after 3 to warm up: p50 and p95, beside the floor,
   the report's main aggregate query alone; and a rep's own Pareto;
4. one threshold review over the same year, run in this process as a worker would.

The last line is machine-readable: reports_p95_ms=<the slowest report> review_s=<x>
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scoring  # noqa: E402  (database helpers)

LEADS = int(os.environ.get("BENCH_LEADS", "200000"))
CYCLES = int(os.environ.get("BENCH_CYCLES", "60000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))
REPS = 20
GOAL_P95_MS = 300
GOAL_REVIEW_S = 30
NAME = "portal_bench_reports"


def data_create(cursor, rep_ids: list[int], field_ids: list[int]) -> None:
    companies = max(1, LEADS // 5)
    cursor.execute(
        f"""
        INSERT INTO leads_company (name, name_kana, name_key, domain, corporate_number, industry,
            industry_detail, employee_count, revenue_band, prefecture, region, city, address,
            postal_code, created_at, updated_at)
        SELECT '株式会社ベンチ' || g, '', 'ベンチ' || g, 'c' || g || '.bench.example.jp', '',
               'E', '', 120, '', lpad((1 + g % 47)::text, 2, '0'), '', '', '', '', now(), now()
        FROM generate_series(1, {companies}) g
        """
    )
    cursor.execute("SELECT min(id) FROM leads_company")
    (first_company,) = cursor.fetchone()
    cursor.execute(
        f"""
        INSERT INTO leads_contact (company_id, email, name, name_kana, title, department,
            job_level, phone, has_consent, is_unsubscribed, created_at, updated_at)
        SELECT {first_company} + (g - 1) / 5, 'p' || g || '@bench.example.jp', 'ベンチ 太郎' || g,
               '', '部長', '', 'director', '', true, false, now(), now()
        FROM generate_series(1, {LEADS}) g
        """
    )
    # Two touches per lead before its MQL: a first and a last campaign and content.
    cursor.execute(
        """
        INSERT INTO leads_activity (contact_id, company_id, kind, occurred_at, source, external_id,
            properties, url_key, content_key, campaign_key, received_at)
        SELECT c.id, c.company_id, 'page_view', now() - interval '400 days' + t * interval '1 day',
               (ARRAY['ma-tool','web','event'])[1 + c.id % 3], 'a' || c.id || '-' || t, '{}'::jsonb,
               '', 'content-' || ((c.id * 7 + t) % 40), 'campaign-' || ((c.id + t * 3) % 15), now()
        FROM leads_contact c, generate_series(0, 1) t
        """
    )
    cursor.execute("SELECT id, spec FROM scoring_definitionversion WHERE status = 'active'")
    version, spec = cursor.fetchone()
    spec = json.loads(spec) if isinstance(spec, str) else spec
    # The breakdowns name the active definition's rules, the first one tied to the verdict
    # (g % 10 below), so the review has real evidence to fit and something to propose.
    rules = [r["key"] for group in ("attributes", "behaviour", "intents") for r in spec[group]]
    cursor.execute(
        "UPDATE scoring_definitionversion SET activated_at = now() - interval '120 days' "
        "WHERE id = %s",
        [version],
    )
    # g % 10: 0–2 rejected, 3 still an MQL, 4 accepted, 5 working, 6 handed over, 7 opportunity,
    # 8 won, 9 lost. MQL moments spread over the last 365 days.
    cursor.execute(
        f"""
        INSERT INTO handoff_cycle (contact_id, company_id, number, stage, origin, raise_reason,
            mql_at, version_id, score_total, score_fit, score_band, breakdown, owner_id,
            assigned_at, field_owner_id, first_touch_due_at, qualify_due_at, first_touch_at,
            sql_at, handed_over_at, closed_at, next_action_note, created_at, updated_at)
        SELECT c.id, c.company_id, 1,
               (ARRAY['recycled','recycled','disqualified','mql','accepted','working',
                      'handed_over','opportunity','won','lost'])[1 + g %% 10],
               'score', '', m.at, {version}, 60 + g %% 40, 30, 'hot',
               jsonb_build_array(
                 jsonb_build_object('rule', (%s::text[])[1 + g %% 10 %% {len(rules)}],
                                    'category', 'fit', 'points', 10, 'hits', 1),
                 jsonb_build_object('rule', (%s::text[])[1 + (g * 7 + 3) %% {len(rules)}],
                                    'category', 'engagement', 'points', 5, 'hits', 2)),
               (%s::bigint[])[1 + g %% {REPS}], m.at,
               CASE WHEN g %% 10 >= 6 THEN (%s::bigint[])[1 + g %% 10 %% 4] END,
               m.at + interval '2 hours', m.at + interval '7 days',
               CASE WHEN g %% 10 >= 4 THEN m.at + (g %% 5) * interval '40 minutes' END,
               CASE WHEN g %% 10 >= 6 THEN m.at + interval '3 days' END,
               CASE WHEN g %% 10 >= 6 THEN m.at + interval '3 days' END,
               CASE WHEN g %% 10 IN (0, 1, 2, 8, 9) THEN m.at + interval '20 days' END,
               '', now(), now()
        FROM generate_series(1, {CYCLES}) g
        JOIN leads_contact c ON c.id = (SELECT min(id) FROM leads_contact) + g - 1
        CROSS JOIN LATERAL (SELECT now() - (g %% 365) * interval '1 day'
                                  - (g %% 24) * interval '1 hour' AS at) m
        """,
        [rules, rules, rep_ids, field_ids],
    )
    steps = [
        ("mql", "accepted", 4, "1 hour"), ("accepted", "working", 4, "2 hours"),
        ("working", "sql", 6, "3 days"), ("sql", "handed_over", 6, "3 days"),
        ("handed_over", "opportunity", 7, "10 days"), ("opportunity", "won", 8, "20 days"),
    ]  # fmt: skip
    for from_stage, to_stage, at_least, after in steps:
        cursor.execute(
            f"""
            INSERT INTO handoff_transition (cycle_id, contact_id, company_id, from_stage, to_stage,
                actor_id, at, version_id, score_total, score_band, reason_code, note)
            SELECT id, contact_id, company_id, '{from_stage}', '{to_stage}', NULL,
                   mql_at + interval '{after}', version_id, score_total, 'hot', '', ''
            FROM handoff_cycle
            WHERE (id % 10 >= {at_least}) AND NOT (stage = 'lost' AND '{to_stage}' = 'won')
            """
        )
    cursor.execute(
        """
        INSERT INTO handoff_transition (cycle_id, contact_id, company_id, from_stage, to_stage,
            actor_id, at, version_id, score_total, score_band, reason_code, note)
        SELECT id, contact_id, company_id, 'opportunity', 'lost', NULL, closed_at, version_id,
               score_total, 'hot', 'crm_lost', '' FROM handoff_cycle WHERE stage = 'lost'
        """
    )
    cursor.execute("SELECT array_agg(id ORDER BY id) FROM feedback_reason")
    (reasons,) = cursor.fetchone()
    cursor.execute(
        f"""
        INSERT INTO handoff_transition (cycle_id, contact_id, company_id, from_stage, to_stage,
            actor_id, at, version_id, score_total, score_band, reason_code, note)
        SELECT id, contact_id, company_id, 'mql', stage, owner_id, closed_at, version_id,
               score_total, 'hot', 'mql_rejected', ''
        FROM handoff_cycle WHERE stage IN ('recycled', 'disqualified');
        INSERT INTO feedback_verdict (cycle_id, kind, decision, reason_id, disposition, note,
            judgement, actor_id, at, score_total, score_band)
        SELECT id, 'mql', CASE WHEN stage IN ('recycled', 'disqualified') THEN 'rejected'
                               ELSE 'accepted' END,
               CASE WHEN stage IN ('recycled', 'disqualified')
                    THEN (%s::bigint[])[1 + (id * 7) %% {len(reasons)}] END,
               '', '', '', owner_id, COALESCE(closed_at, mql_at + interval '1 hour'),
               score_total, score_band
        FROM handoff_cycle WHERE stage <> 'mql';
        INSERT INTO feedback_opportunity (crm_id, crm_lead_id, contact_id, cycle_id, status,
            amount, created_on, closed_on, created_at, updated_at)
        SELECT 'deal-' || id, '', contact_id, id,
               CASE stage WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' ELSE 'open' END,
               500000 + (id %% 20) * 100000, (mql_at + interval '10 days')::date,
               CASE WHEN stage IN ('won', 'lost') THEN closed_at::date END, now(), now()
        FROM handoff_cycle WHERE stage IN ('opportunity', 'won', 'lost');
        """,
        [reasons],
    )
    cursor.execute("VACUUM ANALYZE")


def users_create():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import Role
    from handoff.models import Pool, RepProfile

    User = get_user_model()
    inside, field = Group.objects.get(name=Role.INSIDE_SALES), Group.objects.get(name=Role.SALES)
    reps, fields = [], []
    for n in range(REPS + 4):
        is_field = n >= REPS
        user = User.objects.create_user(f"rep{n}", password="x" * 12, email=f"rep{n}@bench.test")
        user.groups.add(field if is_field else inside)
        RepProfile.objects.create(user=user, pool=Pool.FIELD if is_field else Pool.INSIDE)
        (fields if is_field else reps).append(user)
    manager = User.objects.create_user("bench-manager", password="x" * 12)
    manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
    return reps, fields, manager


def page_timings(client, url: str) -> tuple[float, float]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return bench_scoring.percentile(times, 0.5), bench_scoring.percentile(times, 0.95)


def floor_timing(run) -> float:
    """p95 ms of the report's main aggregate query alone."""
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return bench_scoring.percentile(times, 0.95)


def floors(actor, f) -> dict:
    from django.db.models import Count, Q
    from django.db.models.functions import TruncMonth, TruncWeek
    from django.utils import timezone

    from feedback.selectors import reports as r

    zone = timezone.get_current_timezone()
    return {
        "rejections": lambda: list(
            r._filtered(actor, f, on="rejected_at").values_list("reason_id").annotate(n=Count("pk")).order_by()
        ),
        "acceptance": lambda: list(
            r._filtered(actor, f).annotate(k=TruncWeek("mql_at", tzinfo=zone)).values("k")
            .annotate(**r._counts()).order_by("k")
        ),
        "funnel": lambda: list(
            r._filtered(actor, f).annotate(month=TruncMonth("mql_at", tzinfo=zone)).values("month")
            .annotate(n=Count("pk"), d=r.MedianSeconds("accepted_at", "mql_at")).order_by("month")
        ),
        "roi": lambda: list(
            r._filtered(actor, f).values(*r.TOUCH_COLUMNS)
            .annotate(n=Count("pk"), w=Count("pk", filter=Q(won_at__isnull=False))).order_by()
        ),
        "sla": lambda: r._filtered(actor, f).aggregate(**r._sla_measures(timezone.now())),
        "effect": lambda: r._filtered(actor, f, on=None).aggregate(
            n=Count("pk", filter=Q(mql_at__gte=timezone.now() - timezone.timedelta(days=150)))
        ),
    }  # fmt: skip


def review_time(actor, start, end) -> float:
    """Seconds of one full threshold review of the period: evidence, fit, report, draft."""
    from feedback.services.review import review_request, review_run

    review = review_request(actor=actor, period_start=start, period_end=end)
    started = time.perf_counter()
    review = review_run(review_id=review.pk)
    elapsed = time.perf_counter() - started
    print(f"  outcome {review.outcome}, status {review.status}", flush=True)
    return elapsed


def main() -> int:
    server_url = bench_scoring._server_url()
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("bench-reports needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    bench_scoring._admin(server_url, f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    bench_scoring._admin(server_url, f'CREATE DATABASE "{NAME}"')
    try:
        os.environ.update(
            bench_scoring.production_settings(
                database_url=bench_scoring._with_db(server_url, NAME),
                name="bench-reports",
                REDIS_URL="",
                CELERY_BROKER_URL="memory://localhost/",
                CELERY_TASK_ALWAYS_EAGER="false",
                EMBEDDED_BACKGROUND_TASKS="false",
                EMAIL_URL="dummymail://",
            )
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from feedback.models import CycleFacts
        from feedback.selectors import reports
        from feedback.services.facts import cycle_facts_refresh_all

        print(f"database {NAME}: migrating…", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
        reps, fields, manager = users_create()
        print(f"data: {LEADS:,} leads, {CYCLES:,} MQL cycles over a year…", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            data_create(cursor, [r.pk for r in reps], [f.pk for f in fields])
        print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)

        print("facts (the real service: touches, rule hits, sync)…", flush=True)
        started = time.perf_counter()
        cycle_facts_refresh_all()
        facts_s = time.perf_counter() - started
        count = CycleFacts.objects.exclude(synced_at=None).count()
        print(
            f"  {count:,} cycles in {facts_s:.1f} s = {count / facts_s:,.0f} cycles/s", flush=True
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        today = timezone.localdate()
        start = today - timezone.timedelta(days=364)
        query = f"?start={start.isoformat()}&end={today.isoformat()}"
        manager_client, rep_client = Client(), Client()
        manager_client.force_login(manager)
        rep_client.force_login(reps[0])
        f = reports.ReportFilter(start=start, end=today)
        with timezone.override("Asia/Tokyo"):
            floor_runs = floors(manager, f)
        print(f"report pages, the manager over a year ({REQUESTS} requests each, after 3):")
        slowest = 0.0
        for slug in reports.REPORTS:
            p50, p95 = page_timings(manager_client, f"/feedback/reports/{slug}/{query}")
            with timezone.override("Asia/Tokyo"):
                floor = floor_timing(floor_runs[slug])
            verdict = "MET" if p95 <= GOAL_P95_MS else "MISSED"
            print(
                f"  {slug:12s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  floor {floor:6.1f} ms  {verdict}"
            )
            slowest = max(slowest, p95)
        for label, url in (
            ("acceptance by rule", f"/feedback/reports/acceptance/{query}&by=rule"),
            ("a rep's own Pareto", f"/feedback/reports/rejections/{query}"),
        ):
            client = rep_client if label.startswith("a rep") else manager_client
            p50, p95 = page_timings(client, url)
            verdict = "MET" if p95 <= GOAL_P95_MS else "MISSED"
            print(f"  {label:20s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {verdict}")
            slowest = max(slowest, p95)
        print("threshold review over the year…", flush=True)
        review_s = review_time(manager, start, today)
        verdict = "MET" if review_s <= GOAL_REVIEW_S else "MISSED"
        print(f"  review: {review_s:.1f} s (goal {GOAL_REVIEW_S} s)  {verdict}")
        print(f"reports_p95_ms={slowest:.1f} review_s={review_s:.1f}")
        return 0
    finally:
        bench_scoring.database_drop_unless_kept(server_url, NAME)


if __name__ == "__main__":
    sys.exit(main())

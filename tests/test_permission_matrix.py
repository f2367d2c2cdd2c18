"""Who gets what from every URL: the resolver's patterns × anonymous, no role, each role, a token.

The patterns come from walking config.urls, so a page or endpoint added without a
row in ``EXPECTED`` fails ``test_every_url_pattern_has_a_rule`` ("new page without a
rule"), and a row left behind for a removed pattern fails it too. Pages are
requested with GET; endpoints that write are POSTed (an empty form or ``{}``), so
the denials (302 to the login page, 401, 403) are checked for the roles that must
not write, and the allowed roles get their validation answer. Each request runs in
its own rolled-back transaction, so no POST changes what the next request sees.
The Django admin counts as one URL, its index (staff or not); its own pages are
Django's and its permission system's. Static files are not URL patterns here
(whitenoise serves them), and there are no media URLs.

Columns: anonymous, a signed-in user without a role, the five roles (the
administrator, like the seeded ``admin``, is also staff and superuser; the inside
sales user owns the handoff cycle, the field sales user was handed it), and an
integration's API token. 74 patterns, 84 (pattern, method) rows, 672 requests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.services import api_token_create
from feedback.models import ThresholdReview
from handoff.models import Bant, Cycle, Notification
from leads.models import ImportJob, IntentSignal
from scoring.models import RescoreJob
from scoring.services import definitions
from tests.factories import ActivityFactory, ContactFactory
from tests.scoring.test_definitions import _ensure_active

ANON, NONE = "anonymous", "no role"
MKT, IS, FS, MGR, ADM = "marketing", "inside sales", "field sales", "manager", "admin"
TOKEN = "API token"
COLUMNS = (ANON, NONE, MKT, IS, FS, MGR, ADM, TOKEN)
ROLES = {
    MKT: Role.MARKETING,
    IS: Role.INSIDE_SALES,
    FS: Role.SALES,
    MGR: Role.SALES_MANAGER,
    ADM: Role.ADMIN,
}


@dataclass(frozen=True)
class Redirect:
    """A 302 whose Location starts with ``to``."""

    to: str

    def __repr__(self) -> str:
        return f"302→{self.to}"


LOGIN = Redirect("/accounts/login/?next=")  # sent to log in
ADMIN_LOGIN = Redirect("/admin/login/?next=")
HOME = Redirect("/")
LOGGED_OUT = Redirect("/accounts/login/")
TOKENS = Redirect("/accounts/tokens/")
IMPORT = Redirect("/leads/imports/")  # back to the import, with a message
VERSION = Redirect("/scoring/versions/")  # back to a version, with a message
LEAD = Redirect("/leads/")  # back to the lead's handoff panel
QUEUE = Redirect("/handoff/")
NOTES = Redirect("/handoff/notifications/")
REVIEW = Redirect("/feedback/reviews/")  # back to the review, with a message
REPORTS = Redirect("/feedback/reports/rejections/")


def row(*cells) -> dict[str, int | Redirect]:
    assert len(cells) == len(COLUMNS)
    return dict(zip(COLUMNS, cells, strict=True))


def every(cell) -> dict[str, int | Redirect]:
    return row(*[cell] * len(COLUMNS))


# (URL name, method) → the answer for each column. Pages are GET; writes are POSTed with an
# empty body, so an allowed role gets its validation answer (400, or a redirect back with an
# error message) and nothing is written. Pages ignore API tokens (sessions only); the API
# answers 401 without credentials and 403 to a person whose role may not.
#                               anon         none  mkt   is    fs    mgr   admin token
EXPECTED: dict[tuple[str, str], dict[str, int | Redirect]] = {
    # The composing pages: any role reads leads and companies; exports are not for reps.
    ("home", "GET"):                     row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("portal:lead-list", "GET"):         row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("portal:lead-detail", "GET"):       row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("portal:company-list", "GET"):      row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("portal:company-detail", "GET"):    row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("portal:lead-export", "GET"):       row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("portal:queue", "GET"):             row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    # Accounts: the login page sends a signed-in person home; tokens are the admin's.
    ("accounts:login", "GET"):           row(200, HOME, HOME, HOME, HOME, HOME, HOME, 200),
    ("accounts:login", "POST"):          row(200, HOME, HOME, HOME, HOME, HOME, HOME, 200),
    ("accounts:logout", "POST"):         every(LOGGED_OUT),
    ("accounts:token-list", "GET"):      row(LOGIN, 403, 403, 403, 403, 403, 200, LOGIN),
    ("accounts:token-list", "POST"):     row(LOGIN, 403, 403, 403, 403, 403, 200, LOGIN),
    ("accounts:token-revoke", "POST"):   row(LOGIN, 403, 403, 403, 403, 403, TOKENS, LOGIN),
    # Leads: timelines for every role; imports are marketing's and the admin's.
    ("leads:contact-timeline", "GET"):   row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("leads:company-timeline", "GET"):   row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("leads:import-list", "GET"):        row(LOGIN, 403, 200, 403, 403, 403, 200, LOGIN),
    ("leads:import-list", "POST"):       row(LOGIN, 403, 400, 403, 403, 403, 400, LOGIN),
    ("leads:import-detail", "GET"):      row(LOGIN, 403, 200, 403, 403, 403, 200, LOGIN),
    ("leads:import-progress", "GET"):    row(LOGIN, 403, 200, 403, 403, 403, 200, LOGIN),
    ("leads:import-check", "POST"):      row(LOGIN, 403, IMPORT, 403, 403, 403, IMPORT, LOGIN),
    ("leads:import-commit", "POST"):     row(LOGIN, 403, IMPORT, 403, 403, 403, IMPORT, LOGIN),
    # Scoring: everyone reads the definition; marketing drafts; marketing and the
    # managers decide, each for their own department (the POST names sales': 403 for
    # marketing, the form's 400 for the manager); marketing and the admin rescore.
    ("scoring:version-list", "GET"):     row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("scoring:version-compare", "GET"):  row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("scoring:version-detail", "GET"):   row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("scoring:version-edit", "GET"):     row(LOGIN, 403, 200, 403, 403, 403, 403, LOGIN),
    ("scoring:version-edit", "POST"):    row(LOGIN, 403, 400, 403, 403, 403, 403, LOGIN),
    ("scoring:version-copy", "POST"):    row(LOGIN, 403, VERSION, 403, 403, 403, 403, LOGIN),
    ("scoring:version-submit", "POST"):  row(LOGIN, 403, VERSION, 403, 403, 403, 403, LOGIN),
    ("scoring:version-withdraw", "POST"): row(LOGIN, 403, VERSION, 403, 403, 403, 403, LOGIN),
    ("scoring:version-decide", "POST"):  row(LOGIN, 403, 403, 403, 403, 400, 403, LOGIN),
    ("scoring:version-rescore", "POST"): row(LOGIN, 403, VERSION, 403, 403, 403, VERSION, LOGIN),
    ("scoring:rescore-progress", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    # Handoff: the cycle's inside-sales owner and the managers work it (the form's 400
    # for an empty call); marketing reads only; field sales acts on what it was handed.
    ("handoff:cycle-call", "POST"):      row(LOGIN, 403, 403, 400, 403, 400, 400, LOGIN),
    ("handoff:cycle-promote", "POST"):   row(LOGIN, 403, 403, LEAD, 403, LEAD, LEAD, LOGIN),
    ("handoff:contact-raise", "POST"):   row(LOGIN, 403, 403, LEAD, 403, LEAD, LEAD, LOGIN),
    ("handoff:cycles-reassign", "POST"): row(LOGIN, 403, 403, 403, 403, QUEUE, QUEUE, LOGIN),
    ("handoff:notification-list", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("handoff:notifications-read", "POST"): row(LOGIN, 403, NOTES, NOTES, NOTES, NOTES, NOTES, LOGIN),
    ("handoff:team", "GET"):             row(LOGIN, 403, 403, 403, 403, 200, 200, LOGIN),
    ("handoff:team", "POST"):            row(LOGIN, 403, 403, 403, 403, 400, 400, LOGIN),
    # Feedback: the MQL's inside-sales owner and the managers judge it (an empty verdict
    # goes back to the lead with a message); field sales records deals on its handovers.
    ("feedback:cycle-verdict", "POST"):  row(LOGIN, 403, 403, LEAD, 403, LEAD, LEAD, LOGIN),
    ("feedback:cycle-outcome", "POST"):  row(LOGIN, 403, 403, 403, LEAD, LEAD, LEAD, LOGIN),
    # The threshold review: managers and marketing read and run it (an empty run form is
    # a 400), set its target; admins (managers here) also edit its schedule.
    ("feedback:review-list", "GET"):     row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("feedback:review-run", "GET"):      row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("feedback:review-run", "POST"):     row(LOGIN, 403, 400, 403, 403, 400, 400, LOGIN),
    ("feedback:review-detail", "GET"):   row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("feedback:review-progress", "GET"): row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("feedback:review-submit", "POST"):  row(LOGIN, 403, REVIEW, 403, 403, REVIEW, REVIEW, LOGIN),
    ("feedback:review-settings", "GET"): row(LOGIN, 403, 200, 403, 403, 200, 200, LOGIN),
    ("feedback:review-settings", "POST"): row(LOGIN, 403, 400, 403, 403, 400, 400, LOGIN),
    ("feedback:review-schedule", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400, LOGIN),
    # Reports: every role that works leads reads them (a rep sees their own figures,
    # marketing the team's); the drill-down and the CSV follow the report.
    ("feedback:report-index", "GET"):    row(LOGIN, 403, REPORTS, REPORTS, REPORTS, REPORTS, REPORTS, LOGIN),
    ("feedback:report-rejections", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-acceptance", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-funnel", "GET"):   row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-roi", "GET"):      row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-sla", "GET"):      row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-effect", "GET"):   row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-leads", "GET"):    row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    ("feedback:report-csv", "GET"):      row(LOGIN, 403, 200, 200, 200, 200, 200, LOGIN),
    # Django's language switch and its JavaScript catalogue are public.
    ("set_language", "POST"):            every(HOME),
    ("javascript-catalog", "GET"):       every(200),
    # The API: every role and tokens read; integrations, marketing and the admin write.
    ("api:event-batch", "POST"):         row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:event-create", "POST"):        row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:company-list", "GET"):         row(401, 403, 200, 200, 200, 200, 200, 200),
    ("api:company-list", "POST"):        row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:company-batch", "POST"):       row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:company-detail", "GET"):       row(401, 403, 200, 200, 200, 200, 200, 200),
    ("api:contact-list", "GET"):         row(401, 403, 200, 200, 200, 200, 200, 200),
    ("api:contact-list", "POST"):        row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:contact-batch", "POST"):       row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:contact-detail", "GET"):       row(401, 403, 200, 200, 200, 200, 200, 200),
    ("api:intent-list", "GET"):          row(401, 403, 200, 200, 200, 200, 200, 200),
    ("api:intent-list", "POST"):         row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:intent-batch", "POST"):        row(401, 403, 400, 403, 403, 403, 400, 400),
    ("api:intent-detail", "GET"):        row(401, 403, 200, 200, 200, 200, 200, 200),
    ("scoring-api:lead-score", "GET"):   row(401, 403, 200, 200, 200, 200, 200, 200),
    ("handoff-api:queue", "GET"):        row(401, 403, 200, 200, 200, 200, 200, 200),
    # Calls and promotion as on the pages; promoting without BANT is a 409.
    ("handoff-api:calls", "POST"):       row(401, 403, 403, 400, 403, 400, 400, 400),
    ("handoff-api:promote", "POST"):     row(401, 403, 403, 409, 403, 409, 409, 409),
    ("feedback-api:outcomes", "POST"):   row(401, 403, 403, 403, 400, 400, 400, 400),
    # The schema and its docs: signed in (any role or none) or a token; the docs page is
    # a browser's, so a token alone gets the login page.
    ("api-schema", "GET"):               row(401, 200, 200, 200, 200, 200, 200, 200),
    ("api-docs", "GET"):                 row(LOGIN, 200, 200, 200, 200, 200, 200, LOGIN),
    # The Django admin: staff only (the administrator here is staff, as seed_demo makes it).
    ("admin:index", "GET"):              row(*[ADMIN_LOGIN] * 6, 200, ADMIN_LOGIN),
}  # fmt: skip

# What a POST sends when an empty body is not enough to reach the check worth testing.
POST_DATA = {"scoring:version-decide": {"department": "sales"}}
# What a GET sends when a page needs it (the drill-down names a report's figure).
GET_DATA = {"feedback:report-leads": {"report": "rejections", "reason": "no_need"}}


def _world_urls(world) -> dict[str, dict]:
    """The URL kwargs of each pattern that takes any, from the seeded objects."""
    return {
        "portal:lead-detail": {"contact_id": world.contact},
        "portal:company-detail": {"company_id": world.company},
        "accounts:token-revoke": {"token_id": world.token},
        "leads:contact-timeline": {"contact_id": world.contact},
        "leads:company-timeline": {"company_id": world.company},
        "leads:import-detail": {"job_id": world.import_job},
        "leads:import-progress": {"job_id": world.import_job},
        "leads:import-check": {"job_id": world.import_job},
        "leads:import-commit": {"job_id": world.import_job},
        "scoring:version-detail": {"version_id": world.active},
        "scoring:version-edit": {"version_id": world.draft},
        "scoring:version-copy": {"version_id": world.active},
        "scoring:version-submit": {"version_id": world.draft},
        "scoring:version-withdraw": {"version_id": world.submitted},
        "scoring:version-decide": {"version_id": world.submitted},
        "scoring:version-rescore": {"version_id": world.active},
        "scoring:rescore-progress": {"job_id": world.rescore_job},
        "handoff:cycle-call": {"cycle_id": world.cycle},
        "handoff:cycle-promote": {"cycle_id": world.cycle},
        "handoff:contact-raise": {"contact_id": world.contact},
        "feedback:cycle-verdict": {"cycle_id": world.cycle},
        "feedback:cycle-outcome": {"cycle_id": world.cycle},
        "feedback:review-detail": {"review_id": world.review},
        "feedback:review-progress": {"review_id": world.review},
        "feedback:review-submit": {"review_id": world.review},
        "feedback:report-csv": {"slug": "funnel"},
        "api:company-detail": {"pk": world.company},
        "api:contact-detail": {"pk": world.contact},
        "api:intent-detail": {"pk": world.intent},
        "scoring-api:lead-score": {"pk": world.contact},
        "handoff-api:calls": {"pk": world.cycle},
        "handoff-api:promote": {"pk": world.cycle},
    }


@dataclass(frozen=True)
class World:
    users: dict
    contact: int
    company: int
    intent: int
    token: int
    import_job: int
    active: int
    draft: int
    submitted: int
    secret: str
    rescore_job: int
    cycle: int
    review: int


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One small seeded world for the whole module, rolled back at its end.

    Each test's own transaction (the ``db`` fixture) is a savepoint inside this one.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        now = timezone.now()
        users_model = get_user_model()
        users = {ANON: None, NONE: users_model.objects.create(username="matrix-none")}
        for column, role in ROLES.items():
            user = users_model.objects.create(
                username=f"matrix-{role.value}", is_staff=column == ADM, is_superuser=column == ADM
            )
            # get_or_create: a transactional test's flush removed the migration's groups.
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
            users[column] = user
        contact = ContactFactory()
        ActivityFactory(contact=contact)
        intent = IntentSignal.objects.create(
            company=contact.company, topic="CRM", strength=70, observed_at=now,
            provider="matrix", external_id="m-1",
        )  # fmt: skip
        issued = api_token_create(name="matrix", actor=None)
        import_job = ImportJob.objects.create(
            file_name="leads.csv", content=b"email\nm@example.jp\n", encoding="utf-8",
            status=ImportJob.Status.DONE, created_by=users[MKT],
        )  # fmt: skip
        active = _ensure_active()
        draft = definitions.draft_create(actor=users[MKT], based_on=active)
        submitted = definitions.draft_create(actor=users[MKT], based_on=active)
        submitted.change_note = "matrix"
        submitted.save(update_fields=["change_note"])
        definitions.draft_submit(actor=users[MKT], version=submitted)
        rescore_job = RescoreJob.objects.create(
            version=active, status=RescoreJob.Status.DONE, as_of=now
        )
        cycle = Cycle.objects.create(
            contact=contact, company_id=contact.company_id, mql_at=now,
            owner=users[IS], field_owner=users[FS], score_total=70, score_band="hot",
            first_touch_due_at=now + dt.timedelta(hours=2),
            qualify_due_at=now + dt.timedelta(days=7),
        )  # fmt: skip
        Bant.objects.create(cycle=cycle)
        review = ThresholdReview.objects.create(
            period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31),
            status=ThresholdReview.Status.DONE, outcome=ThresholdReview.Outcome.TOO_THIN,
        )  # fmt: skip
        Notification.objects.create(
            user=users[IS], cycle=cycle, kind=Notification.Kind.ASSIGNED, created_at=now
        )
        yield World(
            users=users, contact=contact.pk, company=contact.company_id, intent=intent.pk,
            token=issued.token.pk, secret=issued.secret, import_job=import_job.pk,
            active=active.pk, draft=draft.pk, submitted=submitted.pk,
            rescore_job=rescore_job.pk, cycle=cycle.pk, review=review.pk,
        )  # fmt: skip
        transaction.set_rollback(True)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    """(name, route) of every URL pattern; the admin as its index only."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin:index", prefix + str(pattern.pattern)
                continue
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield namespace + (pattern.name or str(pattern.pattern)), prefix + str(pattern.pattern)


def _request(world: World, name: str, method: str, column: str):
    url = reverse(name, kwargs=_world_urls(world).get(name, {}))
    client = Client()
    if column == TOKEN:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {world.secret}")
    elif world.users[column] is not None:
        client.force_login(world.users[column])
    if method == "GET":
        return client.get(url, GET_DATA.get(name, {}))
    if url.startswith("/api/v1/"):
        return client.post(url, "{}", content_type="application/json")
    return client.post(url, POST_DATA.get(name, {}))


def _answer(response) -> int | Redirect:
    """The status, or for a 302 the expected Redirect its Location matches."""
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    candidates = {cell for cells in EXPECTED.values() for cell in cells.values()}
    matching = [c for c in candidates if isinstance(c, Redirect) and location.startswith(c.to)]
    # The most specific: /accounts/login/?next= before /accounts/login/ before /.
    return max(matching, key=lambda c: len(c.to), default=Redirect(location))


def test_every_url_pattern_has_a_rule():
    walked = {name for name, _route in _walk(get_resolver().url_patterns)}
    ruled = {name for name, _method in EXPECTED}
    assert sorted(walked - ruled) == [], "new page without a rule: add it to EXPECTED"
    assert sorted(ruled - walked) == [], "rule for a page that no longer exists"


def test_every_rule_has_every_column():
    assert {tuple(cells) for cells in EXPECTED.values()} == {COLUMNS}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), list(EXPECTED))
def test_who_gets_what(world, name, method):
    expected = EXPECTED[(name, method)]
    got = {}
    for column in COLUMNS:
        with transaction.atomic():
            got[column] = _answer(_request(world, name, method, column))
            transaction.set_rollback(True)  # an allowed POST leaves nothing behind
    assert got == expected

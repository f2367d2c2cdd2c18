"""make bench-review: the threshold review on real outcomes (UCI bank marketing).

The UCI bank-marketing calls (Moro, Cortez & Rita 2014, CC BY 4.0; read from
../shared/datasets/uci_bank_marketing/, never copied into the repository) are a
campaign whose every client was called and whose outcome ``y`` (a term deposit) is
known. The file has no year: rows are in date order from May 2008, so a month lower
than the one before starts a new year.

In a fresh SQLite database in a temporary directory (the embedded default; Celery
eager), through the portal's own paths:

1. load: each client becomes a contact (``contacts_upsert``) of a company of its own
   (``companies_upsert``), the client's facts as fit attributes: job → title,
   education and marital status → department, age → the company's employee count
   (the one numeric attribute), the contact type → the e-mail domain
   (``cellular.example`` / ``telephone.example``). The campaign's calls (``campaign``),
   the contacts of earlier campaigns (``previous``) and an earlier campaign's success
   (``poutcome``) are activities (``events_ingest``: chats tagged ``current`` or
   ``previous``, and a form submission for the earlier success) in the days before
   the client's last call. ``duration`` (known only after the call) and the month's
   economic indicators are left out.
2. the starter definition below, as a marketer would write it for this campaign,
   activated through scoring's draft and two-department approval;
3. every client of the training months is a judged MQL (the campaign called them all):
   a cycle at its last call with the starter's score and breakdown, its report facts
   (``cycle_facts_refresh_all``: the rule hits), and a verdict: ``y`` = yes is accepted
   and a deal won, no is rejected (no need);
4. the review through ``review_request`` and ``review_run`` (acceptance target
   ``BENCH_REVIEW_TARGET``, default 0.20), which proposes a draft;
5. evaluation on the later months: each client scored by the engine under the starter
   and the proposed definition; AUC, and precision, recall and the share of clients
   that are MQLs at the proposed hot threshold; beside a reference, a plain logistic
   regression on the same facts (one-hot categories, age, counts): the ceiling a
   points system can approach.

The default split: May 2008 to April 2009 train (30,430 clients), May to September 2009
test (7,724). (Training on 2008 alone leaves too few earlier-campaign clients to learn
their weight from: the earlier campaigns' contacts start late in 2008.) ``TRAIN=path
TEST=path`` (files in the same format) train and evaluate on those files instead.

The last line is machine-readable:
``auc_starter=… auc_proposed=… auc_reference=… precision=… recall=… mql_share=…``
"""

from __future__ import annotations

import csv
import gzip
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = (
    Path(os.environ.get("DEMO_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
    / "uci_bank_marketing"
    / "bank-additional-2008-05_2009-09.csv.gz"
)
TARGET = os.environ.get("BENCH_REVIEW_TARGET", "0.20")
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
BATCH = 2000
# The months before train, the months from test (May–September 2009: 7,724 clients).
SPLIT = date(2009, 5, 1)
GOAL_OVER_STARTER = 0.05
GOAL_UNDER_REFERENCE = 0.03


@dataclass(frozen=True)
class Client:
    n: int
    age: int
    job: str
    marital: str
    education: str
    contact: str
    campaign: int
    pdays: int
    previous: int
    poutcome: str
    called_on: date
    subscribed: bool

    @property
    def email(self) -> str:
        return f"client{self.n}@{self.contact}.example"

    @property
    def domain(self) -> str:
        return f"c{self.n}.bank.example"


def clients_read(path: Path, *, start: int = 0) -> list[Client]:
    """The rows of ``path``, each dated: the month it names, in the year the order implies."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        year, last, index = 2008, None, 0
        for row in csv.DictReader(handle, delimiter=";"):
            month = MONTHS.index(row["month"]) + 1
            if last is not None and month < last:
                year += 1
            if month != last:
                index = 0
            last = month
            index += 1
            rows.append((row, date(year, month, 1 + min(27, index * 28 // 8000))))
    return [
        Client(
            n=start + i,
            age=int(row["age"]),
            job=row["job"],
            marital=row["marital"],
            education=row["education"],
            contact=row["contact"],
            campaign=int(row["campaign"]),
            pdays=int(row["pdays"]),
            previous=int(row["previous"]),
            poutcome=row["poutcome"],
            called_on=day,
            subscribed=row["y"] == "yes",
        )
        for i, (row, day) in enumerate(rows)
    ]


def _label(en: str) -> dict[str, str]:
    return {"ja": en, "en": en}


def starter_spec() -> dict:
    """What a marketer would write for a term-deposit campaign, before any verdict.

    More calls and earlier contacts read as interest; an earlier success, students and
    retirees (time and savings), the young and the old, graduates, single people and
    mobile phones count for a little each; blue-collar jobs a little against. No decay
    and no window: the campaign's facts do not age within it. Hot from 30 points.
    """

    def attr(key, attribute, op, value, points):
        return {"key": key, "label": _label(key), "attribute": attribute, "op": op,
                "value": value, "points": points}  # fmt: skip

    def act(key, kind, campaign, points, cap):
        return {"key": key, "label": _label(key), "kinds": [kind], "url_contains": "",
                "content_contains": "", "campaign": campaign, "points": points, "cap": cap,
                "half_life_days": None, "window_days": None}  # fmt: skip

    return {
        "format": 2,
        "thresholds": {"warm": 15, "hot": 30, "fit_floor": None},
        "bant": {"required": [], "min_count": 0},
        "attributes": [
            attr("student", "contact.title", "contains_any", ["student"], 10),
            attr("retired", "contact.title", "contains_any", ["retired"], 10),
            attr("blue_collar", "contact.title", "contains_any", ["blue-collar"], -5),
            attr("manager_job", "contact.title", "contains_any", ["management"], 5),
            attr("young", "company.employee_count", "lte", 25, 5),
            attr("senior", "company.employee_count", "gte", 60, 5),
            attr("graduate", "contact.department", "contains_any", ["university"], 5),
            attr("single", "contact.department", "contains_any", ["single"], 3),
            attr("mobile", "contact.email_domain", "contains_any", ["cellular"], 5),
        ],
        "behaviour": [
            act("campaign_call", "chat", "current", 5, 25),
            act("earlier_contact", "chat", "previous", 10, 30),
            act("earlier_success", "form_submission", "previous", 20, 20),
        ],
        "intents": [],
    }


def _moment(day: date, hours: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


def load(clients: list[Client]) -> dict[int, int]:
    """Contacts, companies and activities through leads' services; client n → contact id."""
    from leads.services.contacts import ContactInput, contacts_upsert
    from leads.services.ingest import CompanyInput, EventInput, companies_upsert, events_ingest
    from leads.services.resolve import CompanyRef

    ids: dict[int, int] = {}
    for i in range(0, len(clients), BATCH):
        part = clients[i : i + BATCH]
        companies_upsert(
            companies=[
                CompanyInput(
                    ref=CompanyRef.make(domain=c.domain, name=f"client {c.n}"),
                    values={"employee_count": c.age},
                )
                for c in part
            ]
        )
        result = contacts_upsert(
            contacts=[
                ContactInput(
                    email=c.email,
                    title=c.job,
                    department=f"{c.education} {c.marital}",
                    company=CompanyRef.make(domain=c.domain),
                )
                for c in part
            ],
            overwrite=True,
        )
        for c in part:
            ids[c.n] = result.ids[c.email.lower()]
        events = []
        for c in part:
            last = _moment(c.called_on)
            for k in range(c.campaign):
                events.append(("chat", f"call-{c.n}-{k}", last - timedelta(days=k), "current", c))
            earlier = last - timedelta(days=c.pdays if c.pdays != 999 else 120)
            for k in range(c.previous):
                events.append(
                    ("chat", f"prev-{c.n}-{k}", earlier - timedelta(days=k), "previous", c)
                )
            if c.poutcome == "success":
                events.append(("form_submission", f"won-{c.n}", earlier, "previous", c))
        for j in range(0, len(events), BATCH):
            events_ingest(
                events=[
                    EventInput(
                        source="bank",
                        external_id=ext,
                        kind=kind,
                        occurred_at=at,
                        properties={"campaign": campaign},
                        contact=ContactInput(email=c.email),
                    )
                    for kind, ext, at, campaign, c in events[j : j + BATCH]
                ]
            )
    return ids


def facts_of(contact_ids: list[int]) -> dict[int, object]:
    """Each contact's engine facts, read in bulk (as the set-based rescoring reads them)."""
    from leads.models import Activity, Contact
    from scoring.engine import ActivityFact, LeadFacts
    from scoring.facts import CONTACT_FIELDS, attributes_of

    activities: dict[int, list] = {cid: [] for cid in contact_ids}
    for i in range(0, len(contact_ids), 5000):
        chunk = contact_ids[i : i + 5000]
        for cid, kind, at, props in Activity.objects.filter(contact_id__in=chunk).values_list(
            "contact_id", "kind", "occurred_at", "properties"
        ):
            activities[cid].append(ActivityFact(kind=kind, occurred_at=at, properties=props or {}))
    facts = {}
    for i in range(0, len(contact_ids), 5000):
        chunk = contact_ids[i : i + 5000]
        for row in Contact.objects.filter(pk__in=chunk).values("pk", *CONTACT_FIELDS):
            facts[row["pk"]] = LeadFacts(
                attributes=attributes_of(row), activities=activities[row["pk"]]
            )
    return facts


def definition_activate(spec: dict, users: dict):
    from scoring.models import DefinitionVersion
    from scoring.services import definitions

    based = DefinitionVersion.objects.filter(status="active").first()
    draft = definitions.draft_create(actor=users["marketing"], based_on=based)
    draft = definitions.draft_update(
        actor=users["marketing"],
        version=draft,
        spec=spec,
        title="bank campaign starter",
        change_note="the marketer's starter for the term-deposit campaign",
    )
    definitions.draft_submit(actor=users["marketing"], version=draft)
    definitions.version_decide(
        actor=users["marketing"], version=draft, department="marketing", approve=True, comment="ok"
    )
    definitions.version_decide(
        actor=users["manager"], version=draft, department="sales", approve=True, comment="ok"
    )
    draft.refresh_from_db()
    return draft


def judged_cycles(clients: list[Client], ids: dict[int, int], version, facts) -> None:
    """Every training client as a judged MQL: cycle, report facts, verdict, deal."""
    from feedback.models import Kind, Opportunity, Reason, Verdict
    from feedback.services.facts import cycle_facts_refresh_all
    from handoff.models import Cycle, Stage
    from handoff.services.lifecycle import score_snapshot
    from leads.models import Contact
    from scoring.engine import score
    from scoring.spec import definition_from_spec

    definition = definition_from_spec(version.spec)
    company_of = dict(
        Contact.objects.filter(pk__in=list(ids.values())).values_list("pk", "company_id")
    )
    reason = Reason.objects.get(code="no_need")
    for i in range(0, len(clients), BATCH):
        part = clients[i : i + BATCH]
        cycles = []
        for c in part:
            at = _moment(c.called_on, 13)
            s = score(definition, facts[ids[c.n]], at)
            cycles.append(
                Cycle(
                    contact_id=ids[c.n],
                    company_id=company_of[ids[c.n]],
                    mql_at=at,
                    origin=Cycle.Origin.SALES,
                    version=version,
                    score_total=s.total,
                    score_fit=s.fit,
                    score_band=s.band,
                    breakdown=score_snapshot(s),
                    stage=Stage.WON if c.subscribed else Stage.RECYCLED,
                    closed_at=at,
                )
            )
        Cycle.objects.bulk_create(cycles)
        made = Cycle.objects.filter(contact_id__in=[ids[c.n] for c in part]).values_list(
            "contact_id", "pk"
        )
        cycle_of = dict(made)
        Verdict.objects.bulk_create(
            [
                Verdict(
                    cycle_id=cycle_of[ids[c.n]],
                    kind=Kind.MQL,
                    decision="accepted" if c.subscribed else "rejected",
                    reason=None if c.subscribed else reason,
                    disposition="" if c.subscribed else "recycled",
                    at=_moment(c.called_on, 14),
                )
                for c in part
            ]
        )
        Opportunity.objects.bulk_create(
            [
                Opportunity(
                    crm_id=f"deposit-{c.n}",
                    contact_id=ids[c.n],
                    cycle_id=cycle_of[ids[c.n]],
                    status="won",
                    created_on=c.called_on,
                    closed_on=c.called_on,
                )
                for c in part
                if c.subscribed
            ]
        )
    cycle_facts_refresh_all()


def reference_auc(train: list[Client], test: list[Client]) -> float:
    """A plain logistic regression on the same facts: the ceiling for a points system."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def table(rows):
        cats = [[c.job, c.marital, c.education, c.contact, c.poutcome] for c in rows]
        nums = [
            [c.age, c.age**2 / 100, c.campaign, c.previous, float(c.pdays != 999)] for c in rows
        ]
        return cats, np.array(nums, dtype=float)

    enc, scale = OneHotEncoder(handle_unknown="ignore"), StandardScaler()
    cats, nums = table(train)
    x = np.hstack([enc.fit_transform(cats).toarray(), scale.fit_transform(nums)])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, [c.subscribed for c in train])
    cats, nums = table(test)
    xt = np.hstack([enc.transform(cats).toarray(), scale.transform(nums)])
    return float(roc_auc_score([c.subscribed for c in test], model.predict_proba(xt)[:, 1]))


def main() -> int:
    started = time.perf_counter()
    train_path, test_path = os.environ.get("TRAIN"), os.environ.get("TEST")
    if train_path and test_path:
        train = clients_read(Path(train_path))
        test = clients_read(Path(test_path), start=len(train))
    else:
        if not DATA.is_file():
            print(f"missing {DATA}: the shared datasets are needed (or TRAIN= TEST=)")
            return 2
        everyone = clients_read(DATA)
        train = [c for c in everyone if c.called_on < SPLIT]
        test = [c for c in everyone if c.called_on >= SPLIT]
    tmp = tempfile.mkdtemp(prefix="bench_review_")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/review.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ["EMBEDDED_BACKGROUND_TASKS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from sklearn.metrics import roc_auc_score

    from feedback.models import ReviewSettings, ThresholdReview
    from feedback.services.review import review_request, review_run
    from scoring.engine import score
    from scoring.spec import definition_from_spec

    call_command("migrate", verbosity=0)
    users = {}
    for name, role in (("marketing", "marketing"), ("manager", "sales_manager")):
        user = get_user_model().objects.create(username=f"bench-{name}")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[name] = user
    inside = get_user_model().objects.create(username="bench-inside")
    inside.groups.add(Group.objects.get_or_create(name="inside_sales")[0])

    print(
        f"train {len(train)} clients ({sum(c.subscribed for c in train)} subscribed), "
        f"test {len(test)} ({sum(c.subscribed for c in test)})"
    )
    t = time.perf_counter()
    ids = load(train + test)
    print(f"loaded through leads' services in {time.perf_counter() - t:.1f} s")
    starter = definition_activate(starter_spec(), users)
    # Activating it sent the leads it made hot to the queue; the campaign called every
    # client, so those cycles give way to one judged cycle per training client.
    from handoff.models import Cycle

    Cycle.objects.all().delete()
    facts = facts_of(list(ids.values()))
    t = time.perf_counter()
    judged_cycles(train, ids, starter, facts)
    print(f"judged cycles and report facts in {time.perf_counter() - t:.1f} s")

    ReviewSettings.objects.filter(pk=1).update(acceptance_target=TARGET, min_decided=100)
    t = time.perf_counter()
    review = review_request(
        actor=users["manager"],
        period_start=min(c.called_on for c in train),
        period_end=max(c.called_on for c in train),
    )
    if review.status == ThresholdReview.Status.QUEUED:
        review_run(review_id=review.pk)
    review.refresh_from_db()
    print(
        f"review #{review.pk}: {review.status} {review.outcome} in {time.perf_counter() - t:.1f} s"
    )
    if review.proposed_version is None:
        print(f"no proposal: {review.error or review.outcome}")
        return 1
    proposed = review.proposed_version
    report = review.report
    for rule in report["rules"]:
        print(
            f"  {rule['key']:<16} {rule['points']:>6g} → {rule['proposed']:>6g}  "
            f"lift {rule['lift'] or 0:.2f}  {','.join(rule['flags'])}"
        )
    hot = float(proposed.spec["thresholds"]["hot"])
    print(f"  hot {report['current']['hot']:g} → {hot:g}")

    y = [c.subscribed for c in test]

    def scores_under(spec) -> list[float]:
        definition = definition_from_spec(spec)
        return [score(definition, facts[ids[c.n]], _moment(c.called_on, 13)).total for c in test]

    s_starter, s_proposed = scores_under(starter.spec), scores_under(proposed.spec)
    auc_starter = float(roc_auc_score(y, s_starter))
    auc_proposed = float(roc_auc_score(y, s_proposed))
    auc_reference = reference_auc(train, test)
    mql = [s >= hot for s in s_proposed]
    true_pos = sum(1 for m, yes in zip(mql, y, strict=True) if m and yes)
    precision = true_pos / sum(mql) if any(mql) else 0.0
    recall = true_pos / sum(y) if any(y) else 0.0
    share = sum(mql) / len(mql)
    starter_hot = float(starter.spec["thresholds"]["hot"])
    starter_share = sum(s >= starter_hot for s in s_starter) / len(s_starter)
    print(f"starter MQL share at its hot {starter_hot:g}: {starter_share:.3f}")
    over, under = auc_proposed - auc_starter, auc_reference - auc_proposed
    print(
        f"proposal over starter {over:+.3f} (goal ≥ {GOAL_OVER_STARTER}), under reference "
        f"{under:.3f} (goal ≤ {GOAL_UNDER_REFERENCE}); {time.perf_counter() - started:.0f} s"
    )
    print(
        f"auc_starter={auc_starter:.3f} auc_proposed={auc_proposed:.3f} "
        f"auc_reference={auc_reference:.3f} precision={precision:.3f} recall={recall:.3f} "
        f"mql_share={share:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

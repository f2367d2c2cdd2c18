"""Typed factories for the leads domain."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from leads.models import Activity, Company, Contact, IntentSignal
from leads.normalize import company_name_key


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    name_key = factory.LazyAttribute(lambda o: company_name_key(o.name))
    domain = factory.Sequence(lambda n: f"test{n}.example.co.jp")
    employee_count = 250
    prefecture = "13"
    region = "kanto"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"person{n}@test.example.co.jp")
    name = factory.Sequence(lambda n: f"山田 太郎{n}")
    name_kana = "ヤマダ タロウ"
    title = "部長"
    job_level = Contact.JobLevel.DIRECTOR


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda o: o.contact.company if o.contact else None)
    kind = Activity.Kind.PAGE_VIEW
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    source = "ma-tool"
    external_id = factory.Sequence(lambda n: f"evt-{n}")
    properties = factory.LazyFunction(lambda: {"url": "/pricing"})


class IntentSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntentSignal

    company = factory.SubFactory(CompanyFactory)
    topic = "CRM"
    strength = 70
    observed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    provider = "bombora"
    external_id = factory.Sequence(lambda n: f"int-{n}")


# --- Handoff and feedback: cycles and their report facts ----------------------------


class CycleFactory(factory.django.DjangoModelFactory):
    """A cycle at MQL, with its SLA clocks; report tests set the moments they need."""

    class Meta:
        model = "handoff.Cycle"

    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda o: o.contact.company if o.contact else None)
    stage = "mql"
    mql_at = factory.LazyFunction(timezone.now)
    score_total = 72
    score_band = "hot"
    first_touch_due_at = factory.LazyAttribute(lambda o: o.mql_at + dt.timedelta(hours=2))
    qualify_due_at = factory.LazyAttribute(lambda o: o.mql_at + dt.timedelta(days=7))


class TransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "handoff.Transition"

    cycle = factory.SubFactory(CycleFactory)
    contact = factory.LazyAttribute(lambda o: o.cycle.contact)
    company = factory.LazyAttribute(lambda o: o.cycle.company)
    from_stage = "mql"
    to_stage = "accepted"
    at = factory.LazyFunction(timezone.now)


class VerdictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Verdict"

    cycle = factory.SubFactory(CycleFactory)
    kind = "mql"
    decision = "accepted"
    at = factory.LazyFunction(timezone.now)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Opportunity"

    crm_id = factory.Sequence(lambda n: f"deal-{n}")
    cycle = factory.SubFactory(CycleFactory)
    contact = factory.LazyAttribute(lambda o: o.cycle.contact)
    status = "won"
    amount = 1_000_000
    created_on = factory.LazyFunction(timezone.localdate)
    closed_on = factory.LazyFunction(timezone.localdate)

"""From the leads tables to the engine's facts: the one adapter between them.

``attributes_of`` maps a contact (with its company) or a company to the
engine's flat attribute keys; the set-based rescoring and ``facts_for_*`` (the
explainer, and the tests that hold SQL to the pure engine) both use it, so the
two cannot disagree about what a rule sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leads.models import Activity, Company, Contact, IntentSignal
from leads.normalize import email_domain
from scoring.engine import ActivityFact, AttrValue, IntentFact, LeadFacts

# The columns attributes_of reads, as ORM paths from a Contact.
CONTACT_FIELDS = (
    "id",
    "company_id",
    "email",
    "title",
    "job_level",
    "department",
    "is_unsubscribed",
    "has_consent",
    "company__industry",
    "company__employee_count",
    "company__prefecture",
    "company__region",
    "company__revenue_band",
    "company__domain",
)
# The same, from a Company (an account: no contact).
COMPANY_FIELDS = (
    "id",
    "industry",
    "employee_count",
    "prefecture",
    "region",
    "revenue_band",
    "domain",
)


def attributes_of(row: Mapping[str, Any]) -> dict[str, AttrValue]:
    """Engine attributes from a ``values(*CONTACT_FIELDS)`` or ``values(*COMPANY_FIELDS)`` row."""
    if "email" in row:
        prefix = "company__"
        attributes: dict[str, AttrValue] = {
            "contact.title": row["title"],
            "contact.job_level": row["job_level"],
            "contact.department": row["department"],
            "contact.email_domain": email_domain(row["email"]),
            "contact.is_unsubscribed": row["is_unsubscribed"],
            "contact.has_consent": row["has_consent"],
        }
    else:
        prefix = ""
        attributes = {}
    for name in ("industry", "employee_count", "prefecture", "region", "revenue_band", "domain"):
        attributes[f"company.{name}"] = row[prefix + name]
    return attributes


def _activity_facts(rows) -> list[ActivityFact]:
    return [
        ActivityFact(
            kind=kind,
            occurred_at=occurred_at,
            properties={
                k: v
                for k, v in (props or {}).items()
                if isinstance(v, str | int | float) and not isinstance(v, bool)
            },
        )
        for kind, occurred_at, props in rows.values_list("kind", "occurred_at", "properties")
    ]


def _intent_facts(company_id: int | None) -> list[IntentFact]:
    if company_id is None:
        return []
    rows = IntentSignal.objects.filter(company_id=company_id)
    return [
        IntentFact(topic=topic, strength=strength, observed_at=observed_at)
        for topic, strength, observed_at in rows.values_list("topic", "strength", "observed_at")
    ]


def facts_for_contact(contact_id: int) -> LeadFacts:
    """All the engine needs about one lead: a few queries, for one lead only.

    Its own activity, its company's contact-less activity and its company's
    intent, so an account's score carries over to its contacts.
    """
    row = Contact.objects.filter(pk=contact_id).values(*CONTACT_FIELDS).get()
    own = Activity.objects.filter(contact_id=contact_id)
    activities = _activity_facts(own)
    if row["company_id"] is not None:
        shared = Activity.objects.filter(company_id=row["company_id"], contact__isnull=True)
        activities += _activity_facts(shared)
    return LeadFacts(attributes_of(row), activities, _intent_facts(row["company_id"]))


def facts_for_company(company_id: int) -> LeadFacts:
    """An account's facts: its attributes, contact-less activity and intent."""
    row = Company.objects.filter(pk=company_id).values(*COMPANY_FIELDS).get()
    shared = Activity.objects.filter(company_id=company_id, contact__isnull=True)
    return LeadFacts(attributes_of(row), _activity_facts(shared), _intent_facts(company_id))

"""New and changed contacts are queued for scoring, whichever way they come in."""

from __future__ import annotations

from pathlib import Path

import pytest

from leads.models import Contact
from leads.services.contacts import ContactInput, contacts_upsert
from leads.services.imports import leads_import_csv
from scoring.models import PendingRescore

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent.parent / "fixtures" / "leads_cp932.csv"


def _pending_contacts() -> set[int]:
    return set(PendingRescore.objects.exclude(contact=None).values_list("contact_id", flat=True))


def test_a_csv_import_queues_its_contacts_each_once():
    outcome = leads_import_csv(data=FIXTURE.read_bytes(), dry_run=False)
    assert not outcome.errors
    companies = set(
        PendingRescore.objects.filter(company__isnull=False).values_list("company_id", flat=True)
    )
    through_company = set(
        Contact.objects.filter(company_id__in=companies).values_list("id", flat=True)
    )
    # A pending company stands for its contacts: each contact is queued one way, not both.
    assert _pending_contacts() | through_company == set(
        Contact.objects.values_list("id", flat=True)
    )
    assert not _pending_contacts() & through_company
    assert companies


def test_a_dry_run_queues_nothing():
    leads_import_csv(data=FIXTURE.read_bytes(), dry_run=True)
    assert not PendingRescore.objects.exists()


def test_an_api_contact_upsert_queues_the_contact():
    result = contacts_upsert(
        contacts=[ContactInput(email="hanako@example.co.jp", name="山田 花子")], overwrite=True
    )
    assert _pending_contacts() == set(result.ids.values())

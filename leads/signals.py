"""What the leads domain tells other apps (scoring) about the facts it stores.

Every writer of lead facts (contacts, companies, activity, intent) calls
``lead_facts_changed`` inside the transaction that stored them, and nothing else
sends these signals (tests/leads/test_facts_changed.py holds every writer to it), so
a receiver's writes commit or roll back with the data.
"""

from collections.abc import Iterable
from datetime import datetime

from django.dispatch import Signal

# New activity or intent was stored. kwargs: contact_ids, company_ids (frozensets
# of the contacts and companies whose activity or intent changed) and earliest
# (the earliest occurred_at / observed_at among the new rows: events can
# arrive late, and a listener keeping running totals must know how late).
lead_activity_changed = Signal()

# Contacts or companies were created or their attributes changed (imports, API
# upserts). kwargs: contact_ids, company_ids.
lead_attributes_changed = Signal()


def lead_facts_changed(
    *,
    contact_ids: Iterable[int] = (),
    company_ids: Iterable[int] = (),
    activity_since: datetime | None = None,
) -> None:
    """Say which leads' facts this transaction changed; the one way to send the signals.

    With ``activity_since`` (the earliest time of the new rows) new activity or
    intent arrived for them; without, their attributes changed or they are new.
    A company stands for itself (its account) and for all its contacts.
    """
    contacts, companies = frozenset(contact_ids), frozenset(company_ids)
    if not contacts and not companies:
        return
    if activity_since is not None:
        lead_activity_changed.send(
            sender=__name__, contact_ids=contacts, company_ids=companies, earliest=activity_since
        )
    else:
        lead_attributes_changed.send(sender=__name__, contact_ids=contacts, company_ids=companies)

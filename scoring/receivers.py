"""Scoring listens to the leads domain: changed leads are queued for rescoring."""

from __future__ import annotations

from django.dispatch import receiver

from leads.signals import lead_activity_changed, lead_attributes_changed
from scoring.services.jobs import REBUILD, pending_record


@receiver(lead_activity_changed, dispatch_uid="scoring.pending_on_activity")
def queue_rescore_on_activity(sender, *, contact_ids, company_ids, earliest=None, **kwargs) -> None:
    # Without ``earliest`` (a sender that does not know), rebuild to be safe.
    pending_record(contact_ids=contact_ids, company_ids=company_ids, earliest=earliest or REBUILD)


@receiver(lead_attributes_changed, dispatch_uid="scoring.pending_on_attributes")
def queue_rescore_on_attributes(sender, *, contact_ids, company_ids, **kwargs) -> None:
    # A contact may have moved to another company, whose activity and intent
    # its running totals do not hold: rebuild them.
    pending_record(contact_ids=contact_ids, company_ids=company_ids, earliest=REBUILD)

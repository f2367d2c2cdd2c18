"""Scoring listens to the leads domain: changed leads are queued for rescoring."""

from __future__ import annotations

from django.dispatch import receiver

from leads.signals import lead_activity_changed, lead_attributes_changed
from scoring.services.jobs import pending_record


@receiver(lead_activity_changed, dispatch_uid="scoring.pending_on_activity")
@receiver(lead_attributes_changed, dispatch_uid="scoring.pending_on_attributes")
def queue_rescore(sender, *, contact_ids, company_ids, **kwargs) -> None:
    pending_record(contact_ids=contact_ids, company_ids=company_ids)

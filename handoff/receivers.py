"""Handoff listens to scoring: leads that turned hot are taken in once the scores commit."""

from __future__ import annotations

from django.dispatch import receiver

from config import background
from scoring.signals import mql_events_recorded


class _Intake:
    """The on-commit callback of one transaction: one intake task, however many stores."""

    def __call__(self) -> None:
        from handoff.tasks import mql_intake

        # Right after the scores commit (inline on the embedded default); a broker
        # outage is logged, and the beat sweep takes the events in later.
        background.deliver(mql_intake)


@receiver(mql_events_recorded, dispatch_uid="handoff.intake_on_mql")
def intake_after_commit(sender, **kwargs) -> None:
    background.on_commit_once(_Intake)

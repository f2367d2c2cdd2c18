"""Feedback listens to handoff: new and changed cycles get their report facts after the commit."""

from __future__ import annotations

from django.dispatch import receiver

from config import background
from feedback.services.facts import cycle_facts_sync_after_commit
from handoff.signals import cycles_changed, cycles_opened


class _Facts:
    """The on-commit callback of one transaction: one facts task, however many sends."""

    def __call__(self) -> None:
        from feedback.tasks import cycle_facts_refresh

        # A broker outage is logged; the beat sweep computes the facts later.
        background.deliver(cycle_facts_refresh)


@receiver(cycles_opened, dispatch_uid="feedback.facts_on_cycles_opened")
def facts_after_commit(sender, **kwargs) -> None:
    background.on_commit_once(_Facts)


@receiver(cycles_changed, dispatch_uid="feedback.facts_on_cycles_changed")
def facts_sync_after_commit(sender, *, cycle_ids, **kwargs) -> None:
    cycle_facts_sync_after_commit(cycle_ids=cycle_ids)

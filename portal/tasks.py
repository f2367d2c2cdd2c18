"""Celery adapters for the composed pages."""

from __future__ import annotations

from celery import shared_task

from portal import figures


@shared_task(name="portal.tasks.home_figures_refresh", acks_late=True)
def home_figures_refresh(zone: str) -> None:
    """Recount Home's figures for one time zone (sent by the first visit that finds them stale)."""
    figures.home_figures_refresh(zone=zone)

"""Notifications: in the portal (a bell, a list, mark read) and by e-mail, once each.

Services create ``Notification`` rows in their own transactions; after commit, one task
mails the ones not mailed yet (claimed with a conditional UPDATE, so two tasks never
mail one twice). The sentence is rendered in the reader's language when shown or mailed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config import background
from handoff.models import Notification

EMAIL_BATCH = 200


def _subject(note: Notification) -> str:
    return str(Notification.Kind(note.kind).label)


def notification_text(note: Notification) -> str:
    """The notice in the active language, naming the lead."""
    cycle = note.cycle
    if cycle is None:
        return _subject(note)
    who = str(cycle.contact or cycle.company or "")
    texts = {
        Notification.Kind.ASSIGNED: _("%(lead)s is yours to call."),
        Notification.Kind.HANDED_OVER: _("%(lead)s was handed over to you as an SQL."),
        Notification.Kind.DUE_SOON: _("%(lead)s is due soon: %(what)s."),
        Notification.Kind.BREACHED: _("%(lead)s missed its SLA: %(what)s."),
        Notification.Kind.UNASSIGNED: _("%(lead)s waits with no owner: nobody in the pool is in."),
        Notification.Kind.REASSIGNED: _("%(lead)s was given to someone else."),
    }
    what = {
        "first_touch": _("first touch"),
        "qualify": _("qualification"),
    }.get(note.params.get("sla", ""), "")
    return texts.get(note.kind, "%(lead)s") % {"lead": who, "what": what}


def notification_url(note: Notification) -> str:
    if note.cycle is None:
        return reverse("handoff:notification-list")
    if note.cycle.contact_id:
        return reverse("portal:lead-detail", args=[note.cycle.contact_id])
    return reverse("portal:company-detail", args=[note.cycle.company_id])


def notifications_mark_read(*, actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread when ``ids`` is None)."""
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


class _MailNotices:
    """The on-commit callback of one transaction: one mailing task for its notices."""

    def __call__(self) -> None:
        from handoff.tasks import notifications_email as notifications_email_task

        background.send(notifications_email_task)


def notifications_email_after_commit() -> None:
    """Mail what the current transaction notified, once it commits (coalesced)."""
    background.on_commit_once(_MailNotices)


def notifications_email(*, limit: int = EMAIL_BATCH) -> int:
    """Mail the notifications not mailed yet to people with an address; returns how many.

    Each batch is claimed in a short transaction (SKIP LOCKED, then marked mailed) and
    sent after it: the mail server's slowness holds no lock, and a notice is mailed at
    most once.
    """
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(emailed_at__isnull=True)
                .select_related("user", "cycle__contact", "cycle__company")
                .order_by("id")[:limit]
            )
            if not batch:
                return sent
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
                emailed_at=timezone.now()
            )
        with get_connection() as connection:
            for note in batch:
                address = note.user.email
                if not address:
                    continue
                with translation.override(_language_of(note.user)):
                    send_mail(
                        subject="[{}] {}".format(_("Alignment Portal"), _subject(note)),
                        message=f"{notification_text(note)}\n\n{_absolute(notification_url(note))}",
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        recipient_list=[address],
                        connection=connection,
                        fail_silently=True,
                    )
                sent += 1


def _language_of(user) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path

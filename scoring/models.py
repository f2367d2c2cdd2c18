"""The shared hot-lead definition, its approvals and audit trail, and the scores.

A ``DefinitionVersion`` holds one version of the definition as JSON (see
``scoring.spec``). Exactly one version is active at a time: a partial unique
index on ``status = 'active'`` makes a second, racing activation fail in the
database rather than leave two. ``LeadScore`` is the current score of a
contact (a lead) or of a company with no contact yet (an account).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scoring.fields import FloatListField


class Band(models.TextChoices):
    COLD = "cold", _("Cold")
    WARM = "warm", _("Warm")
    HOT = "hot", _("Hot (MQL)")


class DefinitionVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING = "awaiting", _("Awaiting approval")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    number = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    change_note = models.TextField(_("what changed and why"), blank=True)
    # Set when another part of the portal (the threshold review) proposed this draft:
    # what proposed it and where its evidence is. Such a draft may be sent for approval
    # by whoever may propose (a manager who ran the review), not only by marketing.
    proposal_note = models.TextField(_("proposed by"), blank=True, default="")
    spec = models.JSONField(_("definition"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("based on"),
    )
    # Bumped on each submission, so approvals of an earlier round do not count
    # for a draft that changed after it was refused.
    review_round = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("definition version")
        verbose_name_plural = _("definition versions")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="scoring_one_active_definition",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.title}"


class Approval(models.Model):
    class Department(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SALES = "sales", _("Sales")

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    version = models.ForeignKey(
        DefinitionVersion, on_delete=models.CASCADE, related_name="approvals"
    )
    review_round = models.PositiveIntegerField()
    department = models.CharField(_("department"), max_length=10, choices=Department.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "review_round", "department"],
                name="scoring_one_decision_per_department_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.department}: {self.decision}"


class AuditEntry(models.Model):
    """Who did what to which version, and what changed (append-only)."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        ACTIVATED = "activated", _("Activated")
        RETIRED = "retired", _("Retired")
        WITHDRAWN = "withdrawn", _("Withdrawn to draft")
        RESCORED = "rescored", _("Rescore started")

    version = models.ForeignKey(
        DefinitionVersion, on_delete=models.CASCADE, related_name="audit_entries"
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    # {"comment": ..., "changes": [{"path": ..., "before": ..., "after": ...}]}
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["version", "-at"], name="scoring_audit_version_idx")]

    def __str__(self) -> str:
        return f"{self.version} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class LeadScore(models.Model):
    """The current score of a lead (``contact`` set) or of a company's account (only ``company``).

    Every company has an account score: its attributes, contact-less activity and
    intent. A company nobody there has talked to yet is an *account to prospect*.
    """

    contact = models.OneToOneField(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="score"
    )
    # Only contact_id and company_id are indexed (their unique indexes, and the
    # hot leads' partial index, whose condition reads band), and none of
    # total/fit/version: rescoring rewrites every row and changes neither id, so on
    # PostgreSQL the updates are HOT (heap-only, no index writes) unless the band moves.
    # A lead's row has no company (its company's is the account row).
    company = models.OneToOneField(
        "leads.Company",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="account_score",
    )
    version = models.ForeignKey(
        DefinitionVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    total = models.DecimalField(_("score"), max_digits=9, decimal_places=2)
    fit = models.DecimalField(_("fit"), max_digits=9, decimal_places=2)
    engagement = models.DecimalField(_("engagement"), max_digits=9, decimal_places=2)
    band = models.CharField(_("band"), max_length=4, choices=Band.choices)
    # The band this row had before its last store ("" for a first score). The
    # store's upsert sets it from the row it updates, under that row's lock, and
    # returns it: that is the band a BandChange starts from, so two stores of one
    # lead at once (two jobs, a drain and a chunk) cannot both record one move.
    previous_band = models.CharField(max_length=4, blank=True, default="", db_default="")
    scored_at = models.DateTimeField(_("scored at"))
    # A contact's running totals, kept by the incremental path: for each
    # behaviour rule, then each intent rule of ``version`` (definition order),
    # the pair (hits, decayed points at ``base_at``) of its events up to
    # ``base_at``. Decay factors out of the sum, so a later score needs only
    # the events since ``base_at`` (and those that left a window). None until
    # a drain builds it, and cleared when another version's score replaces it.
    base_at = models.DateTimeField(null=True, blank=True)
    base = FloatListField(null=True, blank=True)

    class Meta:
        indexes = [
            # The leads list filtered to hot leads (``?band=hot``, any sort; its count):
            # the few hot rows instead of a scan of every score. Keyed by contact_id
            # alone, which rescoring never changes: a new total keeps the update HOT.
            # PostgreSQL decides HOT by the columns any index reads, whatever its
            # condition, so only a change of band (rare; recorded as a BandChange)
            # writes the indexes. Never add total or fit here.
            models.Index(
                fields=["contact"],
                condition=Q(band=Band.HOT, contact__isnull=False),
                name="scoring_hot_lead_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False),
                name="scoring_score_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=True) | Q(company__isnull=True),
                name="scoring_score_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id or self.company_id}: {self.total} ({self.band})"


class BandChange(models.Model):
    """A lead or account moved from one band to another (the first score: from "")."""

    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(DefinitionVersion, on_delete=models.PROTECT, related_name="+")
    from_band = models.CharField(max_length=4, blank=True)
    to_band = models.CharField(max_length=4, choices=Band.choices)
    total = models.DecimalField(max_digits=9, decimal_places=2)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-changed_at"], name="scoring_bandchange_contact_idx"),
            models.Index(fields=["-changed_at"], name="scoring_bandchange_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_band or '-'} → {self.to_band}"


class MqlEvent(models.Model):
    """A moment a lead (or an account nobody there has talked to yet) turned hot.

    One row each time its band moves into hot, so a lead that cools down and comes back
    has a new event; ``handoff`` picks each up once (its own ``MqlIntake`` table).
    """

    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="mql_events"
    )
    # Set for an account's event only (a contact's company is the contact's).
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(DefinitionVersion, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=9, decimal_places=2)
    became_hot_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False),
                name="scoring_mql_has_subject",
            ),
        ]
        indexes = [
            # A lead's history; reports by time.
            models.Index(fields=["contact", "became_hot_at"], name="scoring_mql_contact_idx"),
            models.Index(fields=["became_hot_at"], name="scoring_mql_time_idx"),
        ]

    def __str__(self) -> str:
        subject = self.contact_id or f"account {self.company_id}"
        return f"MQL {subject} @ {self.became_hot_at:%Y-%m-%d %H:%M}"


class RescoreJob(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", _("Full rescore")
        NIGHTLY = "nightly", _("Nightly decay rescore")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FULL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # The moment every score of this job is computed at, so chunks agree.
    as_of = models.DateTimeField()
    total_chunks = models.PositiveIntegerField(default=0)
    done_chunks = models.PositiveIntegerField(default=0)
    # How many leads and accounts the job set out to score (counted when planned).
    planned = models.PositiveIntegerField(default=0)
    leads_scored = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last time a worker started or finished one of its chunks: while it is
    # recent the queue is moving, so chunks still waiting in it are not sent again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One full rescore of a version at a time: two would rescore every
            # lead twice side by side. A second start racing the first fails here.
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(status__in=["queued", "running"]),
                name="scoring_one_running_job_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} rescore of {self.version} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total_chunks:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.done_chunks * 100 // self.total_chunks)


class RescoreChunk(models.Model):
    """One id range of a job; ``done`` flips once, so a re-run is counted once."""

    class Target(models.TextChoices):
        CONTACTS = "contacts", _("Leads")
        ACCOUNTS = "accounts", _("Accounts")

    job = models.ForeignKey(RescoreJob, on_delete=models.CASCADE, related_name="chunks")
    target = models.CharField(max_length=8, choices=Target.choices)
    low = models.BigIntegerField()
    high = models.BigIntegerField()  # inclusive
    done = models.BooleanField(default=False)
    scored = models.PositiveIntegerField(default=0)
    # The lease: until ``lease_expires_at`` the chunk is in someone's hands, in
    # the queue after a dispatch or in a worker after a start
    # (SCORING_CHUNK_LEASE_SECONDS each). A chunk that is running holds its row
    # locked; one whose lease expired without that lock is sent again by the
    # sweep (``rescore_sweep``), however long the broker would wait before
    # redelivering it (its visibility timeout).
    started_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0)  # times a worker started it
    redispatched = models.PositiveIntegerField(default=0)  # times the sweep sent it again

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "target", "low"], name="scoring_chunk_unique_range"
            ),
        ]
        indexes = [
            # The sweep: chunks not done whose lease has expired.
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(done=False),
                name="scoring_chunk_open_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.low}–{self.high}"


class PendingRescore(models.Model):
    """A lead or company whose activity changed and awaits incremental rescoring.

    Written in the same transaction as the activity (so a crash cannot lose
    it) and drained by one coalesced task per batch, or by the sweep when that
    task could not be sent or was lost.
    """

    contact = models.OneToOneField(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.OneToOneField(
        "leads.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    # The earliest time of the new activity or intent (the smallest, when
    # several batches merge); None when nothing but a score is asked for. A
    # lead whose running totals were built after this moment is rebuilt from
    # its history, since they cannot hold an event that arrived late; changed
    # attributes (a contact may have moved company) ask for that with
    # ``REBUILD`` (the epoch).
    earliest = models.DateTimeField(null=True, blank=True)
    # The full rescore planned after this row was last marked: it sees every
    # event the row asks for, so it deletes the row once it has stored the
    # lead's score. Marking the row again clears this.
    covered_by = models.ForeignKey(
        RescoreJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False),
                name="scoring_pending_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"pending {self.contact_id or self.company_id}"

"""What sales found: verdicts on every MQL and SQL, the CRM's outcomes, and the reviews.

A ``Verdict`` is one accept / reject of a cycle by the people it was given to: inside
sales judge the MQL, field sales the SQL, each at most once per cycle (a unique
constraint, so two clicks at once record one). The stage change itself is handoff's
(``cycle_transition``); the verdict keeps why, and what the rep thought of the score.

An ``Opportunity`` is the CRM's deal that followed a cycle, idempotent on the CRM's
own id. ``CycleFacts`` and ``CycleRuleHit`` are the per-cycle facts the reports and the
threshold review group by (the lead's source, the campaigns and content that touched it
before it became an MQL, the rules in its breakdown then), kept set-based from
handoff's cycles and leads' activities, so no report reads the activity table.

A ``ThresholdReview`` is one run of the periodic review: its period, the evidence
(``report``) and, when the evidence is enough to change something, the draft
definition it proposed through scoring's draft service.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    """Which handoff a verdict judges: inside sales' MQL or field sales' SQL."""

    MQL = "mql", _("MQL")
    SQL = "sql", _("SQL")


class Reason(models.Model):
    """One reason in the rejection taxonomy that admins keep, in both languages."""

    class AppliesTo(models.TextChoices):
        BOTH = "both", _("MQLs and SQLs")
        MQL = "mql", _("MQLs")
        SQL = "sql", _("SQLs")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_ja = models.CharField(_("label (Japanese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    applies_to = models.CharField(
        _("offered for"), max_length=4, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    # Permanent reasons disqualify the lead; the others send it back to nurture
    # with the cooling-off, so it can come back as a new cycle.
    is_permanent = models.BooleanField(
        _("permanent (disqualifies)"),
        default=False,
        help_text=_("A permanent reason disqualifies the lead; others return it to nurture."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "ja").startswith("en") else self.label_ja

    def offered_for(self, kind: str) -> bool:
        return self.is_active and self.applies_to in (self.AppliesTo.BOTH, kind)


class Verdict(models.Model):
    """A rep's accept or reject of a cycle's MQL or SQL, with why and a view of the score."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    class Judgement(models.TextChoices):
        NONE = "", _("No view")
        TOO_HIGH = "too_high", _("Score too high")
        ABOUT_RIGHT = "about_right", _("Score about right")
        TOO_LOW = "too_low", _("Score too low")

    cycle = models.ForeignKey("handoff.Cycle", on_delete=models.CASCADE, related_name="verdicts")
    kind = models.CharField(_("handoff"), max_length=3, choices=Kind.choices)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    reason = models.ForeignKey(
        Reason, null=True, blank=True, on_delete=models.PROTECT, related_name="verdicts",
        verbose_name=_("reason"),
    )  # fmt: skip
    # The stage the rejection sent the cycle to (recycled or disqualified); empty on accept.
    disposition = models.CharField(max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    judgement = models.CharField(
        _("the score was"), max_length=12, choices=Judgement.choices, blank=True
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip
    at = models.DateTimeField(_("at"))
    # The score the rep was given (the cycle's, at MQL time), kept for the reports.
    score_total = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    score_band = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("verdict")
        verbose_name_plural = _("verdicts")
        constraints = [
            # Every MQL and every SQL is judged once: two clicks at once record one.
            models.UniqueConstraint(fields=["cycle", "kind"], name="feedback_one_verdict_per_kind"),
            models.CheckConstraint(
                condition=Q(decision="accepted") | Q(reason__isnull=False),
                name="feedback_rejection_has_reason",
            ),
        ]
        indexes = [
            # The reports: verdicts in a period, by kind.
            models.Index(fields=["kind", "at"], name="feedback_verdict_kind_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.decision} of cycle {self.cycle_id}"


class Opportunity(models.Model):
    """The CRM's deal that followed a cycle: created, then won or lost."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # The CRM's own id of the deal: posting it again updates, never duplicates.
    crm_id = models.CharField(_("CRM id"), max_length=128, unique=True)
    # The CRM's own id of the lead, when it sent one: later outcomes may name the lead by it.
    crm_lead_id = models.CharField(_("CRM lead id"), max_length=128, blank=True)
    contact = models.ForeignKey(
        "leads.Contact", on_delete=models.CASCADE, related_name="opportunities"
    )
    cycle = models.ForeignKey(
        "handoff.Cycle", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="opportunities",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=4, choices=Status.choices, default=Status.OPEN
    )
    amount = models.DecimalField(
        _("amount (JPY)"), max_digits=14, decimal_places=0, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )  # fmt: skip
    created_on = models.DateField(_("created on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_on__isnull=False),
                name="feedback_closed_opportunity_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["cycle"], name="feedback_opportunity_cycle_idx"),
            # Naming the lead by the CRM's id.
            models.Index(
                fields=["crm_lead_id"], condition=~Q(crm_lead_id=""), name="feedback_crm_lead_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crm_id} ({self.status})"


class CycleFacts(models.Model):
    """What the reports group a cycle by: its source, and who touched it before the MQL."""

    cycle = models.OneToOneField(
        "handoff.Cycle", primary_key=True, on_delete=models.CASCADE, related_name="facts"
    )
    # The source system of the lead's first activity ("" when it has none).
    source = models.CharField(max_length=64, blank=True)
    # First and last touch before mql_at: leads' normalised campaign and content keys.
    first_campaign = models.TextField(blank=True)
    last_campaign = models.TextField(blank=True)
    first_content = models.TextField(blank=True)
    last_content = models.TextField(blank=True)
    computed_at = models.DateTimeField()

    # What the reports group and measure by, copied from the cycle, its transitions,
    # verdicts and deals by ``services.facts.cycle_facts_sync`` (set-based, after every
    # change handoff or feedback makes), so each report is one scan of this table.
    contact_id = models.BigIntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        "scoring.DefinitionVersion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    mql_at = models.DateTimeField(null=True, blank=True)
    band = models.CharField(max_length=4, blank=True)  # the band at MQL time
    score_bucket = models.SmallIntegerField(null=True, blank=True)  # 60 = a score of 60–69.99
    stage = models.CharField(max_length=12, blank=True)  # the cycle's stage when synced
    accepted_at = models.DateTimeField(null=True, blank=True)  # moved on from MQL
    rejected_at = models.DateTimeField(null=True, blank=True)  # the MQL's rejection
    reason = models.ForeignKey(
        Reason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sql_rejected_at = models.DateTimeField(null=True, blank=True)  # field sales' rejection
    sql_reason = models.ForeignKey(
        Reason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sql_at = models.DateTimeField(null=True, blank=True)
    opportunity_at = models.DateTimeField(null=True, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    revenue = models.DecimalField(max_digits=16, decimal_places=0, null=True, blank=True)
    # handoff's SLA clocks: met when the touch (the SQL) came before its due time.
    first_touch_at = models.DateTimeField(null=True, blank=True)
    first_touch_due_at = models.DateTimeField(null=True, blank=True)
    qualify_due_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cycle facts")
        verbose_name_plural = _("cycle facts")
        indexes = [
            # Acceptance by week, the funnel's cohorts, ROI, SLA, the effect: MQLs in a period.
            models.Index(fields=["mql_at"], name="feedback_facts_mql_idx"),
            # The same for one rep (a rep's own reports; the rep filter).
            models.Index(fields=["owner", "mql_at"], name="feedback_facts_owner_idx"),
            models.Index(
                fields=["field_owner", "mql_at"],
                condition=Q(field_owner__isnull=False),
                name="feedback_facts_field_idx",
            ),
            # The Pareto: MQL and SQL rejections in a period.
            models.Index(
                fields=["rejected_at"],
                condition=Q(rejected_at__isnull=False),
                name="feedback_facts_rejected_idx",
            ),
            models.Index(
                fields=["sql_rejected_at"],
                condition=Q(sql_rejected_at__isnull=False),
                name="feedback_facts_sqlrej_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"facts of cycle {self.cycle_id}"


class CycleRuleHit(models.Model):
    """A rule that was in a cycle's breakdown at MQL time, with its points then."""

    cycle = models.ForeignKey("handoff.Cycle", on_delete=models.CASCADE, related_name="+")
    # The same cycle's facts, joined on cycle_id directly (no column of its own): the
    # by-rule report counts hits by their facts without going through handoff_cycle.
    facts = models.ForeignObject(
        CycleFacts, on_delete=models.DO_NOTHING, from_fields=["cycle"], to_fields=["cycle"],
        null=True, related_name="+",
    )  # fmt: skip
    rule_key = models.CharField(max_length=100)
    category = models.CharField(max_length=12, blank=True)
    points = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cycle", "rule_key"], name="feedback_rule_hit_unique"),
        ]
        indexes = [models.Index(fields=["rule_key", "cycle"], name="feedback_rule_hit_rule_idx")]

    def __str__(self) -> str:
        return f"{self.rule_key} in cycle {self.cycle_id}"


class ReviewSettings(models.Model):
    """What the two departments agreed the review aims for (one row)."""

    acceptance_target = models.DecimalField(
        _("acceptance target"), max_digits=3, decimal_places=2, default=Decimal("0.60"),
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(Decimal("0.99"))],
        help_text=_("The share of MQLs sales should accept at the hot threshold."),
    )  # fmt: skip
    min_decided = models.PositiveIntegerField(
        _("fewest verdicts to act on"), default=100,
        help_text=_("Below this many judged MQLs the review proposes nothing."),
    )  # fmt: skip
    calls_per_rep_week = models.PositiveSmallIntegerField(
        _("new leads a rep can take a week"), default=25
    )
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review settings")
        verbose_name_plural = _("review settings")

    def __str__(self) -> str:
        return str(_("review settings"))


class ThresholdReview(models.Model):
    """One run of the threshold review over a period, and what it proposed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        TOO_THIN = "too_thin", _("Too little evidence to change anything")
        NO_CHANGE = "no_change", _("The definition holds")
        PROPOSED = "proposed", _("A new definition proposed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("On schedule")
        MANUAL = "manual", _("On demand")

    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))  # inclusive, in the team's time zone
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    requested_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The requester's language (settings.LANGUAGE_CODE on schedule): the proposed draft's
    # title and note are written in it.
    language = models.CharField(max_length=8, default="ja")
    based_on = models.ForeignKey(
        "scoring.DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    proposed_version = models.ForeignKey(
        "scoring.DefinitionVersion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # The evidence and the proposal, as the review page shows them.
    report = models.JSONField(default=dict, blank=True)
    # How far a running review is (0–100), for the polling progress fragment.
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("threshold review")
        verbose_name_plural = _("threshold reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="feedback_review_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.period_start}–{self.period_end} ({self.status})"

"""The inside sales team's work: a lead's cycles through the funnel, its BANT, calls, owners.

A ``Cycle`` is one journey of a lead (a contact, or a company nobody there has talked
to yet: an account to prospect) from the moment it became an MQL (or was raised by
hand) until it is won, lost, recycled to nurture or disqualified. A lead with no open
cycle is in nurture (cold or warm). Every stage change is a ``Transition`` row; every
owner given, an ``Assignment`` row. Scoring's ``MqlEvent`` rows are picked up once each
through ``MqlIntake``, a table of this app's own.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leads.reference import Industry, Prefecture, Region

USER = settings.AUTH_USER_MODEL


class Stage(models.TextChoices):
    MQL = "mql", _("MQL")
    ACCEPTED = "accepted", _("Accepted")
    WORKING = "working", _("Working")
    SQL = "sql", _("SQL")
    HANDED_OVER = "handed_over", _("Handed over")
    SQL_ACCEPTED = "sql_accepted", _("Accepted by field sales")
    OPPORTUNITY = "opportunity", _("Opportunity")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    RECYCLED = "recycled", _("Recycled to nurture")
    DISQUALIFIED = "disqualified", _("Disqualified")


CLOSED_STAGES = frozenset({Stage.WON, Stage.LOST, Stage.RECYCLED, Stage.DISQUALIFIED})
OPEN_STAGES = frozenset(set(Stage) - CLOSED_STAGES)
# Stages where inside sales works the lead; after SQL it is field sales'.
INSIDE_STAGES = frozenset({Stage.MQL, Stage.ACCEPTED, Stage.WORKING})
# The inside sales queue: leads to call and qualify, and SQLs still waiting for field sales.
QUEUE_STAGES = frozenset({*INSIDE_STAGES, Stage.SQL})


class Pool(models.TextChoices):
    INSIDE = "inside", _("Inside sales")
    FIELD = "field", _("Field sales")


class Cycle(models.Model):
    """One journey of a lead through the funnel, with its score as it was at MQL time."""

    class Origin(models.TextChoices):
        SCORE = "score", _("Became hot")
        SALES = "sales", _("Raised by sales")
        COOLED = "cooled", _("Still hot after its cooling-off")

    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="cycles"
    )
    # The account's company for a company-only cycle; a contact's company otherwise.
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="cycles"
    )
    number = models.PositiveIntegerField(_("cycle"), default=1)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.MQL)
    origin = models.CharField(
        _("origin"), max_length=8, choices=Origin.choices, default=Origin.SCORE
    )
    raised_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raise_reason = models.TextField(_("why it was raised"), blank=True)
    # The score when it became an MQL: the feedback review learns from what sales saw.
    mql_at = models.DateTimeField(_("MQL at"))
    version = models.ForeignKey(
        "scoring.DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    score_total = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    score_fit = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    score_band = models.CharField(max_length=4, blank=True)
    # [{"rule": key, "category": ..., "points": float, "hits": int}], largest first.
    breakdown = models.JSONField(default=list, blank=True)

    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_cycles",
        verbose_name=_("owner"),
    )  # fmt: skip
    assigned_at = models.DateTimeField(null=True, blank=True)
    field_owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="handovers",
        verbose_name=_("field sales"),
    )  # fmt: skip
    field_assigned_at = models.DateTimeField(null=True, blank=True)

    first_touch_at = models.DateTimeField(_("first touch"), null=True, blank=True)
    first_touch_due_at = models.DateTimeField(_("first touch due"), null=True, blank=True)
    qualify_due_at = models.DateTimeField(_("qualification due"), null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cooling_until = models.DateTimeField(null=True, blank=True)
    next_action_at = models.DateTimeField(_("next action"), null=True, blank=True)
    next_action_note = models.CharField(_("next action"), max_length=200, blank=True)
    # Kept by services.priority after every write, so the queue sorts on an index:
    # the due time the cycle runs against now (first touch, then qualification; none
    # after SQL), and when it needs attention: its next action or that due time,
    # whichever comes first.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    attention_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Each SLA notice is sent once: the sweep claims it by setting these.
    touch_reminded_at = models.DateTimeField(null=True, blank=True)
    touch_escalated_at = models.DateTimeField(null=True, blank=True)
    qualify_reminded_at = models.DateTimeField(null=True, blank=True)
    qualify_escalated_at = models.DateTimeField(null=True, blank=True)
    unassigned_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["-mql_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False),
                name="handoff_cycle_has_subject",
            ),
            # One open journey per lead: two intakes or a rep raising a lead the
            # drain is taking in meet here, and one of them is refused.
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(contact__isnull=False) & ~Q(stage__in=sorted(CLOSED_STAGES)),
                name="handoff_one_open_cycle_per_contact",
            ),
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(contact__isnull=True) & ~Q(stage__in=sorted(CLOSED_STAGES)),
                name="handoff_one_open_cycle_per_account",
            ),
        ]
        indexes = [
            # The queues: a rep's open cycles, the team's open cycles.
            models.Index(
                fields=["owner", "stage"],
                condition=~Q(stage__in=sorted(CLOSED_STAGES)),
                name="handoff_open_by_owner_idx",
            ),
            models.Index(
                fields=["field_owner", "stage"],
                condition=Q(field_owner__isnull=False),
                name="handoff_handovers_idx",
            ),
            # The queue, in the order a rep works it: a rep's, and the team's.
            # Exactly the queue's ORDER BY (selectors.with_priority), or PostgreSQL sorts.
            models.Index(
                fields=["owner", "attention_at", "-score_total", "id"],
                condition=Q(stage__in=sorted(QUEUE_STAGES)),
                name="handoff_queue_owner_idx",
            ),
            models.Index(
                fields=["attention_at", "-score_total", "id"],
                condition=Q(stage__in=sorted(QUEUE_STAGES)),
                name="handoff_queue_team_idx",
            ),
            # The queue's counts (selectors.queue_overview: in all, unassigned, per stage
            # and per SLA state, of a rep's queue or the team's): every column the
            # aggregate reads is in the index, so it is an index-only scan of a narrow
            # key instead of a pass over the wide rows (the breakdown JSON).
            models.Index(
                fields=["owner", "stage", "sla_due_at"],
                include=["id"],
                condition=Q(stage__in=sorted(QUEUE_STAGES)),
                name="handoff_queue_counts_idx",
            ),
            # The SLA sweep and the SLA filters: open cycles by due time.
            models.Index(
                fields=["sla_due_at"],
                condition=Q(sla_due_at__isnull=False),
                name="handoff_sla_due_idx",
            ),
            models.Index(fields=["contact", "-number"], name="handoff_cycle_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"cycle {self.number} of {self.contact_id or f'company {self.company_id}'}"

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_STAGES

    @property
    def is_account(self) -> bool:
        return self.contact_id is None


class Transition(models.Model):
    """A stage change: who moved which cycle from what to what, and the score then."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="transitions")
    contact = models.ForeignKey(
        "leads.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    from_stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    version = models.ForeignKey(
        "scoring.DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    score_total = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    score_band = models.CharField(max_length=4, blank=True)
    # Opaque to handoff: the caller's (feedback's reason taxonomy, "first_touch" …).
    reason_code = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["cycle", "at"], name="handoff_transition_cycle_idx"),
            # Reports: transitions into a stage over a period.
            models.Index(fields=["to_stage", "at"], name="handoff_transition_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"


class Assignment(models.Model):
    """A cycle given to a person (or left waiting: ``user`` empty), and how it was chosen."""

    class Method(models.TextChoices):
        COMPANY_OWNER = "owner", _("Owner of the company")
        RULE = "rule", _("Routing rule")
        ROUND_ROBIN = "round_robin", _("Round robin")
        MANAGER = "manager", _("By a manager")
        NONE = "none", _("Nobody available")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="assignments")
    pool = models.CharField(max_length=6, choices=Pool.choices)
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=12, choices=Method.choices)
    rule = models.ForeignKey(
        "AssignmentRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["cycle", "at"], name="handoff_assignment_cycle_idx")]

    def __str__(self) -> str:
        return f"{self.cycle_id} → {self.user_id or '-'} ({self.method})"


class RepProfile(models.Model):
    """A rep in an assignment pool: capacity is the round-robin weight."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="rep_profile")
    pool = models.CharField(_("pool"), max_length=6, choices=Pool.choices)
    is_active = models.BooleanField(_("takes new leads"), default=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity (weight)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    # Leads given by the round robin (its rotation), read and written under a row lock
    # so concurrent assigners continue one fair sequence (services.assignment).
    rr_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pool", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_pool_display()})"


class Absence(models.Model):
    """A rep away on a day (in the team's zone): skipped by the round robin that day."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="absences")
    day = models.DateField(_("day"))

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="handoff_one_absence_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} away {self.day}"


class AssignmentRule(models.Model):
    """Route leads by place, industry or size to a rep; the first matching rule wins."""

    order = models.PositiveIntegerField(_("order"), default=0)
    pool = models.CharField(_("pool"), max_length=6, choices=Pool.choices, default=Pool.INSIDE)
    prefecture = models.CharField(
        _("prefecture"), max_length=2, choices=Prefecture.choices, blank=True
    )
    region = models.CharField(_("region"), max_length=10, choices=Region.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    min_employees = models.PositiveIntegerField(_("employees at least"), null=True, blank=True)
    max_employees = models.PositiveIntegerField(_("employees at most"), null=True, blank=True)
    assignee = models.ForeignKey(
        USER, on_delete=models.CASCADE, related_name="+", verbose_name=_("assign to")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pool", "order", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return f"rule {self.order} → {self.assignee_id}"


class AccountOwner(models.Model):
    """The rep who owns a company: its leads go to them first."""

    company = models.OneToOneField(
        "leads.Company", on_delete=models.CASCADE, related_name="account_owner"
    )
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="owned_accounts")

    def __str__(self) -> str:
        return f"{self.company_id} owned by {self.user_id}"


class HandoffSettings(models.Model):
    """The organisation's calendar and SLAs (one row; admins edit it in the UI)."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Tokyo")
    opens = models.TimeField(_("working hours from"), default=time(9))
    closes = models.TimeField(_("working hours until"), default=time(18))
    # Monday = 0; a comma-separated list, e.g. "0,1,2,3,4".
    weekdays = models.CharField(_("working weekdays"), max_length=20, default="0,1,2,3,4")
    # "12-29,12-30,…": closed every year besides public holidays.
    closed_days = models.CharField(
        _("closed days (MM-DD)"), max_length=400, default="12-29,12-30,12-31,01-01,01-02,01-03"
    )
    holidays_country = models.CharField(_("public holidays of"), max_length=2, default="JP")
    first_touch_hours = models.DecimalField(
        _("first touch within (working hours)"), max_digits=5, decimal_places=2, default=2,
        validators=[MinValueValidator(0.25), MaxValueValidator(200)],
    )  # fmt: skip
    qualify_days = models.PositiveSmallIntegerField(
        _("qualified within (working days)"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )  # fmt: skip
    remind_before_minutes = models.PositiveSmallIntegerField(
        _("remind the owner this many minutes before"), default=30,
        validators=[MaxValueValidator(24 * 60)],
    )  # fmt: skip
    cooling_off_days = models.PositiveSmallIntegerField(
        _("cooling-off after recycling (days)"), default=90,
        validators=[MaxValueValidator(730)],
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("handoff settings")
        verbose_name_plural = _("handoff settings")

    def __str__(self) -> str:
        return "handoff settings"


class PainPoint(models.Model):
    """A need inside sales can tick on a BANT call (admins keep the list, in both languages)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_ja = models.CharField(_("label (Japanese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label_ja

    def label(self, language: str) -> str:
        return self.label_en if language.startswith("en") else self.label_ja


class BantStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    PARTIAL = "partial", _("Partial")
    CONFIRMED = "confirmed", _("Confirmed")


class BantSource(models.TextChoices):
    NONE = "", _("—")
    FORM = "form", _("Inquiry form")
    CALL = "call", _("Call")


class Bant(models.Model):
    """What is known of a cycle's Budget, Authority, Need and Timeframe."""

    class BudgetRange(models.TextChoices):
        UNDER_100 = "lt100", _("Under ¥1M")
        FROM_100 = "100_500", _("¥1M–¥5M")
        FROM_500 = "500_1000", _("¥5M–¥10M")
        FROM_1000 = "1000_5000", _("¥10M–¥50M")
        OVER_5000 = "gte5000", _("¥50M and over")

    class Role(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")

    class Timeframe(models.TextChoices):
        UNDECIDED = "undecided", _("Undecided")
        MONTH = "month", _("By a month")
        QUARTER = "quarter", _("By a quarter")

    cycle = models.OneToOneField(Cycle, on_delete=models.CASCADE, related_name="bant")
    budget_status = models.CharField(
        _("budget"), max_length=9, choices=BantStatus.choices, default=BantStatus.UNKNOWN
    )
    budget_range = models.CharField(
        _("budget range"), max_length=9, choices=BudgetRange.choices, blank=True
    )
    budget_amount_man = models.PositiveIntegerField(
        _("budget (万円)"), null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    budget_source = models.CharField(max_length=4, choices=BantSource.choices, blank=True)
    authority_status = models.CharField(
        _("authority"), max_length=9, choices=BantStatus.choices, default=BantStatus.UNKNOWN
    )
    authority_role = models.CharField(
        _("role in the decision"), max_length=14, choices=Role.choices, default=Role.UNKNOWN
    )
    decision_maker_name = models.CharField(_("decision maker"), max_length=100, blank=True)
    decision_maker_title = models.CharField(_("their title"), max_length=100, blank=True)
    authority_source = models.CharField(max_length=4, choices=BantSource.choices, blank=True)
    need_status = models.CharField(
        _("need"), max_length=9, choices=BantStatus.choices, default=BantStatus.UNKNOWN
    )
    pain_points = models.ManyToManyField(PainPoint, blank=True, verbose_name=_("pain points"))
    need_notes = models.TextField(_("need notes"), blank=True, max_length=2000)
    need_source = models.CharField(max_length=4, choices=BantSource.choices, blank=True)
    timeframe_status = models.CharField(
        _("timeframe"), max_length=9, choices=BantStatus.choices, default=BantStatus.UNKNOWN
    )
    timeframe_kind = models.CharField(
        _("timeframe"), max_length=9, choices=Timeframe.choices, default=Timeframe.UNDECIDED
    )
    timeframe_month = models.DateField(_("target month"), null=True, blank=True)
    timeframe_source = models.CharField(max_length=4, choices=BantSource.choices, blank=True)
    # What the inquiry form said, as written: {"budget": "500万円程度", …}.
    form_answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    ITEMS = ("budget", "authority", "need", "timeframe")

    def __str__(self) -> str:
        return f"BANT of cycle {self.cycle_id}"

    def status_of(self, item: str) -> str:
        return getattr(self, f"{item}_status")

    def confirmed(self) -> dict[str, bool]:
        return {item: self.status_of(item) == BantStatus.CONFIRMED for item in self.ITEMS}


class FormBantField(models.Model):
    """An inquiry form's property that carries a BANT answer (admins map them in the UI)."""

    property_name = models.CharField(_("form property"), max_length=100, unique=True)
    item = models.CharField(
        _("BANT item"),
        max_length=9,
        choices=[
            ("budget", _("Budget")),
            ("authority", _("Authority")),
            ("need", _("Need")),
            ("timeframe", _("Timeframe")),
        ],
    )

    class Meta:
        ordering = ["item", "property_name"]

    def __str__(self) -> str:
        return f"{self.property_name} → {self.item}"


class Call(models.Model):
    """A logged touch: a call or an e-mail, its outcome, and what comes next."""

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        VOICEMAIL = "voicemail", _("Voicemail")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        EMAIL_SENT = "email_sent", _("E-mail sent")
        MEETING_BOOKED = "meeting", _("Meeting booked")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="calls")
    rep = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="calls")
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    # The BANT statuses after this call: {"budget": "partial", …}.
    bant = models.JSONField(default=dict, blank=True)
    next_action_at = models.DateTimeField(_("next action"), null=True, blank=True)
    next_action_note = models.CharField(_("next action"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["cycle", "-at"], name="handoff_call_cycle_idx")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} @ {self.at:%Y-%m-%d %H:%M}"


class MqlIntake(models.Model):
    """Scoring's MQL event, picked up once: what handoff did with it."""

    class Outcome(models.TextChoices):
        NEW_CYCLE = "new", _("New cycle")
        ALREADY_OPEN = "open", _("Already in a cycle")
        COOLING = "cooling", _("In its cooling-off")

    mql_event = models.OneToOneField("scoring.MqlEvent", on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"MQL event {self.mql_event_id}: {self.outcome}"


class Notification(models.Model):
    """Something for one person to see in the portal (and by e-mail)."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("A lead was assigned to you")
        HANDED_OVER = "handed_over", _("A lead was handed over to you")
        DUE_SOON = "due_soon", _("A lead is due soon")
        BREACHED = "breached", _("An SLA was missed")
        UNASSIGNED = "unassigned", _("A lead waits with no owner")
        REASSIGNED = "reassigned", _("A lead was reassigned")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # What the sentence needs, rendered in the reader's language when shown.
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell: a user's unread count.
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="handoff_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class WebhookEndpoint(models.Model):
    """A CRM's URL that receives each SQL handoff, signed with the endpoint's secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.CharField(max_length=40, default="lead.handed_over")
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"

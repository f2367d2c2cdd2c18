"""The leads domain: companies, contacts, what they do, and third-party intent."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.text import match_key, property_number, property_text
from leads.reference import Industry, Prefecture, Region


class Company(models.Model):
    class RevenueBand(models.TextChoices):
        UNDER_100M = "lt_100m", _("Under ¥100M")
        FROM_100M = "100m_1b", _("¥100M–¥1B")
        FROM_1B = "1b_10b", _("¥1B–¥10B")
        FROM_10B = "10b_100b", _("¥10B–¥100B")
        OVER_100B = "gte_100b", _("¥100B and over")

    name = models.CharField(_("company name"), max_length=255)
    name_kana = models.CharField(_("company name (kana)"), max_length=255, blank=True)
    # NFKC, legal form and spaces removed (leads.normalize.company_name_key).
    name_key = models.CharField(max_length=255, editable=False, db_index=True)
    domain = models.CharField(_("web domain"), max_length=253, blank=True)
    corporate_number = models.CharField(_("corporate number"), max_length=13, blank=True)
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    industry_detail = models.CharField(_("industry (as given)"), max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    revenue_band = models.CharField(
        _("revenue"), max_length=10, choices=RevenueBand.choices, blank=True
    )
    prefecture = models.CharField(
        _("prefecture"), max_length=2, choices=Prefecture.choices, blank=True
    )
    region = models.CharField(_("region"), max_length=10, choices=Region.choices, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name_key", "id"]
        constraints = [
            # Ingestion creates companies "by domain if new"; the partial unique
            # index makes two concurrent batches meet on one row.
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="company_domain_unique"
            ),
            models.UniqueConstraint(
                fields=["corporate_number"],
                condition=~Q(corporate_number=""),
                name="company_corporate_number_unique",
            ),
            # A company known only by its name (no domain, no 法人番号) exists
            # once per name key, so racing "created if new" cannot duplicate it.
            models.UniqueConstraint(
                fields=["name_key"],
                condition=Q(domain="", corporate_number=""),
                name="company_name_only_unique",
            ),
        ]
        indexes = [
            # The leads list sorts companies by recent activity.
            models.Index(fields=["-last_activity_at"], name="company_last_activity_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class JobLevel(models.TextChoices):
        EXECUTIVE = "executive", _("Executive")
        DIRECTOR = "director", _("Director / head of department")
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")
        OTHER = "other", _("Other")

    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
    )
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    job_level = models.CharField(
        _("job level"), max_length=10, choices=JobLevel.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    has_consent = models.BooleanField(_("consented to contact"), default=True)
    is_unsubscribed = models.BooleanField(_("unsubscribed"), default=False)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-last_activity_at", "id"]
        indexes = [
            # The leads list: most recently active first.
            # Exactly the list's order (selectors.lead_list_for), so a page is an index range.
            models.Index(fields=["-last_activity_at", "-id"], name="contact_last_activity_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email


class Activity(models.Model):
    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", _("Page view")
        WHITEPAPER_DOWNLOAD = "whitepaper_download", _("Whitepaper download")
        CASE_STUDY_DOWNLOAD = "case_study_download", _("Case study download")
        WEBINAR_REGISTRATION = "webinar_registration", _("Webinar registration")
        WEBINAR_ATTENDANCE = "webinar_attendance", _("Webinar attendance")
        FORM_SUBMISSION = "form_submission", _("Form submission")
        DEMO_REQUEST = "demo_request", _("Demo request")
        PRICING_REQUEST = "pricing_request", _("Pricing request")
        TRIAL_SIGNUP = "trial_signup", _("Trial sign-up")
        EMAIL_OPEN = "email_open", _("E-mail open")
        EMAIL_CLICK = "email_click", _("E-mail click")
        EMAIL_UNSUBSCRIBE = "email_unsubscribe", _("E-mail unsubscribe")
        EMAIL_BOUNCE = "email_bounce", _("E-mail bounce")
        EVENT_VISIT = "event_visit", _("Trade show / event visit")
        VIDEO_VIEW = "video_view", _("Video view")
        CHAT = "chat", _("Chat")
        MEETING = "meeting", _("Meeting")

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    # Always set when known, even for a contact's activity, so that account-level
    # scoring reads one index instead of joining through contacts.
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source system"), max_length=64)
    external_id = models.CharField(_("external id"), max_length=128)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    # The match keys (NFKC, case-folded, single spaces; scoring.engine.match_key)
    # of the properties that scoring rules filter on, so that the set-based
    # rescoring compares them in SQL exactly as the engine does in Python.
    # Written with the row by everything that stores activity (activity_match_keys).
    url_key = models.TextField(blank=True, default="", db_default="", editable=False)
    content_key = models.TextField(blank=True, default="", db_default="", editable=False)
    campaign_key = models.TextField(blank=True, default="", db_default="", editable=False)
    # Every property in the two forms scoring's property conditions compare:
    # {name: common.text.property_text(value)} and {name: property_number(value)},
    # the properties that have one. Written with the match keys above.
    property_keys = models.JSONField(default=dict, db_default={}, blank=True, editable=False)
    property_numbers = models.JSONField(default=dict, db_default={}, blank=True, editable=False)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # The idempotency key: replaying an event creates nothing new.
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_source_extid_unique"
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False),
                name="activity_has_subject",
            ),
        ]
        indexes = [
            # Scoring a contact / the timeline: its activities by time.
            # The rescoring's per-contact aggregate reads only this index on
            # PostgreSQL (an index-only scan: it carries what rules look at),
            # so a chunk of leads costs its own rows, not a pass over the table.
            models.Index(
                fields=["contact", "occurred_at"],
                include=["kind", "url_key", "content_key", "campaign_key"],
                condition=Q(contact__isnull=False),
                name="activity_contact_score_idx",
            ),
            # Account-level scoring and the company timeline.
            models.Index(fields=["company", "occurred_at"], name="activity_company_time_idx"),
            # A company's contact-less activity (an account's, shared by its contacts),
            # read per company by the set-based rescoring.
            models.Index(
                fields=["company", "occurred_at"],
                condition=Q(contact__isnull=True),
                name="activity_account_time_idx",
            ),
            # Rules by kind over a time window.
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        for name, value in self.match_keys(self.properties).items():
            setattr(self, name, value)
        super().save(*args, **kwargs)

    @staticmethod
    def match_keys(properties: Mapping[str, object] | None) -> dict[str, object]:
        """The derived columns for these properties: the match keys and property forms."""
        props = properties or {}

        def key(name: str) -> str:
            value = props.get(name)
            return match_key(value) if isinstance(value, str) else ""

        texts = {name: property_text(value) for name, value in props.items()}
        numbers = {name: property_number(value) for name, value in props.items()}
        return {
            "url_key": key("url"),
            "content_key": key("title"),
            "campaign_key": key("campaign"),
            "property_keys": {k: v for k, v in texts.items() if v is not None},
            "property_numbers": {k: v for k, v in numbers.items() if v is not None},
        }


class IntentSignal(models.Model):
    """A third-party observation that a company researches a topic."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="intent_signals", verbose_name=_("company")
    )
    topic = models.CharField(_("topic"), max_length=100)
    # match_key(topic), for the set-based rescoring (see Activity.url_key).
    topic_key = models.CharField(
        max_length=100, blank=True, default="", db_default="", editable=False
    )
    strength = models.PositiveSmallIntegerField(_("strength (0–100)"))
    observed_at = models.DateTimeField(_("observed at"))
    provider = models.CharField(_("provider"), max_length=64)
    external_id = models.CharField(_("external id"), max_length=128)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("intent signal")
        verbose_name_plural = _("intent signals")
        ordering = ["-observed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="intent_provider_extid_unique"
            ),
            models.CheckConstraint(condition=Q(strength__lte=100), name="intent_strength_max_100"),
        ]
        indexes = [
            # Intent rules: a company's signals over time, and by topic.
            models.Index(fields=["company", "observed_at"], name="intent_company_time_idx"),
            models.Index(fields=["topic", "observed_at"], name="intent_topic_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.strength})"

    def save(self, *args, **kwargs):
        self.topic_key = match_key(self.topic or "")
        super().save(*args, **kwargs)


class ImportJob(models.Model):
    """One uploaded CSV file on its way in: preview, dry run, import.

    The progress fields are written outside the import's transaction so that
    the UI can poll them while a worker runs.
    """

    class Kind(models.TextChoices):
        LEADS = "leads", _("Companies and contacts")
        INTENT = "intent", _("Intent data")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked (dry run)")
        INVALID = "invalid", _("Has errors")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LEADS)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    file_name = models.CharField(_("file"), max_length=255)
    # Kept in the database so a worker on another machine can read it.
    content = models.BinaryField(editable=False)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"companies_created": n, "companies_updated": n, "contacts_created": n, ...}
    counts = models.JSONField(default=dict, blank=True)
    # [{"line": 12, "field": "email", "message": "..."}], at most IMPORT_MAX_ERRORS
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    # Why a FAILED job failed, as {"code": ..., "params": {...}}
    # (leads.services.imports.failure), rendered in the reader's language;
    # ``message`` holds it in the worker's.
    failure = models.JSONField(default=dict, blank=True)
    # When the dry run or the import was last queued: a job still waiting for a
    # worker long after it (its task was never sent, or lost) is sent again.
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.IMPORTING}

"""API serializers: input and output kept apart (docs/api.md describes the shapes).

Events are validated by the fast path in leads.api.validation; the Event*
serializers here only document that schema for OpenAPI. Companies, contacts
and intent signals are validated by the *In serializers, whose
``validated_data`` becomes a service input dataclass.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.api import validation
from leads.models import Activity, Company, Contact, IntentSignal
from leads.normalize import (
    EMAIL_MAX_LENGTH,
    clean_text,
    normalize_identifier,
    normalize_phone,
)
from leads.reference import Industry, Prefecture, parse_industry, parse_prefecture
from leads.services.contacts import ContactInput
from leads.services.ingest import COMPANY_FIELDS, CompanyInput
from leads.services.intent import IntentInput
from leads.services.resolve import CompanyRef

MAX_BATCH = settings.EVENTS_MAX_BATCH
_NO_ECHO = {"invalid_choice": gettext_lazy("Not a valid choice.")}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"company.domain": ["..."]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                path = prefix
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        return {prefix or "non_field_errors": [str(d) for d in detail]}
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


# --- Shared fields ------------------------------------------------------------


RESULT_STATUSES = ["created", "updated", "duplicate", "rejected"]


class ResultStatus(serializers.ChoiceField):
    """What became of an item. One enum for every endpoint; each uses a subset:
    events and intent signals created|duplicate|rejected, upserts
    created|updated|rejected, the single-event endpoint created|duplicate."""

    def __init__(self, **kwargs):
        super().__init__(choices=RESULT_STATUSES, **kwargs)


def _company_ref(data: dict) -> CompanyRef:
    errors: validation.Errors = {}
    ref = validation.company_ref_value(data, errors, path="company")
    if errors:
        raise serializers.ValidationError(
            {
                ("non_field_errors" if path == "company" else path.removeprefix("company.")): m
                for path, m in errors.items()
            }
        )
    return ref


# JSON types as the schema states them. DRF's fields coerce (12 and 1.5 become
# strings, "5" an integer, "yes" and 1 booleans), so a body the schema forbids
# would be stored; integrations must hear about the type they sent instead.


class StrictCharField(serializers.CharField):
    """A JSON string; a number or a boolean is refused, not turned into text."""

    default_error_messages = {"invalid": gettext_lazy("Must be a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer; a string, a fraction or a boolean is refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false; "yes", "1" and 1 are refused."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class CleanCharField(StrictCharField):
    """Text as people type it, NFKC-normalised before the length check."""

    def to_internal_value(self, data):
        return clean_text(super().to_internal_value(data))


class IdentifierField(StrictCharField):
    """Another system's id: at most ``max_length`` as sent (the schema's maxLength), then
    trimmed and NFC-normalised."""

    def to_internal_value(self, data):
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return normalize_identifier(super().to_internal_value(data))


@extend_schema_field({"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH})
class EmailAddressField(StrictCharField):
    """An e-mail address, normalised (NFKC, lower case) and validated as docs/api.md says."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        kwargs.setdefault("help_text", "Normalised: NFKC, lower case.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        raw = super().to_internal_value(data)
        errors: validation.Errors = {}
        email = validation.email_value({"email": raw}, "email", errors, path="email")
        if errors:
            raise serializers.ValidationError(errors["email"])
        return email


def _optional_text(max_length: int, **kwargs) -> serializers.CharField:
    return CleanCharField(
        required=False, allow_blank=True, allow_null=True, max_length=max_length, **kwargs
    )


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """ISO 8601 with a UTC offset; a naive time is refused, not guessed."""

    def to_internal_value(self, data):
        errors: validation.Errors = {}
        value = validation.datetime_value({"v": data}, "v", errors, now=timezone.now())
        if errors:
            raise serializers.ValidationError(errors["v"])
        return value

    def to_representation(self, value):
        return value.isoformat()


class CompanyRefSerializer(serializers.Serializer):
    """Names a company: by domain, name or corporate number (created if new)."""

    domain = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=253)
    name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=255)
    corporate_number = StrictCharField(
        required=False, allow_blank=True, allow_null=True, max_length=20
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                _("Must be an object with domain, name or corporate_number.")
            )
        return _company_ref(data)


# --- Events (schema only; validated by leads.api.validation) -----------------


class EventContactSerializer(serializers.Serializer):
    email = EmailAddressField()
    # Blank or null is the same as absent for these (leads.api.validation.text_value).
    name = _optional_text(100)
    name_kana = _optional_text(100)
    title = _optional_text(100)
    department = _optional_text(100)
    phone = _optional_text(32)
    company = _optional_text(255, help_text="The company's name, e.g. 株式会社サンプル.")


class EventSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=validation.SOURCE_MAX_LENGTH)
    external_id = serializers.CharField(
        max_length=validation.EXTERNAL_ID_MAX_LENGTH,
        help_text="With source, the idempotency key: replaying an event stores nothing new. "
        "Trimmed and NFC-normalised; compared case-sensitively.",
    )
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    occurred_at = AwareDateTimeField(
        help_text="ISO 8601 with a UTC offset; at most one day in the future."
    )
    # null is the same as absent for these three (leads.api.validation.event_from_json).
    contact = EventContactSerializer(
        required=False,
        allow_null=True,
        help_text="Who did it. Give contact or company, not both.",
    )
    company = CompanyRefSerializer(
        required=False,
        allow_null=True,
        help_text="For an activity with no contact: the company.",
    )
    properties = serializers.DictField(
        required=False,
        allow_null=True,
        help_text='Any JSON object up to 16 KB, e.g. {"url": "/wp/dx"}; null means {}.',
    )


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(child=EventSerializer(), min_length=1, max_length=MAX_BATCH)


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = ResultStatus(help_text="One of: created, duplicate, rejected.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Field path -> messages, e.g. {"contact.email": ["..."]}; empty unless rejected.',
    )


class EventBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = EventResultSerializer(many=True)


class EventStatusSerializer(serializers.Serializer):
    status = ResultStatus(help_text="One of: created, duplicate.")


# --- Companies ------------------------------------------------------------------


class _ChoiceByName(StrictCharField):
    """A code given as the code itself or its name (東京都 / Tokyo / 13)."""

    def __init__(self, *, parse, choices, **kwargs):
        self.parse, self.choices = parse, choices
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        code = self.parse(text) if text else ""
        if code is None:
            raise serializers.ValidationError(_("Not a valid choice."))
        return code


@extend_schema_field({"type": "string", "enum": Prefecture.values})
class PrefectureField(_ChoiceByName):
    def __init__(self, **kwargs):
        super().__init__(parse=parse_prefecture, choices=Prefecture.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": Industry.values})
class IndustryField(_ChoiceByName):
    def __init__(self, **kwargs):
        super().__init__(parse=parse_industry, choices=Industry.choices, **kwargs)


class CompanyInSerializer(serializers.Serializer):
    """A company to create or update. It is found by corporate_number, domain, then name."""

    name = _optional_text(255)
    domain = _optional_text(253)
    corporate_number = _optional_text(20, help_text="法人番号, 13 digits.")
    name_kana = _optional_text(255)
    industry = IndustryField(
        required=False, allow_blank=True, allow_null=True, help_text="JSIC division letter."
    )
    industry_detail = _optional_text(100)
    employee_count = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=10_000_000
    )
    revenue_band = serializers.ChoiceField(
        choices=Company.RevenueBand.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=_NO_ECHO,
    )
    prefecture = PrefectureField(
        required=False, allow_blank=True, allow_null=True, help_text="JIS code (13) or name."
    )
    city = _optional_text(100)
    address = _optional_text(255)
    postal_code = _optional_text(8)

    def validate(self, attrs):
        ref = _company_ref({k: attrs.get(k) for k in ("domain", "name", "corporate_number")})
        values = {name: attrs.get(name) for name in COMPANY_FIELDS if name in attrs}
        return CompanyInput(ref=ref, values=values)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """An optional choice stored blank ("") and answered as null.

    The schema's enum then never has to hold "", and "not known" reads the same
    in every field (``employee_count`` and ``last_activity_at`` are null too).
    """

    def __init__(self, **kwargs):
        kwargs.pop("allow_blank", None)
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class CompanyOutSerializer(serializers.ModelSerializer):
    serializer_choice_field = BlankAsNullChoiceField  # industry, revenue_band, prefecture, region

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "name_kana",
            "domain",
            "corporate_number",
            "industry",
            "industry_detail",
            "employee_count",
            "revenue_band",
            "prefecture",
            "region",
            "city",
            "address",
            "postal_code",
            "last_activity_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CompanyBatchSerializer(serializers.Serializer):
    companies = serializers.ListField(
        child=CompanyInSerializer(), min_length=1, max_length=MAX_BATCH
    )


class UpsertResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = ResultStatus(help_text="One of: created, updated, rejected.")
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class UpsertBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UpsertResultSerializer(many=True)


# --- Contacts -------------------------------------------------------------------


class ContactInSerializer(serializers.Serializer):
    """A contact to create or update, found by e-mail. Given fields are set."""

    email = EmailAddressField()
    name = _optional_text(100)
    name_kana = _optional_text(100)
    title = _optional_text(100)
    department = _optional_text(100)
    job_level = serializers.ChoiceField(
        choices=Contact.JobLevel.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=_NO_ECHO,
    )
    phone = _optional_text(32)
    has_consent = StrictBooleanField(required=False, allow_null=True)
    is_unsubscribed = StrictBooleanField(required=False, allow_null=True)
    company = CompanyRefSerializer(
        required=False,
        allow_null=True,
        help_text="Without it, a new contact's company comes from the e-mail's domain "
        "(unless it is a free-mail domain).",
    )

    def validate(self, attrs):
        texts = {
            name: attrs.get(name) or "" for name in ("name", "name_kana", "title", "department")
        }
        return ContactInput(
            email=attrs["email"],
            job_level=attrs.get("job_level") or "",
            phone=normalize_phone(attrs.get("phone") or ""),
            has_consent=attrs.get("has_consent"),
            is_unsubscribed=attrs.get("is_unsubscribed"),
            company=attrs.get("company"),
            **texts,
        )


class CompanyBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "domain"]
        read_only_fields = fields


class ContactOutSerializer(serializers.ModelSerializer):
    serializer_choice_field = BlankAsNullChoiceField  # job_level
    company = CompanyBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "email",
            "name",
            "name_kana",
            "title",
            "department",
            "job_level",
            "phone",
            "has_consent",
            "is_unsubscribed",
            "company",
            "last_activity_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactBatchSerializer(serializers.Serializer):
    contacts = serializers.ListField(
        child=ContactInSerializer(), min_length=1, max_length=MAX_BATCH
    )


# --- Intent signals ---------------------------------------------------------------


class IntentInSerializer(serializers.Serializer):
    """One intent signal; idempotent on (provider, external_id)."""

    company = CompanyRefSerializer(help_text="Created if new: intent names companies first.")
    topic = CleanCharField(max_length=IntentSignal._meta.get_field("topic").max_length)
    strength = StrictIntegerField(min_value=0, max_value=100)
    observed_at = AwareDateTimeField()
    provider = IdentifierField(max_length=IntentSignal._meta.get_field("provider").max_length)
    external_id = IdentifierField(
        max_length=IntentSignal._meta.get_field("external_id").max_length,
        help_text="With provider, the idempotency key. Trimmed and NFC-normalised; "
        "compared case-sensitively.",
    )

    def validate(self, attrs):
        return IntentInput(
            company=attrs["company"],
            topic=attrs["topic"],
            strength=attrs["strength"],
            observed_at=attrs["observed_at"],
            provider=attrs["provider"],
            external_id=attrs["external_id"],
        )


class IntentOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntentSignal
        fields = [
            "id",
            "company",
            "topic",
            "strength",
            "observed_at",
            "provider",
            "external_id",
            "received_at",
        ]
        read_only_fields = fields


class IntentBatchSerializer(serializers.Serializer):
    intent_signals = serializers.ListField(
        child=IntentInSerializer(), min_length=1, max_length=MAX_BATCH
    )


class IntentResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = ResultStatus(help_text="One of: created, duplicate, rejected.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class IntentBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = IntentResultSerializer(many=True)

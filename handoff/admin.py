"""The handoff's settings in the Django admin (administrators): the calendar and SLAs,
pain points, inquiry-form fields, reps, CRM webhooks with their delivery log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from handoff.models import (
    AccountOwner,
    FormBantField,
    HandoffSettings,
    PainPoint,
    RepProfile,
    WebhookDelivery,
    WebhookEndpoint,
)
from handoff.services.webhooks import webhook_replay


@admin.register(HandoffSettings)
class HandoffSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "time_zone",
        "opens",
        "closes",
        "first_touch_hours",
        "qualify_days",
        "cooling_off_days",
    )

    def has_add_permission(self, request) -> bool:
        return not HandoffSettings.objects.exists()  # one row

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PainPoint)
class PainPointAdmin(admin.ModelAdmin):
    list_display = ("code", "label_ja", "label_en", "order", "is_active")
    list_editable = ("label_ja", "label_en", "order", "is_active")


@admin.register(FormBantField)
class FormBantFieldAdmin(admin.ModelAdmin):
    list_display = ("property_name", "item")
    list_filter = ("item",)


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "pool", "capacity", "is_active", "rr_count")
    list_filter = ("pool", "is_active")
    readonly_fields = ("rr_count",)


@admin.register(AccountOwner)
class AccountOwnerAdmin(admin.ModelAdmin):
    list_display = ("company", "user")
    raw_id_fields = ("company",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "is_active", "created_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event",
        "cycle",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "endpoint")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Send again"))
    def replay(self, request, queryset):
        for delivery in queryset:
            webhook_replay(actor=request.user, delivery_id=delivery.pk)
        self.message_user(request, _("Queued again."), messages.SUCCESS)

"""Admins keep the rejection taxonomy here; verdicts and deals are shown read-only."""

from django.contrib import admin

from feedback.models import Opportunity, Reason, ReviewSettings, Verdict


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "label_ja",
        "label_en",
        "applies_to",
        "is_permanent",
        "order",
        "is_active",
    )
    list_editable = ("order", "is_active")
    list_filter = ("applies_to", "is_permanent", "is_active")
    search_fields = ("code", "label_ja", "label_en")

    def has_delete_permission(self, request, obj=None) -> bool:
        # A reason given in a verdict stays (PROTECT); retire it by unticking "offered".
        return obj is None or not obj.verdicts.exists()


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Verdict)
class VerdictAdmin(_ReadOnly):
    list_display = ("cycle", "kind", "decision", "reason", "judgement", "actor", "at")
    list_filter = ("kind", "decision", "reason", "judgement")
    date_hierarchy = "at"


@admin.register(Opportunity)
class OpportunityAdmin(_ReadOnly):
    list_display = ("crm_id", "contact", "status", "amount", "created_on", "closed_on")
    list_filter = ("status",)
    search_fields = ("crm_id", "crm_lead_id", "contact__email")


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = ("acceptance_target", "min_decided", "calls_per_rep_week", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not ReviewSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

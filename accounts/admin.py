from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (None, {"fields": ("time_zone",)}))
    list_display = ("username", "last_name", "first_name", "email", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "key_hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hint", "created_at", "last_used_at")
    exclude = ("key_hash",)

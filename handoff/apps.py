from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "handoff"
    verbose_name = _("Handoff")

    def ready(self) -> None:
        from handoff import permissions, receivers  # noqa: F401  (registers rules and receivers)

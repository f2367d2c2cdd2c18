import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Shows times in the signed-in user's zone (settings.TIME_ZONE otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone_name = getattr(user, "time_zone", "") if user is not None else ""
        if zone_name and getattr(user, "is_authenticated", False):
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)

"""``manage.py check --deploy``: no active user may still have the demo password.

seed_demo gives its users (admin among them) the password ``demo``; an
installation that was seeded, or where someone chose ``demo`` by hand, must not
go live like that.

Checking a password costs one hash, about half a second with Django's PBKDF2
(1,000,000 iterations) on a small machine, so this check does three things to
stay cheap: it looks only at active users with a usable password; it hashes each
distinct stored hash once (seed_demo stores one hash for all its users: the demo
set costs one hash, not eight); and it hashes at most ``HASH_LIMIT`` of them, the
demo usernames first, then superusers and staff, then the most recently logged
in, on a few threads (the hash releases the GIL). Beyond the limit it says how
many users it left unchecked (an Info, which fails nothing). It runs only with
``--deploy``, never on runserver or migrate. A database without the users table
yet (``check --deploy`` before the first migrate) has nothing to check.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, check_password
from django.core import checks
from django.db import DatabaseError
from django.db.models import Case, F, IntegerField, Max, Min, Value, When

from portal.demo import DEMO_PASSWORD, DEMO_USERS

HASH_LIMIT = 20
DEMO_USERNAMES = tuple(username for username, *_ in DEMO_USERS)


def _candidates():
    """Usable stored hashes, most suspicious first, with the users holding each."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(password="")
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    )
    rank = Case(
        When(username__in=DEMO_USERNAMES, then=Value(0)),
        When(is_superuser=True, then=Value(1)),
        When(is_staff=True, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    hashes = (
        users.values("password")
        .annotate(rank=Min(rank), last=Max("last_login"))
        .order_by("rank", F("last").desc(nulls_last=True))
        .values_list("password", flat=True)
    )
    return users, hashes


@checks.register(checks.Tags.security, deploy=True)
def check_demo_passwords(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    try:
        users, hashes = _candidates()
        distinct = hashes.count()
        checked = list(hashes[:HASH_LIMIT])
    except DatabaseError:  # not migrated yet: no users to check
        return []
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        matches = [
            encoded
            for encoded, is_demo in zip(
                checked,
                pool.map(lambda encoded: check_password(DEMO_PASSWORD, encoded), checked),
                strict=True,
            )
            if is_demo
        ]
    messages: list[checks.CheckMessage] = []
    if matches:
        names = sorted(users.filter(password__in=matches).values_list("username", flat=True))
        messages.append(
            checks.Error(
                f"Active users whose password is {DEMO_PASSWORD!r}: {', '.join(names)}.",
                hint="Demo users are for development (seed_demo). Give each a real password "
                "(manage.py changepassword NAME) or deactivate it in the Django admin.",
                id="portal.E001",
            )
        )
    if distinct > len(checked):
        messages.append(
            checks.Info(
                f"Checked {len(checked)} of {distinct} distinct stored passwords for "
                f"{DEMO_PASSWORD!r} (demo usernames, superusers and staff first); "
                "the others were not checked, as each costs a slow hash.",
                id="portal.I001",
            )
        )
    return messages

"""``manage.py seed_demo``: demo users and realistic demo data, once.

``make run`` calls this on every start, so a second run must cost a second or
two and create nothing: the builder checks for its marker first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.demo import (
    ATTRIBUTION,
    DEFAULT_COMPANIES,
    DEFAULT_CONTACTS,
    DEMO_USERS,
    SYNTHETIC_COMPANIES,
    SYNTHETIC_CONTACTS,
    datasets_missing,
    demo_seed,
)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


class Command(BaseCommand):
    help = (
        "Create the demo users (password 'demo') and demo companies, contacts, activities "
        "and intent signals built from the public datasets in DEMO_DATASETS_DIR. "
        "Does nothing when the demo data is already there."
    )
    # `make run` calls this between migrate and runserver, which both run the
    # system checks; running them a third time would double a no-op start.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--companies",
            type=_positive,
            help=f"how many companies (default {DEFAULT_COMPANIES}; "
            f"{SYNTHETIC_COMPANIES} without the datasets)",
        )
        parser.add_argument(
            "--contacts",
            type=_positive,
            help=f"how many contacts (default {DEFAULT_CONTACTS}; "
            f"{SYNTHETIC_CONTACTS} without the datasets)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo data first (demo-* activities and intent, the demo "
            "contacts and companies under .example.jp); the demo users stay",
        )
        parser.add_argument(
            "--require-datasets",
            action="store_true",
            help="fail instead of seeding a synthetic set when the datasets are missing",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even with DEBUG off (also DEMO_SEED_FORCE=true): the demo users, "
            "admin among them, all get the password 'demo'",
        )

    def handle(self, *args, **options) -> None:
        # A production installation (DEBUG off) must not get an `admin` whose
        # password is `demo` from a stray `make seed` or a copied deploy script.
        if not (settings.DEBUG or options["force"] or settings.DEMO_SEED_FORCE):
            raise CommandError(
                "Refusing to seed demo data with DEBUG off: this looks like a production "
                "installation, and the demo users (admin among them) would all get the "
                "password 'demo'. Seed a development setup (DEBUG=true, the default), or "
                "pass --force (or set DEMO_SEED_FORCE=true) if you really want demo users "
                "here, and give them real passwords afterwards."
            )
        started = time.perf_counter()
        directory = Path(settings.DEMO_DATASETS_DIR)
        missing = datasets_missing(directory)
        if missing:
            what = (
                f"the directory {directory} does not exist"
                if not directory.is_dir()
                else "missing " + ", ".join(str(p) for p in missing)
            )
            message = (
                f"Demo datasets not found: {what}. Set DEMO_DATASETS_DIR to the folder "
                "holding the shared datasets (jp_nta_houjin_bangou/, jp_post_zipcode/, …), "
                "e.g. `DEMO_DATASETS_DIR=/path/to/shared/datasets make run`, or in .env."
            )
            if options["require_datasets"]:
                raise CommandError(message)
            self.stderr.write(
                self.style.WARNING(
                    message + " Creating the demo users and a small synthetic set instead."
                )
            )
        result = demo_seed(
            datasets_dir=None if missing else directory,
            companies=options["companies"],
            contacts=options["contacts"],
            reset=options["reset"],
            log=self.stdout.write if options["verbosity"] > 1 else lambda message: None,
        )
        elapsed = time.perf_counter() - started
        after = result.after
        totals = (
            f"{after.companies:,} companies, {after.contacts:,} contacts, "
            f"{after.activities:,} activities, {after.intent_signals:,} intent signals"
        )
        if result.is_skipped:
            self.stdout.write(
                f"Demo data already present ({totals}); nothing to do ({elapsed:.1f} s). "
                "Use --reset to rebuild it."
            )
            return
        before = result.before
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data seeded in {elapsed:.1f} s: {totals} "
                f"(new: {after.users - before.users} users, "
                f"{after.companies - before.companies:,} companies, "
                f"{after.contacts - before.contacts:,} contacts, "
                f"{after.activities - before.activities:,} activities, "
                f"{after.intent_signals - before.intent_signals:,} intent signals)."
            )
        )
        users = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write(f"Demo users: {users}; password: demo")
        if result.is_synthetic:
            self.stdout.write("Companies and people are invented: no dataset was used.")
            return
        self.stdout.write("Demo data built from public datasets (see docs/demo-data.md):")
        for line in ATTRIBUTION:
            self.stdout.write(f"  {line}")

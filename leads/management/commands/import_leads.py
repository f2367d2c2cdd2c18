"""python manage.py import_leads FILE [--dry-run] [--kind leads|intent]

Exit status 0 when the file was imported (or, with --dry-run, would import
cleanly); 1 when the file cannot be read, any row is invalid or the import
failed (the database connection was lost …), in which case nothing was written
and stderr says why: the problems, or one line. It speaks the shell's language
(LANG=ja_JP.UTF-8 or en_US.UTF-8), else the portal's default.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import Error as DatabaseFailure
from django.utils import translation

from config.log import OPERATORS_ONLY, shell_language
from leads import csvio
from leads.services import imports

logger = logging.getLogger(__name__)

MAX_PRINTED = 1000


class Command(BaseCommand):
    help = "Import companies and contacts (or intent data) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file: UTF-8 (BOM or not) or CP932")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and report; write nothing"
        )
        parser.add_argument(
            "--kind", choices=[csvio.KIND_LEADS, csvio.KIND_INTENT], default=csvio.KIND_LEADS
        )

    def handle(self, *args, **options):
        language = shell_language([code for code, _name in settings.LANGUAGES])
        with translation.override(language or settings.LANGUAGE_CODE):
            self._import(**options)

    def _import(self, *, file: Path, dry_run: bool, kind: str, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        verbose = options["verbosity"] > 1

        def progress(done: int, total: int) -> None:
            if verbose:
                self.stderr.write(f"{done:,}/{total:,} rows checked")

        try:
            outcome = imports.IMPORTERS[kind](data=data, dry_run=dry_run, on_progress=progress)
        except imports.ImportFileError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        except DatabaseFailure as exc:
            # One line for the user; the traceback for the operators' log
            # (LOG_FILE), or on the console with --traceback.
            logger.error("import of %s failed", file, exc_info=True, extra=OPERATORS_ONLY)
            if options.get("traceback"):
                raise
            raise CommandError(f"{file}: {imports.import_failure_of(exc).message()}") from None

        self.stdout.write(f"{file}: {outcome.encoding}, {outcome.total_rows:,} rows")
        ignored = [c.header for c in outcome.columns if c.is_ignored]
        if ignored:
            self.stdout.write("ignored columns: " + ", ".join(ignored))
        for note in outcome.notes[: MAX_PRINTED if verbose else 20]:
            self.stdout.write(f"line {note.line}: {note.message}")
        if outcome.note_count > 20 and not verbose:
            self.stdout.write(f"… {outcome.note_count - 20} more notes (-v 2 shows them)")
        if not outcome.is_valid:
            for error in outcome.errors[:MAX_PRINTED]:
                column = f" [{error.field}]" if error.field else ""
                self.stderr.write(f"line {error.line}{column}: {error.message}")
            if outcome.error_count > len(outcome.errors[:MAX_PRINTED]):
                self.stderr.write(f"… and {outcome.error_count - MAX_PRINTED} more")
            raise CommandError(f"{outcome.error_count} problem(s) in {file}; nothing was imported.")
        keys = imports.INTENT_COUNT_KEYS if kind == csvio.KIND_INTENT else imports.LEAD_COUNT_KEYS
        summary = ", ".join(f"{key} {outcome.counts.get(key, 0):,}" for key in keys)
        prefix = "dry run, nothing written: " if dry_run else "imported: "
        self.stdout.write(self.style.SUCCESS(prefix + summary))

"""CSV imports: companies and contacts, intent data, and the ImportJob flow.

``leads_import_csv`` and ``intent_import_csv`` take a whole file and either
report what they would do (dry run) or do it. Both are all or nothing: if any
row is invalid nothing is written and every invalid row is reported with its
physical line (header = line 1), column and a message.

The work has two phases. Validation reads the file row by row (pure Python,
no queries) and reports progress; it runs outside any transaction so that a
job's progress row can be updated while it runs. Writing is one transaction
and set-based: a bounded number of queries per 1,000 rows (match, load,
upsert), never a query per row.

The job flow (web UI, Celery): ``import_job_create`` stores the upload after
checking its size, encoding and header; ``import_job_queue`` marks a job as
waiting for the dry run or the import (a conditional UPDATE, so a double click
queues nothing twice); the tasks call ``import_job_check`` and
``import_job_commit``, which claim the job with another conditional UPDATE.

Modules, in the order the data flows:
  columns    decoding the file, mapping its header, the row limit
  cells      parsing one cell (numbers, amounts, dates, flags, job levels)
  rows       parsing and validating one row of a leads file
  companies  grouping rows by company, matching and planning company writes
  contacts   the leads import (``leads_import_csv``)
  intent     the intent import (``intent_import_csv``)
  outcome    row errors, notes, their messages and the ImportOutcome
  failure    why an import failed, in one line (connection lost, refused, a bug)
  jobs       the ImportJob flow and the reads for the import pages

This package re-exports the public names, so callers import from
``leads.services.imports``.
"""

from leads.services.imports.cells import job_level_from_title
from leads.services.imports.columns import ImportFileError, csv_inspect
from leads.services.imports.companies import COMPANY_FIELDS, WRITE_BATCH
from leads.services.imports.contacts import CONTACT_FIELDS, leads_import_csv
from leads.services.imports.failure import ImportFailure, import_failure_of
from leads.services.imports.intent import intent_import_csv
from leads.services.imports.jobs import (
    IMPORTERS,
    ImportJobStateError,
    ImportPreview,
    import_job_check,
    import_job_commit,
    import_job_create,
    import_job_errors,
    import_job_get_for,
    import_job_list_for,
    import_job_message,
    import_job_preview,
    import_job_queue,
    import_jobs_overdue,
    import_jobs_purge,
)
from leads.services.imports.outcome import (
    COUNT_LABELS,
    INTENT_COUNT_KEYS,
    LEAD_COUNT_KEYS,
    MAX_STORED_ERRORS,
    MESSAGES,
    PROGRESS_EVERY,
    ImportOutcome,
    ProgressCallback,
    RowError,
    RowNote,
    message_render,
)

__all__ = [
    "COMPANY_FIELDS",
    "CONTACT_FIELDS",
    "COUNT_LABELS",
    "IMPORTERS",
    "INTENT_COUNT_KEYS",
    "LEAD_COUNT_KEYS",
    "MAX_STORED_ERRORS",
    "MESSAGES",
    "PROGRESS_EVERY",
    "WRITE_BATCH",
    "ImportFailure",
    "ImportFileError",
    "ImportJobStateError",
    "ImportOutcome",
    "ImportPreview",
    "ProgressCallback",
    "RowError",
    "RowNote",
    "csv_inspect",
    "import_failure_of",
    "import_job_check",
    "import_job_commit",
    "import_job_create",
    "import_job_errors",
    "import_job_get_for",
    "import_job_list_for",
    "import_job_message",
    "import_job_preview",
    "import_job_queue",
    "import_jobs_overdue",
    "import_jobs_purge",
    "intent_import_csv",
    "job_level_from_title",
    "leads_import_csv",
    "message_render",
]

"""Settings for the alignment portal.

Every value comes from the environment (django-environ). The defaults run the
embedded setup with no configuration at all: SQLite, Celery tasks executed
eagerly in-process, a local-memory cache. Setting a PostgreSQL ``DATABASE_URL``
and a ``REDIS_URL`` switches to the production services. docs/configuration.md
lists every variable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.smart_cast = False
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))


def _bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo must stop startup, not silently mean False."""
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


DEBUG = _bool("DEBUG", True)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name this site's host names")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_celery_beat",
    "axes",
    "csp",
    "accounts",
    "leads",
    "scoring",
    "handoff",
    "feedback",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a login that axes refused into the lockout page (accounts.lockout).
    "axes.middleware.AxesMiddleware",
    # Last, so that it sees the exception of the view itself (DRF re-raises it).
    "config.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "config.urls"
# Widgets render through TEMPLATES, so templates/django/forms/ may override one
# (the select, whose options it writes in place: much faster for long lists).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "portal.navigation.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = _int("CONN_MAX_AGE", 60 if not DEBUG else 0)
# A health check is a SELECT 1 round trip at the start of every request that
# reuses a persistent connection (one of seven on a single-event request, before
# the token cache). Without it, a connection the server dropped fails the one
# request that finds it and is then replaced. Turn it on where idle connections
# get cut (a pooler or firewall with an idle timeout, a failover).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = _bool("CONN_HEALTH_CHECKS", False)
# How long a write waits for a lock another writer holds before it gives up; a
# request that gives up is answered 503 with Retry-After (config.middleware).
# SQLite's busy timeout (default 20 s); on PostgreSQL ``lock_timeout``, unset by
# default (PostgreSQL waits as long as it takes).
_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
DB_LOCK_TIMEOUT = _int("DB_LOCK_TIMEOUT", 20 if _SQLITE else 0, minimum=0)
if _SQLITE and DB_LOCK_TIMEOUT < 1:
    raise ImproperlyConfigured("DB_LOCK_TIMEOUT must be at least 1 (second) on SQLite")
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql") and DB_LOCK_TIMEOUT:
    DATABASES["default"].setdefault("OPTIONS", {})
    options = DATABASES["default"]["OPTIONS"].get("options", "")
    DATABASES["default"]["OPTIONS"]["options"] = (
        f"{options} -c lock_timeout={DB_LOCK_TIMEOUT * 1000}".strip()
    )
if _SQLITE:
    # WAL lets pages read while the background thread or another request writes.
    # IMMEDIATE transactions take the write lock when they begin, so two writers
    # queue for it (up to ``timeout`` seconds) instead of one failing with
    # "database is locked" when its read lock cannot be upgraded.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": DB_LOCK_TIMEOUT,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
# No broker configured means the embedded default: tasks run in-process, and
# their exceptions reach the caller instead of vanishing into a queue.
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Eager only: long tasks a page sends (a rescore, an import) run on a background
# thread of the process instead of inside the request (config.background).
EMBEDDED_BACKGROUND_TASKS = _bool("EMBEDDED_BACKGROUND_TASKS", True)
# The queue tasks are sent to and a worker consumes unless given -Q. Installations
# sharing one Redis can keep apart this way; the tests give each pytest process its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="") or "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = _int("CELERY_TASK_SOFT_TIME_LIMIT", 540, minimum=1)
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 600, minimum=1)
# Redis redelivers an unacknowledged task after the visibility timeout; it must
# outlast the hard time limit or a long task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT")
CELERY_TIMEZONE = "UTC"
# How often beat sends the sweeps (scoring.tasks.rescore_sweep, leads.tasks.import_jobs_sweep):
# they send again a chunk whose lease expired (a worker killed mid-chunk, a message
# the broker lost) and drain pending leads whose drain task never came (the broker
# was down). Each is two or three small queries when there is nothing to do.
SCORING_SWEEP_SECONDS = _int("SCORING_SWEEP_SECONDS", 30, minimum=1)
# A chunk's lease: how long after its dispatch, or a worker's start on it, it is
# left alone. Sweep interval plus lease bound how long a killed worker stalls a job.
SCORING_CHUNK_LEASE_SECONDS = _int("SCORING_CHUNK_LEASE_SECONDS", 30, minimum=1)
# A pending lead younger than this is left to the drain task its batch sent.
SCORING_PENDING_GRACE_SECONDS = _int("SCORING_PENDING_GRACE_SECONDS", 5, minimum=0)
# A queued import whose task has not started after this long is sent again.
IMPORT_REQUEUE_SECONDS = _int("IMPORT_REQUEUE_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # A sweep that waited longer than its interval in the queue (workers were
    # down) is dropped: the next one does the same work.
    "rescore-sweep": {
        "task": "scoring.tasks.rescore_sweep",
        "schedule": timedelta(seconds=SCORING_SWEEP_SECONDS),
        "options": {"expires": SCORING_SWEEP_SECONDS},
    },
    "import-jobs-sweep": {
        "task": "leads.tasks.import_jobs_sweep",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 60},
    },
    "purge-finished-import-jobs": {
        "task": "leads.tasks.import_jobs_purge",
        "schedule": crontab(hour=3, minute=17),
    },
    # 03:30 in Japan: decay moves leads across bands while nobody works.
    "rescore-nightly": {
        "task": "scoring.tasks.rescore_nightly",
        "schedule": crontab(hour=18, minute=30),
    },
}
# Home's figures (a month of activity per day, the counts by band) are recounted at
# most this often per time zone; visits in between are served from the cache.
HOME_FIGURES_SECONDS = _int("HOME_FIGURES_SECONDS", 60, minimum=0)
# Leads per rescoring chunk (one Celery task each).
SCORING_CHUNK_SIZE = _int("SCORING_CHUNK_SIZE", 5000, minimum=1)
# At most this many drain tasks share one ingested batch (SKIP LOCKED splits
# the pending leads between them), one per SCORING_DRAIN_CLAIM leads waiting.
SCORING_DRAIN_TASKS = _int("SCORING_DRAIN_TASKS", 2, minimum=1)
SCORING_DRAIN_CLAIM = _int("SCORING_DRAIN_CLAIM", 500, minimum=1)

# Handoff: the SLA sweep and the intake sweep (which catches MQLs a lost task
# missed), and the CRM webhook's retries (exponential backoff from this many seconds).
CELERY_BEAT_SCHEDULE["handoff-sla-sweep"] = {
    "task": "handoff.tasks.sla_sweep",
    "schedule": _int("HANDOFF_SLA_SWEEP_SECONDS", 120, minimum=10),
}
CELERY_BEAT_SCHEDULE["handoff-intake-sweep"] = {
    "task": "handoff.tasks.mql_intake",
    "schedule": _int("HANDOFF_INTAKE_SWEEP_SECONDS", 60, minimum=5),
}
# Feedback: the report facts of cycles a lost task missed.
CELERY_BEAT_SCHEDULE["feedback-facts-sweep"] = {
    "task": "feedback.tasks.cycle_facts_refresh",
    "schedule": _int("FEEDBACK_FACTS_SWEEP_SECONDS", 300, minimum=10),
    "options": {"expires": 300},
}
WEBHOOK_MAX_ATTEMPTS = _int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_BACKOFF_SECONDS = _int("WEBHOOK_BACKOFF_SECONDS", 30, minimum=1)

# SQLite (the embedded default) builds covering indexes without their
# INCLUDE columns; they only speed PostgreSQL up, so its warning is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked. It needs
    # the request, so authenticate() must get one (tests log in with force_login).
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Reverse proxies in front of the app that append to X-Forwarded-For (nginx, a
# load balancer): the client address the lockout and the API limits count is
# the PROXY_COUNT-th entry from its right (accounts.addresses). 0: REMOTE_ADDR.
PROXY_COUNT = _int("PROXY_COUNT", 0)

# Login throttling (django-axes, accounts.lockout): the portal's login and the
# Django admin's. A username and address pair is locked after LOGIN_FAILURE_LIMIT
# failures, an address after LOGIN_ADDRESS_FAILURE_LIMIT on any usernames, until
# LOGIN_LOCKOUT_MINUTES pass without another attempt; a success clears the pair.
AXES_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = _int("LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "accounts.lockout.LoginAttemptHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.addresses.client_address"
# Masked in the stored form data and the log lines; the address stays readable in both.
AXES_SENSITIVE_PARAMETERS = ["username", "csrfmiddlewaretoken"]
AXES_VERBOSE = False  # no startup banner on every command; lockouts are logged all the same

# --- i18n and time ----------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One date and time format per language on every page (config/formats/<lang>/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True
# Stored times are UTC; this is the zone shown to a user who chose none, and
# the team's zone for SLAs and reviews.
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = BASE_DIR / "media"

# --- Uploads and API --------------------------------------------------------
# A 1,000-event batch is well under 2 MB; anything bigger is refused with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = _int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
IMPORT_MAX_FILE_BYTES = _int("IMPORT_MAX_FILE_BYTES", 50 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 500_000, minimum=1)
EVENTS_MAX_BATCH = 1000

# API rate limits (accounts.throttling, docs/api.md "Limits"), counted in the cache
# (Redis in production, so across processes): refused bearer tokens per client
# address and minute (past it: 429 for any new token from the address), and
# writes per token (or signed-in person) as "count/period" (s, min, h, day).
API_AUTH_FAILURES_PER_MINUTE = _int("API_AUTH_FAILURES_PER_MINUTE", 10, minimum=1)
API_WRITE_RATE = env.str("API_WRITE_RATE", default="") or "6000/min"
if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", API_WRITE_RATE):
    raise ImproperlyConfigured(f"API_WRITE_RATE={API_WRITE_RATE!r} is not a rate such as 6000/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Size-limited and strict (a malformed body is a 400, never a 500); JSON only.
    "DEFAULT_PARSER_CLASSES": ["leads.api.parsers.JSONBodyParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.ApiWriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_write": API_WRITE_RATE},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# /api/schema/ and /api/docs/ are for signed-in people and integration tokens
# (config.api_docs); true opens them to anyone.
API_DOCS_PUBLIC = _bool("API_DOCS_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Alignment portal API",
    "DESCRIPTION": "Leads, activity and intent data in; scores out. "
    "Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema_allow_empty_query_values",
        "leads.api.schema.postprocess_schema",
        "feedback.api.schema.postprocess_schema",
    ],
    # One name per choice set the API shares (the BANT items' statuses).
    "ENUM_NAME_OVERRIDES": {
        "BantStatusEnum": "handoff.models.BantStatus.choices",
        "ResultStatusEnum": "leads.api.serializers.RESULT_STATUSES",
        "OpportunityStatusEnum": "feedback.api.serializers.OPPORTUNITY_STATUSES",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail (notifications) ------------------------------------------------
# consolemail:// prints mails to the console (development); smtp+tls://user:pass@host:587
# in production (django-environ's email URL).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# The portal's address, for links in e-mails.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Demo data --------------------------------------------------------------
# seed_demo refuses to run with DEBUG off (its users' password is "demo") unless
# given --force or this.
DEMO_SEED_FORCE = _bool("DEMO_SEED_FORCE", False)
DEMO_DATASETS_DIR = Path(
    env.str("DEMO_DATASETS_DIR", default=str(BASE_DIR.parent / "shared" / "datasets"))
)

# --- Security (production) --------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp) on every response: scripts, styles, fonts and
# images only from this site (static/, vendor libraries included; no CDN), no
# inline script or style (not even style="" attributes: widths come as data-*
# attributes, static/js/portal.js), no eval, no plugins, no framing. data: images
# are Bootstrap's and Swagger UI's SVG icons inside their CSS. A page that needs an
# exception gets it with csp.decorators, never here. Django's debug pages (404, 500
# with DEBUG on) go without it, as django-csp exempts them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Also log to this file (reopened when rotated). Records a command keeps off its
# user's console (config.log.OPERATORS_ONLY: a failed import's traceback) go only here.
LOG_FILE = env.str("LOG_FILE", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "console": {"()": "config.log.ConsoleFilter"},
        "one_line_client_errors": {"()": "config.log.OneLineClientErrors"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["console", "one_line_client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs each failed login and lockout at WARNING, and chatters at INFO.
        "axes": {"level": "WARNING"},
    },
}
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": "plain",
        "filters": ["one_line_client_errors"],
    }
    LOGGING["root"]["handlers"].append("file")

"""Settings for the service-management portal, read from the environment.

With no DATABASE_URL and no REDIS_URL the portal runs on an embedded default that needs
no server: SQLite in WAL mode, a file cache, and Celery on kombu's filesystem transport
(a real worker and beat, started by `make run`). With them set it uses PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from portal.observability import init_sentry, logging_config
from portal.storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The portal's public URL, for links in e-mails and feeds (`make run` sets it to the served port).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

INSTALLED_APPS = [
    "portal.admin_apps.PortalAdminConfig",  # django.contrib.admin without its login form
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Customer organizations' single sign-on (portal.sso): OpenID Connect and SAML 2.0.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "portal.accounts",
    "portal.tenancy",
    "portal",
    "engagements",
    "reviews",
    "cases",
    # Wiring apart from the kernel: the demo and data-set builders and their commands.
    "portal.demo",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID, and metrics time the whole stack.
    "portal.observability.RequestIdMiddleware",
    "portal.metrics.MetricsMiddleware",
    # Before any statement: an idle persistent connection skips the health check's round trip.
    "portal.middleware.QuietConnectionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.dbfaults.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.csp.CSPMiddleware",
    "portal.api.middleware.ApiBodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.sso.middleware.SamlHostMiddleware",
    "portal.tenancy.middleware.TenantScopeMiddleware",
    "portal.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.accounts.middleware.RequireAdminMfaMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refusals a page view did not show on its form: the error page, with the reason.
    "portal.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "portal.site.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.navigation",
            ],
            "builtins": ["portal.templatetags.when"],
        },
    },
]

# --- Database: PostgreSQL from DATABASE_URL, else SQLite in WAL mode -------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the Celery worker write at once; IMMEDIATE transactions
    # take the write lock up front, so concurrent writers wait instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction pooling (DATABASE_POOLING=transaction, or PGBOUNCER=1) each
# transaction may run on another server connection, so nothing may outlive one: no server-side
# cursors (QuerySet.iterator() would DECLARE one on one connection and FETCH on another), no
# prepared statements (psycopg's are per server connection), and no persistent client
# connections by default (PgBouncer pools them; README "Scaling out").
DATABASE_POOLING = env.str(
    "DATABASE_POOLING", default="transaction" if env.bool("PGBOUNCER", default=False) else ""
)
if DATABASE_POOLING not in ("", "session", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLING must be empty, 'session' or 'transaction'.")
if DATABASE_POOLING == "transaction" and DATABASES["default"]["ENGINE"] != (
    "django.db.backends.sqlite3"
):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# PostgreSQL compiles a statement to machine code (JIT) when its *estimated* cost passes
# jit_above_cost, which takes 10 to 20 ms. The portal's statements are short reads and writes,
# and an estimate can be far off: the case list's load panel (a count per manager, 33 rows) was
# estimated past the threshold and spent 12 of its 14 ms compiling (issue 17). Off for the
# portal's connections, set when each connects; DATABASE_JIT=1 keeps the server's setting.
# PgBouncer refuses the startup option, so behind it set `ALTER ROLE … SET jit = off` instead
# (README "Scaling out").
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and not DATABASE_POOLING
    and not env.bool("DATABASE_JIT", default=False)
):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker: Redis from REDIS_URL, else a file cache and a filesystem broker ------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="portal")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # Short socket timeouts: a Redis that is down or drops packets costs a request at
            # most this long (rate limits then fail open, /healthz answers 503) instead of the
            # operating system's connect timeout.
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT_SECONDS", default=0.5),
                "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT_SECONDS", default=1.0),
            },
        }
    }
else:
    # allauth's rate limits need a cache shared by every process: a file cache is one.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    # Every folder of the transport lives under the var folder (kombu's default for the control
    # folder is `control/` in the working directory, i.e. the repository).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Longer than any task may run, so Redis does not redeliver a task still being worked on.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task running when the broker connection drops runs to its end (every task is transactional
# and idempotent); cancelling it would lose it with a Redis that keeps nothing. Celery 6 flips this.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# No task runs forever: the soft limit raises SoftTimeLimitExceeded in the task (its transaction
# rolls back), the hard limit kills the pool process. Both stay under the broker's visibility
# timeout; a task that legitimately runs longer (the full scheduler run) sets its own.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
SCHEDULER_SOFT_TIME_LIMIT = env.int("SCHEDULER_SOFT_TIME_LIMIT", default=1800)
SCHEDULER_TIME_LIMIT = env.int("SCHEDULER_TIME_LIMIT", default=1900)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat touches this file at every tick, at least once a minute (the compose healthcheck reads it).
CELERY_BEAT_SCHEDULER = "portal.beat:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 60
BEAT_HEARTBEAT_FILE = str(VAR_DIR / "celerybeat-heartbeat")
# Exactly one beat sends the periodic jobs (portal/beat.py): the leader's lock in Redis lives this
# long unless renewed (a standby takes over that long after the leader died), or a file lock on
# one machine with no Redis.
BEAT_LOCK_TTL_SECONDS = env.float("BEAT_LOCK_TTL_SECONDS", default=90.0)
BEAT_LOCK_FILE = str(VAR_DIR / "celerybeat.lock")
REVIEW_REMINDER_BUSINESS_DAYS = env.int("REVIEW_REMINDER_BUSINESS_DAYS", default=1)
MAINTENANCE_NOTICE_BUSINESS_DAYS = env.int("MAINTENANCE_NOTICE_BUSINESS_DAYS", default=2)
REVIEW_MISSED_GRACE_HOURS = env.int("REVIEW_MISSED_GRACE_HOURS", default=24)
# The daily notification digest goes out at the first run at or after this hour, local time.
NOTIFICATION_DIGEST_HOUR = env.int("NOTIFICATION_DIGEST_HOUR", default=8)
HEARTBEAT_INTERVAL_SECONDS = env.float("HEARTBEAT_INTERVAL_SECONDS", default=60.0)
# Live pages (portal/live.py): how often lists, the board and the navigation's badges poll, and
# how often a case page asks who is replying; a reply box's presence lasts PRESENCE_SECONDS
# after its last heartbeat (static/portal/live.js beats every 10 s while the box has focus).
LIVE_POLL_SECONDS = env.int("LIVE_POLL_SECONDS", default=20)
PRESENCE_POLL_SECONDS = env.int("PRESENCE_POLL_SECONDS", default=5)
PRESENCE_SECONDS = 30
# Risks scoring above this (likelihood × impact, 1-25) show in service review reports and boards.
RISK_REPORT_THRESHOLD = env.int("RISK_REPORT_THRESHOLD", default=12)
# Webhooks (portal/webhooks): a delivery times out after this many seconds; a failing one is
# retried with exponential backoff from the base (with jitter) for at least WEBHOOK_RETRY_HOURS
# and WEBHOOK_MIN_ATTEMPTS attempts, then given up; a subscription failing that many days is
# disabled. Private, loopback and link-local receivers only where allowed (DEBUG, tests).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_BACKOFF_BASE_SECONDS = env.float("WEBHOOK_BACKOFF_BASE_SECONDS", default=60.0)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24.0)
WEBHOOK_MIN_ATTEMPTS = env.int("WEBHOOK_MIN_ATTEMPTS", default=8)
WEBHOOK_DISABLE_DAYS = env.int("WEBHOOK_DISABLE_DAYS", default=3)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=DEBUG)

# Queues by job, so a slow job never delays another kind: the SLA scan (reminders and breaches)
# has a queue of its own, as do mail (the outbox) and the scheduler's runs (sessions, notices,
# overages, risk reviews); the rest go to the default queue. A worker started without -Q
# consumes them all (make run); compose gives the SLA queue a worker of its own (README).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "sla", "mail", "scheduler")]
CELERY_TASK_ROUTES = {
    "cases.tasks.scan_sla": {"queue": "sla"},
    "portal.tasks.deliver_outbox": {"queue": "mail"},
    "portal.tasks.deliver_webhooks": {"queue": "mail"},
    "cases.mailin.tasks.*": {"queue": "mail"},
    "reviews.scheduling.tasks.*": {"queue": "scheduler"},
    "reviews.maintenance.tasks.*": {"queue": "scheduler"},
    "engagements.time.tasks.*": {"queue": "scheduler"},
    "cases.risks.tasks.*": {"queue": "scheduler"},
}
# The periodic jobs. Exactly one beat process sends them, however many run (portal/beat.py).
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "portal.tasks.heartbeat", "schedule": HEARTBEAT_INTERVAL_SECONDS},
    "deliver-webhooks": {
        "task": "portal.tasks.deliver_webhooks",
        "schedule": env.float("WEBHOOK_INTERVAL_SECONDS", default=5.0),
    },
    "deliver-outbox": {
        "task": "portal.tasks.deliver_outbox",
        "schedule": env.float("OUTBOX_INTERVAL_SECONDS", default=15.0),
    },
    "scan-sla": {
        "task": "cases.tasks.scan_sla",
        "schedule": env.float("SLA_SCAN_INTERVAL_SECONDS", default=60.0),
    },
    "schedule-occurrences": {
        "task": "reviews.scheduling.tasks.schedule_all",
        "schedule": env.float("SCHEDULER_INTERVAL_SECONDS", default=86400.0),
    },
    "remind-occurrences": {
        "task": "reviews.scheduling.tasks.remind_and_mark_missed",
        "schedule": env.float("OCCURRENCE_REMINDER_INTERVAL_SECONDS", default=300.0),
    },
    "maintenance-notices": {
        "task": "reviews.maintenance.tasks.send_maintenance_notices",
        "schedule": env.float("MAINTENANCE_NOTICE_INTERVAL_SECONDS", default=900.0),
    },
    "remind-risk-reviews": {
        "task": "cases.risks.tasks.remind_risk_reviews",
        "schedule": env.float("RISK_REVIEW_INTERVAL_SECONDS", default=3600.0),
    },
    "purge-idempotency-keys": {
        "task": "portal.tasks.purge_idempotency_keys",
        "schedule": env.float("IDEMPOTENCY_PURGE_INTERVAL_SECONDS", default=3600.0),
    },
    "send-notification-digests": {
        "task": "portal.tasks.send_notification_digests",
        "schedule": env.float("NOTIFICATION_DIGEST_INTERVAL_SECONDS", default=900.0),
    },
    "evaluate-overages": {
        "task": "engagements.time.tasks.evaluate_overages",
        "schedule": env.float("OVERAGE_INTERVAL_SECONDS", default=3600.0),
    },
}

# Cases by e-mail from a mailbox (cases/mailin/imap.py): with INBOUND_IMAP_URL set, beat has the
# `mail` queue poll it; every message becomes a case or a comment, then moves to the done folder,
# or after INBOUND_IMAP_MAX_ATTEMPTS failed attempts to the failed folder. A bad URL stops every
# process here, at startup, with the reason.
INBOUND_IMAP_URL = env.str("INBOUND_IMAP_URL", default="")
INBOUND_IMAP_DONE_FOLDER = env.str("INBOUND_IMAP_DONE_FOLDER", default="Processed")
INBOUND_IMAP_FAILED_FOLDER = env.str("INBOUND_IMAP_FAILED_FOLDER", default="Failed")
INBOUND_IMAP_MAX_ATTEMPTS = env.int("INBOUND_IMAP_MAX_ATTEMPTS", default=5)
INBOUND_IMAP_INTERVAL_SECONDS = env.float("INBOUND_IMAP_INTERVAL_SECONDS", default=60.0)
INBOUND_IMAP_BATCH_SIZE = env.int("INBOUND_IMAP_BATCH_SIZE", default=100)
INBOUND_IMAP_TIMEOUT_SECONDS = env.float("INBOUND_IMAP_TIMEOUT_SECONDS", default=30.0)
# One poller per mailbox at a time: a Redis key living this long unless renewed (at every
# message), or a file lock in the var folder with no Redis.
INBOUND_IMAP_LOCK_SECONDS = env.float("INBOUND_IMAP_LOCK_SECONDS", default=120.0)
INBOUND_IMAP_LOCK_FILE = str(VAR_DIR / "mailin-imap.lock")
# The record of each inbound e-mail (what it became; its Message-ID against a second delivery) is
# kept this long; the one that raised an item stays with the item.
INBOUND_MESSAGE_RETENTION_DAYS = env.int("INBOUND_MESSAGE_RETENTION_DAYS", default=90)
CELERY_BEAT_SCHEDULE["purge-inbound-messages"] = {
    "task": "cases.mailin.tasks.purge_inbound_messages",
    "schedule": env.float("INBOUND_MESSAGE_PURGE_INTERVAL_SECONDS", default=21600.0),
}
if INBOUND_IMAP_URL:
    from cases.mailin.imap_url import ImapUrlError, check_folders, parse_imap_url

    try:
        check_folders(
            parse_imap_url(INBOUND_IMAP_URL), INBOUND_IMAP_DONE_FOLDER, INBOUND_IMAP_FAILED_FOLDER
        )
    except ImapUrlError as error:
        raise ImproperlyConfigured(str(error)) from None
    CELERY_BEAT_SCHEDULE["poll-imap"] = {
        "task": "cases.mailin.tasks.poll_imap",
        "schedule": INBOUND_IMAP_INTERVAL_SECONDS,
        # A run still queued when the next is due is dropped: the next one reads the same mail.
        "options": {"expires": INBOUND_IMAP_INTERVAL_SECONDS},
    }

# An API POST's Idempotency-Key (and a page form's one-time token) is kept this long; a second
# request with a key still in flight waits at most IDEMPOTENCY_WAIT_SECONDS (PostgreSQL).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)

# --- Accounts ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: PBKDF2's deliberate slowness would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_ADAPTER = "portal.accounts.adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS_ENABLED = True  # the defaults: login failures, password resets, ...
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Service Portal] "
# "Forgot your password" sends nothing to people whose organization requires single sign-on.
ACCOUNT_FORMS = {"reset_password": "portal.accounts.forms.PortalResetPasswordForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Single sign-on for customer organizations (portal.sso): each organization's OpenID Connect
# provider is a row of SsoConnection; the adapter builds allauth's app from it (no SocialApp rows)
# and decides who may sign in. Nobody signs up: a first sign-in links to the provisioned person
# with that verified e-mail, or creates a member where the organization allows it.
SOCIALACCOUNT_ADAPTER = "portal.sso.adapter.PortalSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # the adapter links by verified e-mail, with its checks
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# Seconds to wait for an organization's identity provider (discovery, token, keys, userinfo).
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SSO_HTTP_TIMEOUT", default=10)
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Service Portal")

# --- E-mail: console by default ---------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds an SMTP connect or command may block before the delivery counts as failed.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
# The outbox: rows one delivery run claims, and for how long (a killed deliverer's claim
# expires after this, and its rows are sent by the next run). Keep it well over EMAIL_TIMEOUT.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Service Portal <portal@localhost>")
# Cases by e-mail (cases/mailin): the address customers write to; replies about a case go to
# its sub-address `<local>+c<id>.<signature>@<domain>`. Empty: `support@` the host of SITE_URL.
INBOUND_EMAIL_ADDRESS = env.str("INBOUND_EMAIL_ADDRESS", default="")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalization: stored in UTC, shown in the viewer's zone --------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times are shown through the named formats of portal/formats/<lang>/formats.py
# ("2026년 12월 4일 (금) 14:30" in Korean, "Fri 4 Dec 2026, 14:30" in English), never a
# literal pattern.
FORMAT_MODULE_PATH = ["portal.formats"]

# --- Static files: vendored assets served by the portal itself --------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files from `collectstatic` in production; tests and DEBUG read the sources.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads live outside the web root and are served only through permission-checked views:
# in MEDIA_ROOT, or with S3_BUCKET set in a private S3-compatible bucket, shared by every host
# (portal/storage.py; credentials from boto3's chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env.str("S3_ENDPOINT_URL", default=""),
        region=env.str("S3_REGION", default=""),
        prefix=env.str("S3_PREFIX", default=""),
        addressing_style=env.str("S3_ADDRESSING_STYLE", default=""),
    )

# --- API -------------------------------------------------------------------------------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# A multipart upload (an attachment: at most 10 MB, cases.casework.services) with room for its
# form fields.
UPLOAD_MAX_BODY_BYTES = env.int("UPLOAD_MAX_BODY_BYTES", default=11 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "portal.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.PortalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "portal.api.filters.StrictDjangoFilterBackend",
        "portal.api.sync.UpdatedAfterFilterBackend",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonRateThrottle",
        "portal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Management Portal API",
    "DESCRIPTION": "REST API v1 for integrations. Bearer tokens act for their owner, narrowed "
    "by their scopes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1: a nullable object is `oneOf: [$ref, {type: null}]`, which validators and
    # client generators read alike (3.0's `allOf` + `nullable` has no type for `nullable`).
    "OAS_VERSION": "3.1.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Every operation documents the errors it can answer, each with the one error body (§8).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.idempotency.document_header",
        "portal.api.schema.document_sync",
        "portal.api.schema.document_errors",
        "portal.api.schema.nullable_any",
    ],
    # One stable enum name per choice set: integrations generate clients from these names.
    "ENUM_NAME_OVERRIDES": {
        "UserKindEnum": "portal.accounts.models.User.Kind",
        "TokenScopeEnum": "portal.accounts.models.ApiToken.Scope",
        "MembershipRoleEnum": "portal.tenancy.models.Membership.Role",
        "MethodEnum": "engagements.catalog.models.Method",
        "FrequencyEnum": "engagements.catalog.models.Frequency",
        "DeploymentEnum": "engagements.catalog.models.Plan.Deployment",
        "PricingEnum": "engagements.catalog.models.Plan.Pricing",
        "EngagementStatusEnum": "engagements.contracts.models.Engagement.Status",
        "LanguageEnum": "engagements.contracts.models.Engagement.Language",
        "AbsenceKindEnum": "engagements.absences.models.Absence.Kind",
        "AfterHoursStatusEnum": "engagements.afterhours.models.AfterHoursRequest.Status",
        "ActivityEnum": "engagements.time.models.TimeEntry.Activity",
        "CaseKindEnum": "cases.casework.models.Case.Kind",
        "CaseStatusEnum": "cases.casework.models.Case.Status",
        "SeverityEnum": "cases.casework.models.Case.Severity",
        "CaseEventKindEnum": "cases.casework.models.CaseEvent.Kind",
        "SlaThresholdEnum": "cases.casework.models.SlaReminder.Threshold",
        "RiskStatusEnum": "cases.risks.models.Risk.Status",
        "VendorStatusEnum": "cases.fixes.models.FixRequest.VendorStatus",
        "OccurrenceStatusEnum": "reviews.scheduling.models.Occurrence.Status",
        "MaintenanceStatusEnum": "reviews.maintenance.models.MaintenanceWindow.Status",
        "ChangeKindEnum": "reviews.releases.models.ChangeItem.Kind",
        "ChangeStatusEnum": "reviews.releases.models.ChangeItem.Status",
        "PublicationKindEnum": "reviews.publications.models.Publication.Kind",
        "ConsultingStatusEnum": "reviews.consulting.models.ConsultingRequest.Status",
        "AdvocacyKindEnum": "engagements.advocacy.models.AdvocacyItem.Kind",
        "AdvocacyStatusEnum": "engagements.advocacy.models.AdvocacyItem.Status",
        "UpgradePlanStatusEnum": "engagements.upgrades.models.UpgradePlan.Status",
    },
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=365)
# How long each process keeps a token it checked, with its owner and their tenant scope, before
# reading them again (portal/api/authentication.py): a revocation, deactivation or membership
# change made elsewhere takes effect within this time. At most 1 s; 0 turns the cache off.
API_TOKEN_CACHE_SECONDS = min(env.float("API_TOKEN_CACHE_SECONDS", default=1.0), 1.0)

# --- Security: production defaults whenever DEBUG is off --------------------------------------
# Django's database sessions, read by a statement compiled once (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: pages and Swagger UI take it from the page
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline code. data: images are Pico's SVG icons. The API docs pages relax it (portal/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes and scrapers on the inside
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- Operations: logs, error tracking, metrics, proxies ----------------------------------------
# Every line carries time, level, logger, request id and Celery task id; LOG_FORMAT=json writes
# one JSON object per line (portal/observability.py).
LOGGING = logging_config(
    log_format=env.str("LOG_FORMAT", default="plain"), level=env.str("LOG_LEVEL", default="INFO")
)
# Celery keeps the LOGGING above instead of installing its own root handler and format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors go to Sentry only when a DSN is configured (Django and Celery, no personal data).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
init_sentry(
    SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

# /metrics (Prometheus) answers only a request with `Authorization: Bearer <METRICS_TOKEN>`;
# without a token configured it is off (404). Under gunicorn set PROMETHEUS_MULTIPROC_DIR to an
# empty folder per start (docker-compose.yml: a tmpfs) so every worker's counts are summed.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# Reverse proxies in front of the portal that append to X-Forwarded-For (0: none, the header is
# ignored as anyone can forge it). allauth's per-IP rate limits and the API's anonymous throttle
# take the client address from it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

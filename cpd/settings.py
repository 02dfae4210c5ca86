"""Settings for cpd: one module, driven by the environment.

Every variable has a safe local default and is listed in `.env.example`.
`DATABASE_URL` unset -> SQLite; `CELERY_BROKER_URL` unset -> tasks run eagerly.
`CPD_PRODUCTION=1` turns on the production hardening (no DEBUG, secure cookies, HSTS).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from cpd import logs

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """1/true/yes/on or 0/false/no/off; anything else is refused rather than read as False."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no or on/off)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = env_bool("CPD_PRODUCTION", False)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
if PRODUCTION and SECRET_KEY in ("", DEV_SECRET_KEY):
    # Sessions, password-reset links and signed downloads would be forgeable with the public key.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CPD_PRODUCTION=1 refuses to start without a real DJANGO_SECRET_KEY (not the development key).")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Verification regime of this deployment: "annual" (Guangzhou: yearly verification with carry-over)
# or "cycle" (Henan/Zhengzhou: 360 hours per five-year cycle with a registration certificate).
# It is a boundary: the cycle app, its URLs, navigation and beat task exist only in a cycle
# deployment; the annual engine's URLs and beat task only in an annual one.
CPD_REGIME = env_str("CPD_REGIME", "annual")
if CPD_REGIME not in ("annual", "cycle"):
    raise ImproperlyConfigured("CPD_REGIME must be 'annual' or 'cycle'")

INSTALLED_APPS = [
    "cpd.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "django_celery_beat",
    "django_prometheus",
    "import_export",
    "axes",
    "cpd.apps.CpdConfig",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "security",
    "hours",
    "training",
    "verification",
    "points",
    *(["cycles"] if CPD_REGIME == "cycle" else []),
    "home",
    "demo",
]

MIDDLEWARE = [
    "cpd.logs.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.DefaultChineseLocaleMiddleware",
    "cpd.bad_input.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "security.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cpd.middleware.DomainErrorMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.ActiveRoleMiddleware",
    "accounts.middleware.AdminAccessMiddleware",
    "security.middleware.RequestContextMiddleware",
    "security.middleware.AccountGateMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Axes must come last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cpd.urls"
WSGI_APPLICATION = "cpd.wsgi.application"
ASGI_APPLICATION = "cpd.asgi.application"

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
                "accounts.context_processors.workspace",
                "hours.context_processors.notifications",
            ],
            # hours / signed / stored_trans filters on every template without a {% load %}.
            "builtins": ["accounts.templatetags.cpd_ui"],
        },
    },
]

# Connections are kept (60 s in production: a new PostgreSQL connection per request cost 2.6× the
# ceiling's throughput in the page benchmark) and checked before reuse, so a restarted database
# costs one failed check instead of a 500. Behind PgBouncer in transaction mode set
# DB_DISABLE_SERVER_SIDE_CURSORS=1: a named cursor (QuerySet.iterator()) does not survive the
# pooler handing the next statement to another server connection.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # A database that does not answer must give a prompt 503, not a request hanging until the proxy gives up.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Axes first so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # A city admin's role grants the model permissions the Django admin asks for.
    "accounts.backends.CityAdminPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "security.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username after 5 failures from any addresses (spraying one account from
# many addresses), and an address after CPD_LOGIN_IP_FAILURE_LIMIT failures across usernames
# (password spraying from one address; a school's NAT shares one address, hence a higher limit).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
CPD_LOGIN_IP_FAILURE_LIMIT = env_int("CPD_LOGIN_IP_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "security.axes_handler.PerParameterLimitHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.middleware.lockout_response"  # JSON for the API, the page for browsers
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Content-Security-Policy (django-csp): scripts only from our own static files, no inline
# scripts or handlers. Inline style attributes stay allowed (templates and Chart.js use them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sessions: ended after CPD_SESSION_IDLE_MINUTES without a request, and CPD_SESSION_MAX_HOURS after login.
CPD_SESSION_IDLE_MINUTES = env_int("CPD_SESSION_IDLE_MINUTES", 30)
CPD_SESSION_MAX_HOURS = env_int("CPD_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = CPD_SESSION_MAX_HOURS * 3600
# Personal API tokens expire this many hours after they are issued.
CPD_API_TOKEN_LIFETIME_HOURS = env_int("CPD_API_TOKEN_LIFETIME_HOURS", 24)
# Second factor (TOTP + recovery codes) for city, district and province admins and the Django admin.
CPD_MFA_ENFORCED = env_bool("CPD_MFA_ENFORCED", True)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "cpd")
# ID numbers (PIPL sensitive personal information) are encrypted at rest: Fernet keys, newest first
# (comma-separated; `manage.py rotate_id_number_keys` re-encrypts after a new key is put in front),
# and the HMAC key of their lookup hash. Unset: derived from SECRET_KEY (development only).
CPD_ID_NUMBER_KEYS = env_list("CPD_ID_NUMBER_KEYS", [])
CPD_ID_NUMBER_HASH_KEY = env_str("CPD_ID_NUMBER_HASH_KEY", "")
# Audit events older than this many days are deleted by `manage.py prune_audit` (0: keep for ever; at least 180).
CPD_AUDIT_RETENTION_DAYS = env_int("CPD_AUDIT_RETENTION_DAYS", 0)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
# Uploaded files (evidence, imports) live outside the web root and are only
# served through permission-checked views.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
# Evidence, imports and exports go through Django's storage API only, so an S3-compatible store replaces
# the disk by configuration: CPD_MEDIA_STORAGE=storages.backends.s3.S3Storage (django-storages[s3]) and its
# options as JSON in CPD_MEDIA_STORAGE_OPTIONS (docs/operations.md).
MEDIA_STORAGE_BACKEND = env_str("CPD_MEDIA_STORAGE") or "django.core.files.storage.FileSystemStorage"
STORAGES = {
    "default": {
        "BACKEND": MEDIA_STORAGE_BACKEND,
        "OPTIONS": (
            json.loads(env_str("CPD_MEDIA_STORAGE_OPTIONS") or "{}")
            if MEDIA_STORAGE_BACKEND != "django.core.files.storage.FileSystemStorage"
            else {"location": PRIVATE_MEDIA_ROOT, "base_url": "/private-not-served/"}
        ),
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: the roster import limit is 10 MB; allow a little more in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cpd@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "security.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "security.permissions.AccountReady"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "cpd.api.exception_handler",
    # Bodies must be JSON objects, at most 32 levels deep (cpd.api.ObjectJSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "cpd.api.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cpd API",
    "DESCRIPTION": "Teacher continuing-education hours platform (教师继续教育学时管理平台).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named alike ("kind", "category", "state") get enums named after their choices class, not a hash.
    "ENUM_NAME_OVERRIDES": {
        "OrgKindEnum": "accounts.models.OrgKind",
        "RoleKindEnum": "accounts.models.RoleKind",
        "CategoryEnum": "hours.models.Category",
        "DeclarationStateEnum": "hours.models.DeclarationState",
        "HoursImportKindEnum": "training.models.HoursImportKind",
        "ProjectKindEnum": "training.models.ProjectKind",
    },
}

# Celery: no broker configured -> run tasks eagerly in-process (local demo, tests).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if PRODUCTION and not CELERY_BROKER_URL:
    # Eager tasks would run verification runs and imports inside web requests, and beat would have nothing to send to.
    raise ImproperlyConfigured("CPD_PRODUCTION=1 needs CELERY_BROKER_URL (a Redis broker): tasks must not run in web requests")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A broker that is down must not hold a request for long (the default retries for ~20 s): a request that
# starts a job gives up within a few seconds, marks the job failed and answers 503 (cpd/tasks.py enqueue).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# visibility_timeout: a task taken by a worker that died (SIGKILL, OOM) is handed to another worker after
# this many seconds (acks_late); tasks are idempotent, so a slow task delivered twice does no harm.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "max_retries": 1,
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # Workers look for such tasks every interval x throttle seconds (kombu's defaults: 10 x 10).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat records each sent task's time at once (a few rows a minute), so readiness sees its heartbeat.
CELERY_BEAT_SYNC_EVERY = 1
# Workers and beat log through LOGGING (JSON lines with the request id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Synced into django-celery-beat's tables by the database scheduler at start.
CELERY_BEAT_SCHEDULE = {
    "close-due-years": {"task": "hours.tasks.close_due_years", "schedule": 60 * 60 * 24},
    "prune-staged-uploads": {"task": "hours.tasks.prune_staged_uploads", "schedule": 60 * 60 * 24},
    "points-expire-due": {"task": "points.tasks.expire_due", "schedule": 60 * 60 * 6},
    "send-reminders": {"task": "home.tasks.send_reminders", "schedule": 60 * 60 * 24},
    # "Who is behind" per school for the area pages (judging a city's every teacher per view took seconds).
    "refresh-behind": {"task": "home.tasks.refresh_behind", "schedule": 60 * 60},
    "prune-audit": {"task": "security.tasks.prune_audit", "schedule": 60 * 60 * 24},
    # Readiness (cpd/health.py) reads this entry's last run: beat is alive when it is recent.
    "beat-heartbeat": {"task": "cpd.beat_heartbeat", "schedule": 30},
    **(
        {
            "open-due-cycles": {"task": "cycles.tasks.open_due_cycles", "schedule": 60 * 60 * 24},
            # The cycle statistics per school for the district's and the city's (live: 10-35 s a view at 200,000).
            "refresh-cycle-counts": {"task": "cycles.tasks.refresh_cycle_counts", "schedule": 60 * 60},
        }
        if CPD_REGIME == "cycle"
        else {"auto-verify-due": {"task": "verification.tasks.auto_verify_due", "schedule": 60 * 60 * 24}}
    ),
    "refresh-statistics": {"task": "verification.tasks.refresh_statistics", "schedule": 60 * 60 * 24},
}
# Beat writes last-run times every few minutes (DatabaseScheduler sync): older than this, beat is down.
CPD_BEAT_MAX_AGE_SECONDS = env_int("CPD_BEAT_MAX_AGE_SECONDS", 600)
# Operations token for /metrics and the details of /health/ready/ (Authorization: Bearer ...); unset: staff only.
CPD_OPS_TOKEN = env_str("CPD_OPS_TOKEN", "")

# Platform facts.
CPD_CITY_CODE = env_str("CPD_CITY_CODE", "4401")
# Reminder channels (home/channels.py): dotted paths of Channel classes; add WeCom/DingTalk/SMS here.
CPD_REMINDER_CHANNELS = env_list("CPD_REMINDER_CHANNELS", ["home.channels.InAppChannel", "home.channels.EmailChannel"])
# Absolute address of the platform, for links in e-mails and QR codes.
CPD_SITE_URL = env_str("CPD_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Teachers per verification chunk (one task each); smaller only to exercise chunking (smoke test).
VERIFY_CHUNK_TEACHERS = env_int("CPD_VERIFY_CHUNK_TEACHERS", 5000)
# A year's first run checks each chunk's foreign keys once for the block (verification.engine.with_reference_checks)
# where the database role may set session_replication_role; 0: always the per-row checks.
VERIFY_SET_BASED_CHECKS = env_bool("CPD_VERIFY_SET_BASED_CHECKS", True)
ROSTER_CONFIRMATION_MAX_AGE_DAYS = 183  # at least twice a year
ROSTER_IMPORT_MAX_BYTES = 10 * 1024 * 1024
ROSTER_IMPORT_MAX_ROWS = 100_000
# Every spreadsheet import refuses, before a cell is read, a workbook beyond these limits (checked on
# the zip directory and by streaming the XML: cpd/xlsx.py `inspect_workbook`). The largest legitimate
# file (100,000 rows x 11 columns, 4.7 MB) has 9 parts, one 66 MB sheet part and 1.1 million cells.
XLSX_MAX_PARTS = env_int("XLSX_MAX_PARTS", 100)
XLSX_MAX_UNCOMPRESSED_BYTES = env_int("XLSX_MAX_UNCOMPRESSED_BYTES", 160 * 1024 * 1024)
XLSX_MAX_PART_BYTES = env_int("XLSX_MAX_PART_BYTES", 128 * 1024 * 1024)
XLSX_MAX_COLUMNS = env_int("XLSX_MAX_COLUMNS", 200)
XLSX_MAX_CELLS = env_int("XLSX_MAX_CELLS", 3_000_000)
XLSX_MAX_SHARED_STRINGS = env_int("XLSX_MAX_SHARED_STRINGS", 2_000_000)
XLSX_MAX_SHARED_STRINGS_BYTES = env_int("XLSX_MAX_SHARED_STRINGS_BYTES", 64 * 1024 * 1024)

# One JSON object per line with the request id (cpd/logs.py); LOG_FORMAT=text for reading in a terminal.
LOGGING = logs.logging_config(json_format=env_str("LOG_FORMAT", "json") == "json", level=env_str("LOG_LEVEL", "WARNING"))

if PRODUCTION:
    # Static files are served by the app itself (whitenoise) from STATIC_ROOT after collectstatic.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
    )
    # X-Forwarded-Proto can be forged by any client unless a proxy in front overwrites it: trust it only when
    # the operator says such a proxy exists.
    if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes and the metrics scraper call the container directly over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    SESSION_COOKIE_HTTPONLY = True

"""Django settings for haochaping.

Everything that differs between a laptop, CI and a province's deployment comes from the environment
(see docs/operations.md). Defaults are safe for local development only.
"""

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from haochaping.core.addresses import default_public_url
from haochaping.core.client_ip import parse_networks

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("HAOCHAPING_VAR_DIR", Path.cwd() / "var"))

DEBUG = os.environ.get("HAOCHAPING_DEBUG", "0") == "1"
PRODUCTION = os.environ.get("HAOCHAPING_PRODUCTION", "0") == "1"
if DEBUG and PRODUCTION:
    # Debug pages show settings, SQL and local variables (personal data) to anyone who triggers an error.
    raise ImproperlyConfigured(
        "HAOCHAPING_DEBUG=1 and HAOCHAPING_PRODUCTION=1 must not be set together: unset HAOCHAPING_DEBUG in production"
    )

SECRET_KEY = os.environ.get("HAOCHAPING_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("HAOCHAPING_SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"

ALLOWED_HOSTS = [h for h in os.environ.get("HAOCHAPING_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Listed so the API docs serve Swagger UI from local static files, not from a CDN.
    "ninja",
    "django_htmx",
    # axes and django_tasks_db through configs that name them in Chinese in the admin (core/thirdparty.py).
    "haochaping.core.thirdparty.AxesConfig",
    "csp",
    # Before import_export, whose own `import` command would otherwise answer `haochaping import` (an earlier
    # app's command wins): ours is the history import (docs/exchange.md).
    "haochaping.exchange",
    "import_export",
    "django_tasks",
    "haochaping.core.thirdparty.TasksDatabaseConfig",
    "haochaping.core",
    "haochaping.org",
    "haochaping.catalog",
    "haochaping.records",
    "haochaping.evaluation",
    "haochaping.accounts",
    "haochaping.transparency",
    "haochaping.rectification",
    "haochaping.supervision",
    "haochaping.insight",
    "haochaping.disclosure",
    "haochaping.demo",
]

MIDDLEWARE = [
    # X-Forwarded-Proto only from the declared proxies (HAOCHAPING_TRUSTED_PROXY_NETWORKS), before is_secure() is read.
    "haochaping.core.client_ip.ForwardedProtoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: NUL characters, oversized bodies and non-problem errors under /api/.
    "haochaping.core.middleware.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # A device cookie whose blind index evaluations and staff sign-ins keep (supervision.fraud, R7.1).
    "haochaping.core.middleware.DeviceCookieMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
    # After every other middleware's process_view: it may answer a read-only page from the replica
    # (core.replicas; does nothing without DATABASE_REPLICA_URL).
    "haochaping.core.replicas.ReplicaMiddleware",
]

ROOT_URLCONF = "haochaping.urls"
WSGI_APPLICATION = "haochaping.wsgi.application"

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
                "haochaping.core.context_processors.large_text",
            ],
        },
    },
]

# One code path for SQLite (embedded default) and PostgreSQL (production): only DATABASE_URL differs.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'haochaping.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE avoids upgrade deadlocks on write transactions.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
else:
    DATABASES["default"].setdefault("TEST", {})
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compiling our short aggregate queries (statistics over the counters) cost 0.2–1.4 s per statement and
        # saved nothing (EXPLAIN ANALYZE, bench/stats.py): off for this application's connections only.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

# How long a statement of this process waits for a lock before it gives up (PostgreSQL lock_timeout; "" or "0": no
# limit). `haochaping serve` sets it for its web workers from HAOCHAPING_WEB_LOCK_TIMEOUT (default 10s): a request
# stuck behind `rebuild_rollups`' table locks answers 503 with Retry-After instead of holding one of the node's few
# threads until gunicorn kills the worker at 60 s; the worker and commands keep waiting (docs/operations.md).
HAOCHAPING_LOCK_TIMEOUT = os.environ.get("HAOCHAPING_LOCK_TIMEOUT", "").strip()
if HAOCHAPING_LOCK_TIMEOUT not in ("", "0"):
    if not re.fullmatch(r"[1-9][0-9]*(ms|s|min)?", HAOCHAPING_LOCK_TIMEOUT):
        raise ImproperlyConfigured(
            f"HAOCHAPING_LOCK_TIMEOUT / HAOCHAPING_WEB_LOCK_TIMEOUT must be a duration such as 10s, 500ms or 1min "
            f"(or 0 for no limit), not {HAOCHAPING_LOCK_TIMEOUT!r}"
        )
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["OPTIONS"]["options"] += f" -c lock_timeout={HAOCHAPING_LOCK_TIMEOUT}"

# A streaming replica (issue 14; docs/operations.md "只读副本"): dashboards, reports, their downloads and the public
# portal read from it; everything else uses the primary (core.replicas).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
HAOCHAPING_REPLICA_NAMESPACES = [
    n for n in os.environ.get("HAOCHAPING_REPLICA_NAMESPACES", "insight,reports,disclosure").split(",") if n
]
# After a write, the browser reads from the primary this long (it sees its own write whatever the replica's lag).
HAOCHAPING_REPLICA_STICKY_SECONDS = int(os.environ.get("HAOCHAPING_REPLICA_STICKY_SECONDS", "10"))
# An unreachable replica is tried again after this long; meanwhile the primary answers.
HAOCHAPING_REPLICA_RETRY_SECONDS = float(os.environ.get("HAOCHAPING_REPLICA_RETRY_SECONDS", "30"))
# A replica further behind than this makes the health endpoint say "degraded".
HAOCHAPING_REPLICA_LAG_ALERT_SECONDS = int(os.environ.get("HAOCHAPING_REPLICA_LAG_ALERT_SECONDS", "60"))
# The worker re-analyses the pain-point page's default view of each whole-region scope this often (docs/painpoints.md).
HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES = int(os.environ.get("HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES", "15"))
# First: a read of a counter table on the primary counts the evaluations still pending (insight.rollups.pending);
# it asks the replica router, when there is one, where the read goes.
DATABASE_ROUTERS = ["haochaping.insight.rollups.pending.FoldBeforeReading"]
# Health: evaluations written longer ago than this and still not counted mean nothing folds them (no worker).
HAOCHAPING_PENDING_COUNTS_ALERT_SECONDS = int(os.environ.get("HAOCHAPING_PENDING_COUNTS_ALERT_SECONDS", "300"))
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name the same kind of database as DATABASE_URL")
    _replica["CONN_HEALTH_CHECKS"] = True
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica.setdefault("OPTIONS", {}).update(
            options="-c jit=off", connect_timeout=int(os.environ.get("HAOCHAPING_REPLICA_CONNECT_TIMEOUT", "2")),
        )
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS.append("haochaping.core.replicas.ReplicaRouter")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # lockout check before the password is even tried
    "django.contrib.auth.backends.ModelBackend",
    "haochaping.accounts.roles.RoleBackend",  # permissions come from the role
]
LOGIN_URL = "/accounts/login/"

# Lockout after repeated failures (django-axes, accounts.lockout): per (account, address) pair, so one person's
# typos lock neither their colleagues behind the same address nor their own account elsewhere; and, higher, per
# address over all accounts, against someone trying names from one place.
AXES_HANDLER = "haochaping.accounts.lockout.PairAndAddressHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("HAOCHAPING_LOGIN_FAILURE_LIMIT", "5"))
HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = float(os.environ.get("HAOCHAPING_LOGIN_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "token"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Reverse proxies in front (nginx, a load balancer) that append to X-Forwarded-For: 0 (the default) ignores the
# header; behind them every REMOTE_ADDR is a proxy's, and lockouts per address would hit everyone (core.client_ip).
_proxies = os.environ.get("HAOCHAPING_TRUSTED_PROXIES", "0").strip()
if not _proxies.isdigit():
    raise ImproperlyConfigured("HAOCHAPING_TRUSTED_PROXIES must be the number of reverse proxies in front (0, 1, 2 ...)")
HAOCHAPING_TRUSTED_PROXIES = int(_proxies)
# The addresses those proxies connect from (comma-separated addresses or networks, e.g. "10.0.0.5,10.0.1.0/24"):
# when set, X-Forwarded-For is believed only from them, so a visitor who reaches a node's port directly cannot
# pick an address by writing the header. Empty (the default): believed from any sender, by the count alone.
HAOCHAPING_TRUSTED_PROXY_NETWORKS = parse_networks(os.environ.get("HAOCHAPING_TRUSTED_PROXY_NETWORKS", ""),
                                                   "HAOCHAPING_TRUSTED_PROXY_NETWORKS")
AXES_CLIENT_IP_CALLABLE = "haochaping.core.client_ip.client_ip"

# Sessions end after a working day at most, and after 30 minutes without activity.
SESSION_COOKIE_AGE = int(os.environ.get("HAOCHAPING_SESSION_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Shared state for rate limits: per process by default (one node); set CACHE_URL=redis://… for several nodes.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                "KEY_PREFIX": os.environ.get("HAOCHAPING_CACHE_PREFIX", "hcp")}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "haochaping"}
}
if CACHE_URL:
    # Several nodes: a session is read from the shared cache on whichever node a request lands on, and kept in
    # the database too, so a restarted or flushed Redis logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Strict Content-Security-Policy: no inline script, nothing from other origins (django-csp 4).
# The Django admin and the API docs (ninja's Swagger UI, served from local static files, its settings in a
# non-executed JSON block) work under it unchanged, so no view needs a narrower policy: tests/browser/test_csp.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Chinese only: the project's own texts are written in Chinese and have no English catalogue, so offering English
# (an English browser's Accept-Language) would mix Django's English with our Chinese on one page. Every page, the
# admin included, is Chinese whatever the browser asks for.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The site-wide CSS lives beside the base templates, outside any app.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Web security (issue 3, item 7; docs/security.md). `haochaping check --deploy` passes with production settings
# (tests/core/test_security_settings.py runs it).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A refused CSRF check renders templates/403_csrf.html (Django's csrf_failure view), in Chinese.
CSRF_FAILURE_VIEW = "django.views.csrf.csrf_failure"
SILENCED_SYSTEM_CHECKS: list[str] = []
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("HAOCHAPING_SSL_REDIRECT", "1") == "1"
    if not SECURE_SSL_REDIRECT:
        # Only for a TLS-terminating proxy that redirects http:// itself (docs/operations.md).
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # "preload" in the header is consent only: nothing happens until the owner of the registrable domain submits
    # it to the browsers' list, which is a separate, deliberate act (hard to undo: months to leave the list).
    # A site on a subdomain (hcp.example.gov.cn) is unaffected. HAOCHAPING_HSTS_PRELOAD=0 withholds consent.
    SECURE_HSTS_PRELOAD = os.environ.get("HAOCHAPING_HSTS_PRELOAD", "1") == "1"
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Uploads: spreadsheet imports in the admin are at most HAOCHAPING_MAX_UPLOAD_MB (core.uploads checks type and
# size). Request bodies other than files (API JSON, form fields) stay within Django's 2.5 MB: a 办件 or an
# evaluation is a few KB. Files above 2.5 MB spool to a temporary file instead of memory.
HAOCHAPING_MAX_UPLOAD_MB = int(os.environ.get("HAOCHAPING_MAX_UPLOAD_MB", "5"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Personal data keys (R7.2, R8.5). SM4 key for encryption at rest, a separate key for the blind index.
# Hex, 16 bytes each. Development derives fixed keys; production must set both.
HAOCHAPING_SM4_KEY = os.environ.get("HAOCHAPING_SM4_KEY", "")
HAOCHAPING_INDEX_KEY = os.environ.get("HAOCHAPING_INDEX_KEY", "")
if PRODUCTION and not (HAOCHAPING_SM4_KEY and HAOCHAPING_INDEX_KEY):
    raise RuntimeError("HAOCHAPING_SM4_KEY and HAOCHAPING_INDEX_KEY must be set in production")
# This node's SM2 signing key (64 hex digits): checkpoints of the verifiable log and pushes to an upper node are
# signed with it (core/signing.py). Development derives one from SECRET_KEY; production must set it.
HAOCHAPING_SM2_PRIVATE_KEY = os.environ.get("HAOCHAPING_SM2_PRIVATE_KEY", "")
# Reporting upward (exchange): the first wait after a failed push, doubling per failure up to 15 minutes.
HAOCHAPING_OUTBOX_BACKOFF_SECONDS = int(os.environ.get("HAOCHAPING_OUTBOX_BACKOFF_SECONDS", "5"))
# An upstream whose oldest unsent row is older than this many seconds makes the health endpoint say "degraded".
HAOCHAPING_OUTBOX_LAG_ALERT_SECONDS = int(os.environ.get("HAOCHAPING_OUTBOX_LAG_ALERT_SECONDS", "900"))
# The health endpoint says "degraded" when no periodic task was enqueued for this long: no worker is running.
HAOCHAPING_SCHEDULE_ALERT_SECONDS = int(os.environ.get("HAOCHAPING_SCHEDULE_ALERT_SECONDS", "3600"))
if PRODUCTION and not HAOCHAPING_SM2_PRIVATE_KEY:
    raise RuntimeError("HAOCHAPING_SM2_PRIVATE_KEY must be set in production")
# Reveals of full personal data by one user in 24 h above which the access log flags the user (R7.2).
HAOCHAPING_REVEAL_DAILY_LIMIT = int(os.environ.get("HAOCHAPING_REVEAL_DAILY_LIMIT", "50"))

# Domain defaults; regions override them in org.RegionPolicy (R3.3, R4.6).
HAOCHAPING_SUPPLEMENTARY_DAYS = int(os.environ.get("HAOCHAPING_SUPPLEMENTARY_DAYS", "5"))

# Evaluation invitations by SMS (R3.3; docs/operations.md "短信邀请评价"). The backend is a dotted class path:
# evaluation.sms.FileSender (development: JSON lines in HAOCHAPING_SMS_FILE), ConsoleSender (stderr) or
# HttpGatewaySender (production: POST JSON to the gateway URL with a bearer token).
HAOCHAPING_SMS_BACKEND = os.environ.get(
    "HAOCHAPING_SMS_BACKEND",
    "haochaping.evaluation.sms.HttpGatewaySender" if PRODUCTION else "haochaping.evaluation.sms.FileSender",
)
HAOCHAPING_SMS_FILE = os.environ.get("HAOCHAPING_SMS_FILE", str(VAR_DIR / "sms.jsonl"))
HAOCHAPING_SMS_GATEWAY_URL = os.environ.get("HAOCHAPING_SMS_GATEWAY_URL", "")
HAOCHAPING_SMS_GATEWAY_TOKEN = os.environ.get("HAOCHAPING_SMS_GATEWAY_TOKEN", "")
HAOCHAPING_SMS_GATEWAY_TIMEOUT = float(os.environ.get("HAOCHAPING_SMS_GATEWAY_TIMEOUT", "10"))
# Links in messages are absolute: the public address of this site, without a trailing slash.
# The public portal's top region (a 行政区划代码, e.g. 370000): where /public/ opens. Empty: the one province that
# has departments (the demo's 山东省), or the whole country when several have (disclosure.queries.root_region).
HAOCHAPING_ROOT_REGION = os.environ.get("HAOCHAPING_ROOT_REGION", "").strip()
# Unset, it follows the address `haochaping serve` listens on (HAOCHAPING_HOST/HAOCHAPING_PORT, which serve sets
# from --host/--port), so `PORT=8101 make run` sends working links.
HAOCHAPING_PUBLIC_URL = (
    os.environ.get("HAOCHAPING_PUBLIC_URL")
    or default_public_url(os.environ.get("HAOCHAPING_HOST"), os.environ.get("HAOCHAPING_PORT"))
).rstrip("/")
# The verifiable log's name inside every signed checkpoint (docs/verifiable-log.md); the public URL when empty.
HAOCHAPING_LOG_ORIGIN = os.environ.get("HAOCHAPING_LOG_ORIGIN", "").strip()
HAOCHAPING_INVITATION_DELAY_MINUTES = int(os.environ.get("HAOCHAPING_INVITATION_DELAY_MINUTES", "0"))
HAOCHAPING_REMINDER_WORKING_DAYS = int(os.environ.get("HAOCHAPING_REMINDER_WORKING_DAYS", "2"))
HAOCHAPING_MAX_SMS_PER_RECORD = int(os.environ.get("HAOCHAPING_MAX_SMS_PER_RECORD", "2"))
HAOCHAPING_SMS_MAX_ATTEMPTS = int(os.environ.get("HAOCHAPING_SMS_MAX_ATTEMPTS", "4"))
# E-mail to staff (deadline reminders and escalations, rectification.deadlines): printed to the console unless an
# SMTP server is configured (docs/operations.md).
EMAIL_BACKEND = os.environ.get("HAOCHAPING_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("HAOCHAPING_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("HAOCHAPING_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("HAOCHAPING_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("HAOCHAPING_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("HAOCHAPING_EMAIL_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("HAOCHAPING_EMAIL_FROM", "haochaping@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Bearer tokens in paths (/i/<token>/) never reach a log line (django.request logs the path of every 4xx).
    "filters": {"redact_tokens": {"()": "haochaping.__main__.RedactTokensFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAOCHAPING_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

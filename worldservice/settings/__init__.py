"""Django settings for development and tests, read from the environment (see docs/operations.md).

With no environment set the service runs on its embedded default: a SQLite file under `var/`,
Celery tasks run in process, a local-memory cache and the database-backed activation store.
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis with real Celery workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from whitenoise.compress import Compressor

from worldservice.beat import CELERY_BEAT_SCHEDULE as BEAT_SCHEDULE
from worldservice.config import env_bool, load_config
from worldservice.logs import configure_structlog, log_format, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("WORLDSERVICE_VAR_DIR", BASE_DIR / "var"))

WORLDSERVICE_CONFIG = load_config()
WORLDSERVICE: dict[str, Any] = WORLDSERVICE_CONFIG.as_settings()

DEBUG = env_bool(os.environ, "DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DATABASE_URL"):
        # A shared deployment must not run on a key that is public in this repository.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DATABASE_URL is set")
    SECRET_KEY = "embedded-default-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get(
        "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver"
    ).split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "worldservice.apps.WorldServiceAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: `runserver` leaves static files to WhiteNoise too, as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "axes",
    "django_structlog",
    "worlds",
    "policies",
    "activation",
    "rebalancing",
]

MIDDLEWARE = [
    "worldservice.middleware.CorrelationIdMiddleware",
    # The Gateway's bearer-token reads of decide and activation leave here, with the headers
    # the rest of the stack would add (worlds/hot_lane.py, docs/performance.md).
    "worlds.hot_lane.HotReadLane",
    "worldservice.middleware.BadInputMiddleware",
    "worldservice.middleware.RequestBodyLimitMiddleware",
    "worldservice.middleware.WriteFailureMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "worldservice.csp.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "worldservice.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Django's own, so `check --deploy` sees it; DRF's views (the API) are CSRF-exempt already.
    "django.middleware.csrf.CsrfViewMiddleware",
    "worldservice.middleware.AuthenticationMiddleware",
    "worldservice.middleware.MessageMiddleware",
    # After authentication (a session's user is known) and inside the correlation id's scope;
    # it lets the hot reads pass straight by (worldservice/request_logs.py).
    "worldservice.request_logs.RequestLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "worldservice.error_pages.AdminServiceErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Security headers (docs/operations.md#security-headers). The production settings add HSTS,
# secure cookies and the HTTPS redirect; these hold everywhere, plain HTTP included.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

ROOT_URLCONF = "config.urls"
APPEND_SLASH = False

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
            ],
        },
    },
]

WSGI_APPLICATION = "worldservice.wsgi.application"
ASGI_APPLICATION = "worldservice.asgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
EMBEDDED_DATABASE = not DATABASE_URL
if EMBEDDED_DATABASE:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "worldservice.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Bounded waits (docs/operations.md#timeouts): connecting, and every statement (locks
    # included) on the server; 0 turns the statement timeout off.
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", WORLDSERVICE_CONFIG.db_connect_timeout_seconds)
    if WORLDSERVICE_CONFIG.db_statement_timeout_ms:
        _db_options["options"] = (
            f"{_db_options.get('options', '')} "
            f"-c statement_timeout={WORLDSERVICE_CONFIG.db_statement_timeout_ms}"
        ).strip()
    # Pooling (docs/deployment.md, "PostgreSQL connections"): psycopg's pool in each process
    # replaces persistent connections; behind PgBouncer's transaction mode a server-side cursor
    # would outlive the transaction that PgBouncer ties it to.
    if WORLDSERVICE_CONFIG.db_pool_size:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        _db_options["pool"] = {
            "min_size": 1,
            "max_size": WORLDSERVICE_CONFIG.db_pool_size,
            "timeout": WORLDSERVICE_CONFIG.db_connect_timeout_seconds,
        }
    if WORLDSERVICE_CONFIG.db_behind_pgbouncer:
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Without a broker the embedded default runs tasks in the calling process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
# A hung broker costs a publish its timeout (plus one quick retry that reconnects after a broker
# restart), not kombu's default retries; the result backend (Redis) waits as long at most.
_BROKER_TIMEOUT = WORLDSERVICE_CONFIG.broker_timeout_seconds
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": _BROKER_TIMEOUT,
    "socket_connect_timeout": _BROKER_TIMEOUT,
    "retry_on_timeout": False,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
CELERY_REDIS_SOCKET_TIMEOUT = _BROKER_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = _BROKER_TIMEOUT
CELERY_REDIS_RETRY_ON_TIMEOUT = False
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "worldservice.redis_cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ws",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous callers get 401

# Login lockout for the admin and the browsable API (django-axes; docs/operations.md): after
# WORLDSERVICE_LOGIN_FAILURE_LIMIT failures of one username from one address, that pair is
# locked out for WORLDSERVICE_LOGIN_COOLOFF_SECONDS. Each lockout is audited.
AXES_FAILURE_LIMIT = WORLDSERVICE_CONFIG.login_failure_limit
AXES_COOLOFF_TIME = dt.timedelta(seconds=WORLDSERVICE_CONFIG.login_cooloff_seconds)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "worlds.axes_handler.AuditedAxesHandler"
AXES_CLIENT_IP_CALLABLE = "worldservice.client_address.client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The application serves its own static files (WhiteNoise): `collectstatic` copies them to
# STATIC_ROOT with content-hashed names and gzip copies, served with far-future cache headers.
# With DJANGO_DEBUG on, WhiteNoise serves them straight from the apps and `static/` instead.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Source maps are fetched only by browser developer tools: not worth compressing at every deploy.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = WORLDSERVICE_CONFIG.max_body_bytes

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "worlds.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["worldservice.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "worldservice.api.exception_handler.exception_handler",
    # Writes per user (reads are never counted); failed token authentications are throttled
    # per address by the authentication class itself. See worlds/throttling.py.
    "DEFAULT_THROTTLE_CLASSES": ["worlds.throttling.WriteRateThrottle"],
    # Proxies in front of the service whose X-Forwarded-For entry is trusted (0: none, the
    # peer address is the client's).
    "NUM_PROXIES": WORLDSERVICE_CONFIG.trusted_proxies,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WorldService API",
    "DESCRIPTION": (
        "System of record for trading Worlds: versioned policies, decisions, activation and "
        "2-phase apply. See docs/api.md."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set that several fields share (a run's `status`/`run_status`, an apply
    # run's `phase` and its stages' `stage`).
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "policies.models.EvaluationStatus.values",
        "ApplyPhaseEnum": "activation.apply.models.ApplyPhase.values",
    },
    "EXTENSIONS_INFO": {},
    "SECURITY": [{"bearerAuth": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "worldservice.api.schema.document_shared_errors",
    ],
}

# Structured logs (docs/operations.md#logs): readable lines by default, JSON lines with
# WORLDSERVICE_LOG_FORMAT=json (the production settings' default).
LOG_FORMAT = log_format(os.environ, default="console")
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "WARNING")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# The client address comes from worldservice/request_logs.py (the throttles' trusted-proxy rule)
# and the user's name is logged rather than its primary key.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_USER_ID_FIELD = None
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
# Worker and beat keep the settings' handlers (worldservice/celery.py configures them).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

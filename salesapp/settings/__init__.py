"""Settings for the embedded default and the services mode.

With no environment variables at all the app runs on SQLite, a local-memory
cache, eager Celery tasks, database search and SQL activities. Each service is
switched on by its own variable; a configured service that is down is reported
by /healthz and never silently replaced (see salesapp.health).
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
import pycountry
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from salesapp.settings.keys import (
    BLIND_INDEX_KEY_FILE,
    JWT_KEY_FILE,
    SECRET_KEY_FILE,
    field_keys,
    install_key,
    previous_jwt_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Debug pages list every URL pattern and settings: only when asked for.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
DATA_DIR = Path(env("SALES_DATA_DIR", default=str(BASE_DIR / "var")))

# --- Keys ----------------------------------------------------------------------
# No key is shared between installs (salesapp/settings/keys.py): the environment's, or else
# this install's own, generated once under DATA_DIR. JWTs have a key of their own, never SECRET_KEY.
# Production (salesapp.settings.production) takes its keys from the environment only and refuses
# to start without them; this module runs first for it too, so it writes no key file there.
REFRESH_TOKEN_LIFETIME = timedelta(days=7)
_PRODUCTION = os.environ.get("DJANGO_SETTINGS_MODULE") == "salesapp.settings.production"
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or ("" if _PRODUCTION else install_key(DATA_DIR / SECRET_KEY_FILE))
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
if env("JWT_SIGNING_KEY", default="") or _PRODUCTION:
    JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
    JWT_PREVIOUS_SIGNING_KEYS = env.list("JWT_PREVIOUS_SIGNING_KEYS", default=[])
else:
    JWT_SIGNING_KEY = install_key(DATA_DIR / JWT_KEY_FILE)
    # `manage.py rotate_jwt_key` retires a key; it verifies until the last token it signed has expired.
    JWT_PREVIOUS_SIGNING_KEYS = previous_jwt_keys(DATA_DIR, grace_seconds=REFRESH_TOKEN_LIFETIME.total_seconds())
# Personal data at rest (salesapp/crypto.py): FIELD_ENCRYPTION_KEYS are Fernet keys, newest first (the
# first encrypts, every one decrypts, so a rotation needs no downtime); BLIND_INDEX_KEY keys the hashes that
# equality lookups (dedup, exact search) compare. The environment's, or else this install's own, generated once.
if env("FIELD_ENCRYPTION_KEYS", default="") or _PRODUCTION:
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
    BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", default="")
else:
    FIELD_ENCRYPTION_KEYS = field_keys(DATA_DIR)
    BLIND_INDEX_KEY = install_key(DATA_DIR / BLIND_INDEX_KEY_FILE)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, never a CDN
    "guardian",
    "auditlog",
    "mozilla_django_oidc",
    "axes",
    "csp",
    "salesapp.apps.SalesappConfig",
    "territories.apps.TerritoriesConfig",
    "activities.apps.ActivitiesConfig",
    "opportunities.apps.OpportunitiesConfig",
    "leads.apps.LeadsConfig",
    "quotas.apps.QuotasConfig",
    "intelligence.apps.IntelligenceConfig",
]

MIDDLEWARE = [
    # Outermost: the request's time and status as the client gets them, and its id on every line logged.
    "salesapp.metrics.MetricsMiddleware",
    "salesapp.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may answer (static files in production included), so every response has them.
    "salesapp.middleware.PermissionsPolicyMiddleware",
    "salesapp.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salesapp.oidc.OIDCRefreshMiddleware",  # a session begun at the provider ends when the provider refuses it
    "salesapp.access_log.DataAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salesapp.middleware.AuditContextMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last, as axes asks: turns a locked-out sign-in page into the lockout page (salesapp.signin).
    "axes.middleware.AxesMiddleware",
]

# --- Headers ------------------------------------------------------------------
# Content-Security-Policy (django-csp) on every response: scripts and styles from our own origin
# only (no inline script, no eval: JS lives in static/js/), nothing framed, forms post home.
# Inline style *attributes* stay allowed (style-src-attr): templates size bars and cells with them;
# <style> elements do not (htmx's indicator styles are in static/css/app.css instead).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY_DENIED = [
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "usb",
]

ROOT_URLCONF = "salesapp.urls"
WSGI_APPLICATION = "salesapp.wsgi.application"
ASGI_APPLICATION = "salesapp.asgi.application"

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
                "salesapp.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# How long anything may wait on PostgreSQL (seconds; 0 turns a limit off): a connection attempt, a
# statement (ended by the server; off while migrations run), and any answer at all (ended by the
# client when the server or a proxy stops answering: salesapp.postgresql).
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=30.0)
DB_ANSWER_TIMEOUT = env.float("DB_ANSWER_TIMEOUT", default=DB_STATEMENT_TIMEOUT + 5 if DB_STATEMENT_TIMEOUT else 0)


def _postgresql(database: dict) -> dict:
    """Our PostgreSQL backend with its limits (a database of another kind is left as it is)."""
    if database["ENGINE"].endswith("postgresql"):
        database["ENGINE"] = "salesapp.postgresql"
        database.setdefault("OPTIONS", {}).update(
            # JIT compilation adds hundreds of ms to the planning of short OLTP queries.
            options=f"-c jit=off -c statement_timeout={int(DB_STATEMENT_TIMEOUT * 1000)}",
            connect_timeout=DB_CONNECT_TIMEOUT,
            answer_timeout=DB_ANSWER_TIMEOUT or None,
        )
    return database


if env("DATABASE_URL", default=""):
    DATABASES = {"default": _postgresql(env.db("DATABASE_URL"))}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env("DATABASE_REPLICA_URL", default=""):
        DATABASES["replica"] = _postgresql(env.db("DATABASE_REPLICA_URL"))
        DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
        DATABASE_ROUTERS = ["salesapp.dbrouters.ReplicaRouter"]
        # Outermost, so the session and user lookups of a GET read the replica as well (salesapp.replicas).
        MIDDLEWARE.insert(0, "salesapp.replicas.ReplicaRoutingMiddleware")
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "sales.sqlite3",
            # WAL lets readers go on while one writer commits; see salesapp.apps.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# The replica's rotation (salesapp.replicas): the lag it may have (seconds), how often a process measures
# it, and how long a client that wrote reads from the primary.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=5.0)
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis that refuses, or accepts and answers nothing, costs a call at most these (seconds).
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=1.0),
            },
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="sales"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sales"}}
# After a cache error the app runs without the cache and asks it again after this many seconds
# (salesapp.cache): an outage degrades, never breaks, and a hung Redis is not waited on per call.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# An import that creates at least this many records trains the learned models when it ends.
IMPORT_TRAINING_MIN_ROWS = env.int("IMPORT_TRAINING_MIN_ROWS", default=5000)
# Without a broker, an import runs in a thread of the web process, so its page can show progress meanwhile.
IMPORTS_IN_THREAD = env.bool("IMPORTS_IN_THREAD", default=CELERY_TASK_ALWAYS_EAGER)
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A worker child killed mid-task (the OOM killer) gets its message back on the queue, not acknowledged.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that accepts connections and answers nothing holds a publish at most BROKER_PUBLISH_TIMEOUT
# (the wait for the publisher confirm is a socket read; a stalled send a socket write) and a
# connection attempt (TCP and the AMQP handshake) at most CELERY_BROKER_CONNECTION_TIMEOUT.
BROKER_PUBLISH_TIMEOUT = env.float("BROKER_PUBLISH_TIMEOUT", default=3.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "max_retries": 0,
                                   "read_timeout": BROKER_PUBLISH_TIMEOUT, "write_timeout": BROKER_PUBLISH_TIMEOUT}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CACHES["default"].get("OPTIONS", {}).get("SOCKET_CONNECT_TIMEOUT")
CELERY_REDIS_SOCKET_TIMEOUT = CACHES["default"].get("OPTIONS", {}).get("SOCKET_TIMEOUT")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues by kind of work, so events are never stuck behind an import or a rescore:
# `events` (consumers), `rescoring` (coalesced score refreshes), `jobs` (imports, realignments, training,
# bulk rescoring), `periodic` (sweeper, reconciler, watchdog, nightly jobs). `make worker` serves them all.
CELERY_TASK_DEFAULT_QUEUE = "jobs"
CELERY_TASK_ROUTES = {
    "salesapp.tasks.event_deliver_task": {"queue": "events"},
    "salesapp.tasks.outbox_relay_task": {"queue": "events"},
    "intelligence.tasks.rescore_flush_task": {"queue": "rescoring"},
    "salesapp.tasks.outbox_sweep_task": {"queue": "periodic"},
    "salesapp.tasks.outbox_reconcile_task": {"queue": "periodic"},
    "salesapp.tasks.jobs_watchdog_task": {"queue": "periodic"},
    "salesapp.tasks.partitions_ensure_task": {"queue": "periodic"},
    "salesapp.tasks.retention_run_task": {"queue": "periodic"},
    "quotas.tasks.quotas_recompute_task": {"queue": "periodic"},
    "opportunities.tasks.forecast_snapshot_task": {"queue": "periodic"},
    "opportunities.tasks.opportunity_archive_schedule_task": {"queue": "periodic"},
}
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "salesapp.tasks.outbox_sweep_task", "schedule": 10.0},
    "outbox-reconcile": {"task": "salesapp.tasks.outbox_reconcile_task", "schedule": 30.0},
    "jobs-watchdog": {"task": "salesapp.tasks.jobs_watchdog_task", "schedule": 15.0},
    "partitions-ensure": {"task": "salesapp.tasks.partitions_ensure_task", "schedule": 86400.0},
    "retention": {"task": "salesapp.tasks.retention_run_task", "schedule": 86400.0},
}
# Apps append their periodic jobs to CELERY_BEAT_SCHEDULE in salesapp.celery.

# --- Events -------------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=5)
# After a failed send, requests leave events to the sweeper for this long
# instead of each waiting on a dead broker.
OUTBOX_BREAKER_SECONDS = env.float("OUTBOX_BREAKER_SECONDS", default=5.0)
# A fresh event belongs to its request's own send for this long; then the sweeper may claim it.
OUTBOX_GRACE_SECONDS = env.float("OUTBOX_GRACE_SECONDS", default=10.0)
# How long a sweeper holds the rows it claimed before another may take them.
OUTBOX_CLAIM_SECONDS = env.float("OUTBOX_CLAIM_SECONDS", default=60.0)
# How long one sweep drains a backlog before it yields to the next beat.
OUTBOX_SWEEP_BUDGET_SECONDS = env.float("OUTBOX_SWEEP_BUDGET_SECONDS", default=25.0)
# A failed (event, consumer) pair is retried alone: backoff doubling from this, capped, then dead-lettered.
CONSUMER_MAX_ATTEMPTS = env.int("CONSUMER_MAX_ATTEMPTS", default=10)
CONSUMER_BACKOFF_SECONDS = env.float("CONSUMER_BACKOFF_SECONDS", default=2.0)
CONSUMER_BACKOFF_CAP_SECONDS = env.float("CONSUMER_BACKOFF_CAP_SECONDS", default=900.0)
# The reconciler re-drives a sent event's consumer that has not applied it after this long.
CONSUMER_RECONCILE_AFTER_SECONDS = env.float("CONSUMER_RECONCILE_AFTER_SECONDS", default=120.0)

# --- Long jobs ------------------------------------------------------------------
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
# A running job without a heartbeat for this long lost its worker: the watchdog resumes it.
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=45.0)
# A job whose worker died this many times is failed with the reason, for a retry.
JOB_MAX_RUNS = env.int("JOB_MAX_RUNS", default=3)
# A queued job no worker took up for this long (the broker was down) is sent again.
JOB_QUEUE_GRACE_SECONDS = env.float("JOB_QUEUE_GRACE_SECONDS", default=120.0)
# Score refreshes asked for within this window are coalesced: one rescore per record.
RESCORE_WINDOW_SECONDS = env.float("RESCORE_WINDOW_SECONDS", default=3.0)

# List pages count rows exactly up to this many; above it they show the planner's estimate ("about").
LIST_EXACT_COUNT_LIMIT = env.int("LIST_EXACT_COUNT_LIMIT", default=10_000)

# Partitioned tables (salesapp.partitions, PostgreSQL) get their quarters made this many quarters ahead.
PARTITION_QUARTERS_AHEAD = env.int("PARTITION_QUARTERS_AHEAD", default=2)

# --- Archival -------------------------------------------------------------------
# Closed deals whose actual close date is older than this many days go to the archive (opportunities.archive).
ARCHIVE_AFTER_DAYS = env.int("ARCHIVE_AFTER_DAYS", default=730)

# --- Privacy --------------------------------------------------------------------
# The key of the keyed hash that remembers erased people's emails (salesapp.privacy.email_key). Changing it
# forgets every tombstone: set it once, apart from SECRET_KEY, in production.
PRIVACY_HASH_KEY = env("PRIVACY_HASH_KEY", default=SECRET_KEY)
# How long data is kept is set per kind of data in the admin console (salesapp.retention); the data-access
# log's 365 days are its policy's seed.

# --- Periods -------------------------------------------------------------------
# The month the fiscal year starts in (1 = January): quarters of forecasts and quotas follow it.
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", default=1)

# --- Web-to-lead ---------------------------------------------------------------
# How many proxies of ours sit in front of the app: X-Forwarded-For is believed only then (rate limit per IP).
WEB_TO_LEAD_TRUSTED_PROXIES = env.int("WEB_TO_LEAD_TRUSTED_PROXIES", default=0)

# --- Search and activity store -----------------------------------------------
# Search runs on Elasticsearch 8 (or OpenSearch) when ELASTICSEARCH_URL is set, else on the database.
ELASTICSEARCH_URL = env("ELASTICSEARCH_URL", default="")
# "auto" asks the server once; "opensearch" sends plain application/json (OpenSearch refuses Elasticsearch's
# compatible-with media types with 406).
ELASTICSEARCH_FLAVOR = env("ELASTICSEARCH_FLAVOR", default="auto")
ELASTICSEARCH_INDEX_PREFIX = env("ELASTICSEARCH_INDEX_PREFIX", default="sales")
# Bulk writes' refresh: "false" (searchable within the index's 1 s refresh), "wait_for" or "true".
ELASTICSEARCH_REFRESH = env("ELASTICSEARCH_REFRESH", default="false")
ELASTICSEARCH_TIMEOUT = env.float("ELASTICSEARCH_TIMEOUT", default=10.0)
# The index is a read model kept by event consumers (salesapp.search_engine), never by model signals:
# django_elasticsearch_dsl is used for its documents only and is not an installed app (no signal processor).
ELASTICSEARCH_DSL_AUTOSYNC = False
MONGODB_URI = env("MONGODB_URI", default="")
MONGODB_DATABASE = env("MONGODB_DATABASE", default="sales")

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "salesapp.User"
AUTHENTICATION_BACKENDS = [
    "salesapp.backends.CachedModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 8 * 3600
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# Single sign-on (salesapp/oidc.py, README "Single sign-on"): on when OIDC_RP_CLIENT_ID is set, and then the
# provider's endpoints are required. Authorization code with PKCE; the groups claim maps to roles.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
_oidc_required = {} if OIDC_ENABLED else {"default": ""}
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", **_oidc_required)
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", **_oidc_required)
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", **_oidc_required)
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", **_oidc_required)
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", **_oidc_required)
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")  # empty: the ID token's claims are used
OIDC_OP_LOGOUT_ENDPOINT = env("OIDC_OP_LOGOUT_ENDPOINT", default="")  # the provider's end_session_endpoint
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
OIDC_USE_PKCE = True
OIDC_DEFAULT_ROLE = env("OIDC_DEFAULT_ROLE", default="read_only")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
# Provider group -> role, e.g. "Sales Admins=admin,Sales Managers=sales_manager,Sales Reps=sales_rep".
OIDC_ROLE_MAP = env.dict("OIDC_ROLE_MAP", default={})
# The API's audience in the provider's access tokens; empty: the API takes no provider tokens.
OIDC_API_AUDIENCE = env("OIDC_API_AUDIENCE", default="")
OIDC_REFRESH_SECONDS = env.int("OIDC_REFRESH_SECONDS", default=300)  # when a token answer gives no expires_in
OIDC_JWKS_CACHE_SECONDS = env.int("OIDC_JWKS_CACHE_SECONDS", default=300)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(0, "salesapp.oidc.SalesOIDCBackend")
# First of all: refuses every sign-in of a locked-out account or address before a password is checked.
AUTHENTICATION_BACKENDS.insert(0, "axes.backends.AxesStandaloneBackend")

# Sign-in lockout (salesapp/signin.py): SIGNIN_FAILURE_LIMIT failures for one account or from one
# address lock it for SIGNIN_LOCKOUT_MINUTES, doubled for each lockout of it in the last day.
SIGNIN_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=10)
SIGNIN_LOCKOUT_MINUTES = env.int("SIGNIN_LOCKOUT_MINUTES", default=5)
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, and per address
AXES_COOLOFF_TIME = "salesapp.signin.axes_cool_off"
AXES_USE_ATTEMPT_EXPIRATION = True  # each account's failures expire after its own (backed-off) period
AXES_USERNAME_CALLABLE = "salesapp.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "salesapp.signin.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "salesapp.signin.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# A success does not wipe failures: it would wipe its address's failures against other accounts too.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# Password reset mails: printed on the console unless EMAIL_URL names a server (smtp://user:pass@host:587).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="sales@localhost")
PASSWORD_RESET_TIMEOUT = 3 * 3600

# --- API ----------------------------------------------------------------------
_api_auth = [
    # First: it takes only the provider's tokens (by issuer) and leaves ours to the next one.
    "salesapp.oidc.ProviderAccessTokenAuthentication",
    "salesapp.api.auth.AuditedJWTAuthentication",
    "salesapp.api.auth.AuditedSessionAuthentication",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": _api_auth,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "salesapp.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "salesapp.api.ordering.FilterSetOrdering",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["salesapp.api.throttling.UserMinuteThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user_minute": env("API_THROTTLE_RATE", default="1000/min")},
    "DEFAULT_SCHEMA_CLASS": "salesapp.api.schema.SalesAutoSchema",
    "EXCEPTION_HANDLER": "salesapp.api.errors.exception_handler",
    # JSON bodies only (depth-limited); views that take uploads or web forms name their parsers.
    "DEFAULT_PARSER_CLASSES": ["salesapp.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["salesapp.api.renderers.ORJSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=8),
    "REFRESH_TOKEN_LIFETIME": REFRESH_TOKEN_LIFETIME,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Tokens are signed and verified by salesapp.tokens (the current key signs, previous keys still verify);
    # the stock classes get the same current key, so a token they make is one of ours.
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_TOKEN_CLASSES": ("salesapp.tokens.AccessToken",),
    "TOKEN_OBTAIN_SERIALIZER": "salesapp.tokens.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "salesapp.tokens.TokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sales System API",
    "DESCRIPTION": "Leads, opportunities, territories, quotas, activities and intelligence.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Record ids in paths (salesapp.converters): whole numbers a 64-bit column holds.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "salesapp.api.schema.document_errors"],
    # Choice sets that share a field name get stable names of their own (apps add theirs).
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "LeadHistoryKindEnum": "leads.models.LeadHistory.Kind",
        "ImportJobStatusEnum": "salesapp.models.ImportJob.Status",
        "ImportJobOnErrorEnum": "salesapp.models.ImportJob.OnError",
        "PrivacyRequestKindEnum": "salesapp.models.PrivacyRequest.Kind",
    },
}

# --- I18N, static -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"

# --- Logs and metrics -------------------------------------------------------------
# JSON lines (one object per line: time, level, logger, message, request_id, user_id, route, and a request's
# method, status and duration_ms) with LOG_FORMAT=json, the production default; readable text otherwise.
# Emails and phone numbers are masked in every line (salesapp.logs.PersonalDataMask).
LOG_FORMAT = env("LOG_FORMAT", default="json" if _PRODUCTION else "plain")

# Every amount is shown in this one currency (ISO 4217 code): salesapp/templatetags/formatting.py.
CURRENCY = env("SALES_CURRENCY", default="USD").upper()
if pycountry.currencies.get(alpha_3=CURRENCY) is None:
    raise ImproperlyConfigured(f"SALES_CURRENCY={CURRENCY!r} is not an ISO 4217 currency code")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "salesapp.logs.ContextFilter"},
        "mask": {"()": "salesapp.logs.PersonalDataMask"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(route)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context", "mask"]},
        # runserver's request lines: masked too (a query string can hold an address)
        "django.server": {"class": "logging.StreamHandler", "filters": ["context", "mask"],
                          "formatter": "django.server" if LOG_FORMAT == "plain" else "json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's own request lines; with JSON, salesapp.request's line says it all
        "django.server": {"handlers": ["django.server"], "level": "INFO" if LOG_FORMAT == "plain" else "WARNING",
                          "propagate": False},
        # Celery's own lines (a task received, succeeded) only from WARNING unless asked for.
        "celery": {"level": env("CELERY_LOG_LEVEL", default="WARNING")},
        # One line per request, in JSON only: the plain console has runserver's own.
        "salesapp.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
# Workers and beat log through LOGGING above (JSON, masked, with the request id), not Celery's own set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers nobody (401).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# A Celery worker serves its own counters on this port when set (internal; see salesapp.metrics).
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
# Reviewed 2026-12-02: all interfaces, as Prometheus scrapes the worker's pod from outside it; the port is
# internal (no Service or ingress exposes it beyond the cluster, see deploy/k8s).
CELERY_METRICS_ADDR = env("CELERY_METRICS_ADDR", default="0.0.0.0")  # nosec B104

"""Settings for the embedded default and the services mode.

With no environment variables at all the app runs on SQLite, a local-memory
cache, eager Celery tasks, database search and SQL activities. Each service is
switched on by its own variable; a configured service that is down is reported
by /healthz and never silently replaced (see salesapp.health).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-key-only-for-the-embedded-default-mode-0123456789")
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
    "salesapp.apps.SalesappConfig",
    "territories.apps.TerritoriesConfig",
    "activities.apps.ActivitiesConfig",
    "opportunities.apps.OpportunitiesConfig",
    "leads.apps.LeadsConfig",
    "quotas.apps.QuotasConfig",
    "intelligence.apps.IntelligenceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salesapp.middleware.AuditContextMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
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
DATA_DIR = Path(env("SALES_DATA_DIR", default=str(BASE_DIR / "var")))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # JIT compilation adds hundreds of ms to the planning of short OLTP queries.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    if env("DATABASE_REPLICA_URL", default=""):
        DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
        DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
        DATABASE_ROUTERS = ["salesapp.dbrouters.ReplicaRouter"]
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="sales"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sales"}}

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "max_retries": 0}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Events travel on their own queue; workers consume it with `-Q celery,events`.
CELERY_TASK_ROUTES = {"salesapp.tasks.event_deliver_task": {"queue": "events"}}
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "salesapp.tasks.outbox_sweep_task", "schedule": 30.0},
}
# Apps append their periodic jobs to CELERY_BEAT_SCHEDULE in salesapp.celery.

# --- Events -------------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=5)
# After a failed send, requests leave events to the sweeper for this long
# instead of each waiting on a dead broker.
OUTBOX_BREAKER_SECONDS = env.float("OUTBOX_BREAKER_SECONDS", default=5.0)
EVENTS_EXCHANGE = env("EVENTS_EXCHANGE", default="sales.events")

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

OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
    OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = "openid email profile"
    AUTHENTICATION_BACKENDS.insert(0, "salesapp.oidc.SalesOIDCBackend")
    OIDC_DEFAULT_ROLE = env("OIDC_DEFAULT_ROLE", default="read_only")

# --- API ----------------------------------------------------------------------
_api_auth = [
    "salesapp.api.auth.AuditedJWTAuthentication",
    "salesapp.api.auth.AuditedSessionAuthentication",
]
if OIDC_ENABLED:
    _api_auth.append("mozilla_django_oidc.contrib.drf.OIDCAuthentication")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": _api_auth,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "salesapp.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["salesapp.api.throttling.UserMinuteThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user_minute": env("API_THROTTLE_RATE", default="1000/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "salesapp.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=8),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
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
    # Choice sets that share a field name get stable names of their own (apps add theirs).
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "LeadHistoryKindEnum": "leads.models.LeadHistory.Kind",
        "ImportJobStatusEnum": "salesapp.models.ImportJob.Status",
        "ImportJobOnErrorEnum": "salesapp.models.ImportJob.OnError",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

"""Production settings: everything of the base, hardened.

The secret key, the JWT signing key and the personal-data keys must come from the environment (no key file is
generated); cookies are secure and HSTS is on, so `manage.py check --deploy` is clean.
"""

from django.core.exceptions import ImproperlyConfigured

from . import *  # noqa: F403
from . import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY")
JWT_PREVIOUS_SIGNING_KEYS = env.list("JWT_PREVIOUS_SIGNING_KEYS", default=[])
if JWT_SIGNING_KEY == SECRET_KEY or JWT_SIGNING_KEY in JWT_PREVIOUS_SIGNING_KEYS:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be a key of its own: not DJANGO_SECRET_KEY, not a previous key")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")
if not FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY in (SECRET_KEY, JWT_SIGNING_KEY):
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS (Fernet keys, newest first) and a BLIND_INDEX_KEY of its own are required")
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Static files from collectstatic, served by WhiteNoise.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
# Inside the header middlewares, so static files carry the CSP and Permissions-Policy too.
MIDDLEWARE.insert(MIDDLEWARE.index("salesapp.middleware.ContentSecurityPolicyMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "salesapp.staticfiles.StaticFilesStorage"},
}
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["salesapp.api.renderers.ORJSONRenderer"]  # noqa: F405

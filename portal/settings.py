"""Settings for Community Camera Portal.

Everything that differs between a laptop and a city's servers is read here, once, from the
environment (see the table in README.md). The defaults are the embedded, development ones:
SQLite, an in-memory channel layer, django-q2 on the ORM broker, e-mail kept in a local outbox.
"""

from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.directories import ensure_folder
from portal.env import (
    env_bool,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_rate,
    env_redis_url,
    env_storage_url,
    env_str,
    env_viewbox,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if SECRET_KEY is None:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (50+ random characters).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

CITY_NAME = env_str("CITY_NAME", "Riverton")
PROGRAM_NAME = env_str("PROGRAM_NAME", "Community Camera Portal")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "leaflet",
    "channels",
    "django_q",
    "csp",
    "portal",
    "cameras",
    "incidents",
    "requests_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    "portal.middleware.StaffMFAMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test database is a file so that a daphne process started by the real-time browser tests
    # shares it (an in-memory database lives inside one process).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
    # WAL lets daphne and the django-q2 cluster read while the other writes. Memory-mapped reads
    # (up to 256 MiB of the file) spare a system call per page: camera searches touch hundreds of
    # scattered rows (bench/geo.py: about 30% off the query).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # A pool of connections per process (Django's psycopg pool; the ASGI server opens no connection
    # per request), each checked before it is handed out. Parameters are bound by the server, and
    # a query run five times on a connection is prepared there, so repeated reads (camera searches
    # above all) skip parsing and planning. Poolers in transaction mode need protocol-level
    # prepared statements (PgBouncer 1.21+) or DATABASE_PREPARED_STATEMENTS=0. Pools are closed
    # before a fork (portal.database), so a django-q2 worker never shares its parent's sockets.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
    }
    if env_bool("DATABASE_POOL", True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1),
            "timeout": 10,
        }
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool checks a connection before handing it out
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite builds camera_band_lng_lat without its included columns, which only PostgreSQL supports
# (cameras/models.py); Django would warn about that on every command run on SQLite.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    # While Redis is away each process falls back to its own memory (portal/cache.py), so pages keep
    # answering; short socket timeouts keep a Redis that hangs from holding requests up.
    CACHES = {"default": {"BACKEND": "portal.cache.FallbackRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
    # channels-redis waits for messages with 5 s blocking reads; redis-py 8 times a socket read out after 5 s
    # by default, which would tear down every WebSocket that stays quiet that long. A longer timeout
    # still notices a Redis that stopped answering. Every socket joining or leaving uses a connection at
    # that moment, and redis-py refuses a 101st in use at once by default: a crowd reconnecting after a
    # restart needs more (Redis itself takes 10,000 clients).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 1000}]}}}
else:
    # A file cache is shared by daphne and the task cluster (login lockouts, task-cluster
    # heartbeats) without a server; Redis replaces it in production.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# django-q2: retry must exceed timeout, or a slow task is handed to a second worker while the
# first is still running it.
TASK_TIMEOUT_SECONDS = env_int("TASK_TIMEOUT_SECONDS", 300, minimum=10)
Q_CLUSTER = {
    "name": "portal",
    "workers": env_int("TASK_WORKERS", 2, minimum=1),
    "timeout": TASK_TIMEOUT_SECONDS,
    "retry": TASK_TIMEOUT_SECONDS + 60,
    "max_attempts": 5,
    "orm": "default",
    "catch_up": False,
    "sync": env_bool("TASKS_SYNC", False),
    "save_limit": 1000,
}
if REDIS_URL and env_bool("TASKS_ON_REDIS", False):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# --- Accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupForm"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PROGRAM_NAME}] "
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
LOGIN_FAILURES_BEFORE_LOCKOUT = env_int("LOGIN_FAILURES_BEFORE_LOCKOUT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 10, minimum=1)
ACCOUNT_RATE_LIMITS = {
    # Per account (the e-mail typed): five failures lock it for ten minutes.
    "login_failed": f"20/m/ip,{LOGIN_FAILURES_BEFORE_LOCKOUT}/{LOGIN_LOCKOUT_MINUTES * 60}s/key",
}
# Staff need a second factor: an authenticator app (TOTP) or passkeys (WebAuthn), with recovery codes beside
# either. A passkey answers only the site it was made for, so it cannot be phished like a typed code.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Passkeys are a second factor after the password, not a way in without it: the staff rule stays "password
# and a second factor", and per-account lockout (LOGIN_FAILURES_BEFORE_LOCKOUT) keeps guarding the first step.
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_PASSKEY_SIGNUP_ENABLED = False
# Never on: it switches off fido2's check of the page's origin, which is what makes a passkey resist phishing.
# http://localhost (development, the browser tests) is accepted without it, as browsers treat it as secure.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
# Passkey forms whose errors name the passkey (allauth's say "Incorrect code.") and whose name field is labelled.
MFA_FORMS = {
    "authenticate_webauthn": "portal.forms.PasskeyAuthenticateForm",
    "reauthenticate_webauthn": "portal.forms.PasskeyReauthenticateForm",
    "add_webauthn": "portal.forms.PasskeyAddForm",
    "edit_webauthn": "portal.forms.PasskeyEditForm",
}
MFA_TOTP_ISSUER = f"{PROGRAM_NAME} ({CITY_NAME})"
# Accept the code of the 30-second step just before or after, as RFC 6238 advises for clock drift and
# for a code typed as the step changes (allauth refuses a code already used in the last 30 s).
MFA_TOTP_TOLERANCE = 1
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 30, minimum=1)

# --- E-mail -----------------------------------------------------------------------------
# No SMTP hand-off may hang a worker: footage-request e-mails hold a 5-minute lease while sending.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{PROGRAM_NAME} <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email = env_email("EMAIL_URL")
if _email:
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "")
    EMAIL_PORT = _email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
else:
    # Kept in the database and readable at /dev/outbox/ while DEBUG is on.
    EMAIL_BACKEND = "portal.mail.OutboxBackend"

# --- Language, time ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Named date formats per language, the project's own among them (portal/formats/__init__.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "/static/"
# Container images collect static files at build time outside VAR_DIR (a volume), so that an
# upgraded image's files are not hidden by the previous release's copy in the volume.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules/bootstrap-icons/font"),
    ("vendor/tus-js-client", BASE_DIR / "node_modules/tus-js-client/dist"),
    ("vendor/hls.js", BASE_DIR / "node_modules/hls.js/dist"),
    ("vendor/leaflet.markercluster", BASE_DIR / "node_modules/leaflet.markercluster/dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules/chart.js/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# --- Maps -------------------------------------------------------------------------------
MAP_TILES_URL = env_str("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILES_ATTRIBUTION = env_str("MAP_TILES_ATTRIBUTION", "&copy; OpenStreetMap contributors")
LEAFLET_CONFIG = {
    "TILES": [("Map", MAP_TILES_URL, {"attribution": MAP_TILES_ATTRIBUTION, "maxZoom": 19})] if MAP_TILES_URL else [],
    "DEFAULT_CENTER": (env_str("MAP_CENTER_LAT", "40.7128"), env_str("MAP_CENTER_LNG", "-74.0060")),
    "DEFAULT_ZOOM": 14,
    "RESET_VIEW": False,
}

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PROGRAM_NAME} API",
    "DESCRIPTION": "Owners' cameras and sharing rules, staff search, CAD intake.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security ---------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Plain HTTP on the private network: the load balancer's health check, and the media gateway's
    # authentication hook (MediaMTX posts to it without X-Forwarded-Proto: a redirect would refuse every viewer).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^api/v1/media-auth/$"]

# The tile server's origin, with Leaflet's {s} sub-domain placeholder as a CSP wildcard.
_tiles = urlsplit(MAP_TILES_URL) if MAP_TILES_URL else None
_tile_origin = f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}" if _tiles else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # Inline style attributes (Django admin, Leaflet) are harmless without inline script.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"] + ([_tile_origin] if _tile_origin else []),
        # hls.js plays live video through Media Source Extensions, whose streams are blob: URLs.
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django-q": {"level": "WARNING"}},
}

MFA_ADAPTER = "portal.adapters.MFAAdapter"
FORM_RENDERER = "portal.forms_rendering.PortalFormRenderer"

# --- Cameras ----------------------------------------------------------------------------
# Fernet keys (comma-separated, newest first) encrypting stream URLs and credentials at rest.
# Rotate by putting a new key first and running `manage.py rotate_stream_keys`. Without the
# variable, a key derived from SECRET_KEY is used.
STREAM_ENCRYPTION_KEYS = env_list("STREAM_ENCRYPTION_KEYS", [])
# "Test connection" refuses loopback, private, link-local and other non-public addresses (SSRF)
# unless they fall in one of these networks, e.g. "127.0.0.1/32,10.20.0.0/16".
STREAM_ALLOWED_NETWORKS = env_list("STREAM_ALLOWED_NETWORKS", [])
# Freeze start-up objects and collect garbage less often in the ASGI server (portal/asgi.py).
SERVER_GC_TUNING = env_bool("SERVER_GC_TUNING", True)
# The demo city's drawn camera pictures (cameras/demo_camera.py), served by `manage.py serve`; 0 = off.
DEMO_CAMERAS_PORT = env_int("DEMO_CAMERAS_PORT", 8001 if DEBUG else 0, minimum=0)
STREAM_TEST_TIMEOUT_SECONDS = env_int("STREAM_TEST_TIMEOUT_SECONDS", 5, minimum=1)
CAMERA_SEARCH_MAX_RADIUS_M = env_int("CAMERA_SEARCH_MAX_RADIUS_M", 5000, minimum=100)
# Live viewing (cameras/live.py, cameras/relay.py, docs/live.md).
LIVE_SESSION_MAX_MINUTES = env_int("LIVE_SESSION_MAX_MINUTES", 60, minimum=1)
# How often an open live session asks the access policy again (pause, schedule end, alarm over...).
LIVE_RECHECK_SECONDS = env_int("LIVE_RECHECK_SECONDS", 3, minimum=1)
LIVE_SNAPSHOT_INTERVAL_SECONDS = env_int("LIVE_SNAPSHOT_INTERVAL_SECONDS", 1, minimum=1)
LIVE_WALL_RADIUS_M = env_int("LIVE_WALL_RADIUS_M", 1000, minimum=10)
# Owners who chose one daily e-mail of live views get it from this hour (0-23, TIME_ZONE) on (portal/notices.py).
NOTICE_DIGEST_HOUR = env_int("NOTICE_DIGEST_HOUR", 7, minimum=0, maximum=23)
# RTSP cameras are served by a media gateway (MediaMTX) that asks /api/v1/media-auth/; the portal
# relays the gateway's HLS output, e.g. "https://gateway.example/{path}/index.m3u8".
MEDIA_GATEWAY_HLS_URL = env_str("MEDIA_GATEWAY_HLS_URL", "")
MEDIA_GATEWAY_PUBLISH_SECRET = env_str("MEDIA_GATEWAY_PUBLISH_SECRET", "")
# How RTSP cameras are served (docs/live.md): "embedded" = the portal reads the camera itself and
# remuxes it to HLS (cameras/rtsp_ingest.py); "gateway" = through MediaMTX (MEDIA_GATEWAY_HLS_URL);
# "auto" (the default) = "gateway" when MEDIA_GATEWAY_HLS_URL is set, else "embedded".
RTSP_INGEST = env_choice("RTSP_INGEST", "auto", ("auto", "embedded", "gateway"))

# Address search on the camera form (cameras/geocoding.py, docs/deploy.md): "local" searches the
# addresses imported with `manage.py import_addresses`; "nominatim" asks a Nominatim-compatible server.
GEOCODER = env_choice("GEOCODER", "local", ("local", "nominatim"))
GEOCODER_URL = env_str("GEOCODER_URL", "")
if GEOCODER == "nominatim" and urlsplit(GEOCODER_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("GEOCODER=nominatim needs GEOCODER_URL, the server's http(s):// address.")
GEOCODER_TIMEOUT_SECONDS = env_int("GEOCODER_TIMEOUT_SECONDS", 3, minimum=1)
# Searches are kept inside this box (WEST,SOUTH,EAST,NORTH); without it, a square of
# GEOCODER_RADIUS_M around the map centre (0: anywhere the server knows).
GEOCODER_VIEWBOX = env_viewbox("GEOCODER_VIEWBOX")
GEOCODER_RADIUS_M = env_int("GEOCODER_RADIUS_M", 20000, minimum=0)
# Searches per signed-in user (DRF rate syntax); the form searches as the owner types.
GEOCODER_RATE_LIMIT = env_rate("GEOCODER_RATE_LIMIT", "60/min")

# --- Footage requests -------------------------------------------------------------------
# Private storage for uploads, evidence and exports, through Django's storage API
# (requests_app/storage.py): a folder by default, or an S3 bucket. Never under STATIC_ROOT or
# MEDIA_URL; files are served only through permission-checked, audited views.
FOOTAGE_ROOT = Path(env_str("FOOTAGE_ROOT", str(VAR_DIR / "footage")))
_footage_s3 = env_storage_url("FOOTAGE_STORAGE_URL")
if _footage_s3:
    STORAGES["footage"] = {"BACKEND": "requests_app.storage.S3FootageStorage", "OPTIONS": {
        **_footage_s3, "access_key": env_str("FOOTAGE_STORAGE_ACCESS_KEY"),
        "secret_key": env_str("FOOTAGE_STORAGE_SECRET_KEY")}}
else:
    STORAGES["footage"] = {"BACKEND": "requests_app.storage.LocalFootageStorage"}
UPLOAD_MAX_FILE_BYTES = env_int("UPLOAD_MAX_FILE_BYTES", 10 * 1024**3, minimum=1)
UPLOAD_MAX_FILES_PER_REQUEST = env_int("UPLOAD_MAX_FILES_PER_REQUEST", 20, minimum=1)
UPLOAD_MAX_BYTES_PER_REQUEST = env_int("UPLOAD_MAX_BYTES_PER_REQUEST", 50 * 1024**3, minimum=1)
# Daphne hands a request's whole body to Django at once, so each tus PATCH is capped.
UPLOAD_MAX_CHUNK_BYTES = env_int("UPLOAD_MAX_CHUNK_BYTES", 8 * 1024**2, minimum=64 * 1024)
UPLOAD_EXPIRY_HOURS = env_int("UPLOAD_EXPIRY_HOURS", 48, minimum=1)
# City guardrails for area requests: beyond a limit, a supervisor must approve.
AREA_REQUEST_MAX_RADIUS_M = env_int("AREA_REQUEST_MAX_RADIUS_M", 805, minimum=10)
AREA_REQUEST_MAX_WINDOW_HOURS = env_int("AREA_REQUEST_MAX_WINDOW_HOURS", 12, minimum=1)
AREA_REQUEST_CASE_NUMBER_REQUIRED = env_bool("AREA_REQUEST_CASE_NUMBER_REQUIRED", True)
# Incident types for which no area request may be sent at all (comma-separated type codes).
AREA_REQUEST_BLOCKED_TYPES = env_list("AREA_REQUEST_BLOCKED_TYPES", [])
FOOTAGE_REQUEST_EXPIRY_DAYS = env_int("FOOTAGE_REQUEST_EXPIRY_DAYS", 7, minimum=1)
FOOTAGE_REQUEST_REMINDER_HOURS = env_int("FOOTAGE_REQUEST_REMINDER_HOURS", 48, minimum=1)
FOOTAGE_REQUEST_EMAIL_MAX_ATTEMPTS = env_int("FOOTAGE_REQUEST_EMAIL_MAX_ATTEMPTS", 6, minimum=1)
# How long the short session opened by an e-mailed link lasts.
FOOTAGE_LINK_SESSION_HOURS = env_int("FOOTAGE_LINK_SESSION_HOURS", 12, minimum=1)
# Retention (requests_app/retention.py, docs/requests.md): declined and expired requests, and rejected
# files, are purged after RETENTION_CLOSED_REQUEST_DAYS. Accepted footage whose incident has no case
# number (no case was opened) is deleted RETENTION_NO_CASE_DAYS after its last activity (acceptance,
# the incident's last update, a lifted hold); footage of a case is kept while the incident is open,
# then EVIDENCE_RETENTION_DAYS after it closes. A supervisor's legal hold keeps a file indefinitely.
RETENTION_CLOSED_REQUEST_DAYS = env_int("RETENTION_CLOSED_REQUEST_DAYS", 30, minimum=1)
RETENTION_NO_CASE_DAYS = env_int("RETENTION_NO_CASE_DAYS", 90, minimum=1)
EVIDENCE_RETENTION_DAYS = env_int("EVIDENCE_RETENTION_DAYS", 365, minimum=1)

# --- Oversight -------------------------------------------------------------------------------
# The oversight desk flags a person with more refused decisions than this within 24 hours.
OVERSIGHT_REFUSALS_THRESHOLD = env_int("OVERSIGHT_REFUSALS_THRESHOLD", 5, minimum=1)

# --- CAD, alarms and unit positions -------------------------------------------------------
# An incident opened by a CAD or alarm event covers this long from the event (extended by updates).
CAD_INCIDENT_WINDOW_MINUTES = env_int("CAD_INCIDENT_WINDOW_MINUTES", 60, minimum=1)
# Requests per integration key (DRF rate syntax: "120/min", "10/s", "5000/hour").
CAD_RATE_LIMIT = env_rate("CAD_RATE_LIMIT", "120/min")
# A unit not heard from for this long drops off the RTCC map.
UNIT_STALE_MINUTES = env_int("UNIT_STALE_MINUTES", 15, minimum=1)

# --- Folders ----------------------------------------------------------------------------
# Made here: every entry point (manage.py migrate, asgi, wsgi, pytest) loads settings before opening SQLite.
ensure_folder(VAR_DIR, variable="VAR_DIR", purpose="the portal's folder", writable=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and DATABASES["default"]["NAME"] != ":memory:":
    ensure_folder(Path(DATABASES["default"]["NAME"]).parent, purpose="the SQLite database's folder",
                  variable="DATABASE_URL" if env_str("DATABASE_URL") else "VAR_DIR")
if not REDIS_URL:
    ensure_folder(CACHES["default"]["LOCATION"], variable="VAR_DIR", purpose="the file cache's folder")
if not _footage_s3:
    ensure_folder(FOOTAGE_ROOT, variable="FOOTAGE_ROOT", purpose="the private footage folder", private=True)

"""Arkiv's one settings module. Everything that differs between machines comes from the
environment (documented in .env.example); the defaults are the safe ones."""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_tasks",
    "django_tasks_db",
    "mailer",
    "anymail",
    "crispy_forms",
    "crispy_bootstrap5",
    # Only for its translated country names (German at checkout); it has no models.
    "django_countries",
    "axes",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "catalog",
    "orders",
    "privacy",
    # The project itself, for the periodic jobs' table and run_periodic_jobs.
    "arkiv",
    # The audit trail of staff changes (arkiv/audit.py).
    "auditlog",
]

MIDDLEWARE = [
    # First: every record logged while a request is served carries its id (arkiv/logjson.py).
    "arkiv.logjson.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "arkiv.csp.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "arkiv.middleware.RejectNulBytesMiddleware",
    # /healthz and /readyz, also for probes by IP address: after the security headers
    # and the NUL check, before the host check, sessions and rate limits (arkiv/health.py).
    "arkiv.health.ProbeMiddleware",
    # A cached catalog page is served from here, before URL resolution and the view,
    # through the middleware below that shape a response (catalog/caching.py).
    # A browser preferring German that lands on the home page goes to /de/ (arkiv/i18n.py).
    "arkiv.i18n.BrowserLanguageMiddleware",
    "catalog.caching.SharedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a page is the one its address names (/de/...), never a cookie
    # (Django's LocaleMiddleware without its cookie and Accept-Language look, arkiv/i18n.py).
    "arkiv.i18n.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages of an account or a session: Cache-Control no-store (see the class).
    "arkiv.middleware.PrivatePagesMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff changes in the admin are recorded against their name; nothing else is (arkiv/audit.py).
    "arkiv.audit.StaffChangesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "arkiv.urls"
WSGI_APPLICATION = "arkiv.wsgi.application"

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
                "arkiv.context_processors.shop",
            ],
        },
    },
]
if not DEBUG:
    # Compiled templates are kept in memory between requests.
    TEMPLATES[0]["APP_DIRS"] = False
    TEMPLATES[0]["OPTIONS"]["loaders"] = [
        (
            "django.template.loaders.cached.Loader",
            [
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ],
        )
    ]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # A kept connection the server dropped is found by polling its socket when a request
    # starts, without a round trip, and closed (arkiv/dbconn.py). CONN_HEALTH_CHECKS=1
    # adds Django's SELECT 1 before each request's first query, for a pooler (PgBouncer)
    # between the shop and the database, which keeps the shop's socket open when the
    # database drops its own.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
            conn_health_checks=env_bool("CONN_HEALTH_CHECKS", False),
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "arkiv.sqlite3")),
            "OPTIONS": {
                # WAL lets readers and one writer work side by side; IMMEDIATE avoids
                # "database is locked" when a read transaction later wants to write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
            # Kept open between requests, as on PostgreSQL: closing the last connection
            # to a WAL database checkpoints it, which cost a cart page more than its query.
            "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "600")),
        }
    }

# -- Prepared statements (orders/cart.py) -----------------------------------------------
# On PostgreSQL the cart page's and add to cart's query is prepared once per connection
# (PREPARE / EXECUTE), so the server plans it once rather than on every request. Set
# DATABASE_PREPARED_STATEMENTS=0 behind a pooler that hands a connection to other
# sessions between transactions (PgBouncer in transaction mode): a statement prepared on
# one server connection is unknown on the next (it is then read plainly, never refused).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
# -- end of prepared statements --

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "accounts:overview"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The shop in English (the default, at the site's root) and German (under /de/), chosen
# by the address and, on arrival at the home page, the browser's Accept-Language; never
# by a cookie (arkiv/i18n.py). Messages live in locale/ (`make messages`).
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("de", "German")]
LANGUAGE_AUTONYMS = {"en-gb": "English", "de": "Deutsch"}
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names need `collectstatic`; tests and DEBUG runs serve as-is.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Tests and `runserver` without collectstatic: serve straight from the finders.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
WHITENOISE_MANIFEST_STRICT = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- Audit trail (django-auditlog, arkiv/audit.py) ------------------------------------
# Staff are named by their account; their IP addresses are not kept. Related rows are
# stored by their text (as they read when changed), so a History page needs no lookups.
AUDITLOG_DISABLE_REMOTE_ADDR = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

# -- The admin's dashboard (arkiv/dashboard.py) ----------------------------------------
# Sales per day and best sellers read 90 days of orders: they are kept this many seconds
# in the shared cache (0: computed on every visit). What needs doing is always live.
DASHBOARD_CACHE_SECONDS = max(0, int(os.environ.get("DASHBOARD_CACHE_SECONDS", "300")))

# --- Page cache: one for every server ------------------------------------------------
# Catalog pages are cached once for every visitor (catalog.caching), so every server
# process must share the cache: Redis when REDIS_URL is set, else a database table
# (accounts migration 0006). PAGE_CACHE=locmem keeps a per-process cache, for DEBUG runs
# without Redis (its default there) and tests; `check --deploy` refuses it.
# PAGE_CACHE_MAX_ENTRIES bounds the database table (oldest third culled beyond it).
PAGE_CACHE = os.environ.get(
    "PAGE_CACHE", "redis" if os.environ.get("REDIS_URL") else ("locmem" if DEBUG else "database")
)
# Answers from the page cache say "X-Page-Cache: hit" or "miss" (the benchmark counts
# hits with it; off in production).
PAGE_CACHE_STATUS_HEADER = env_bool("PAGE_CACHE_STATUS_HEADER", False)
# Redis must never hold a request: connect and read timeouts (seconds) on every Redis
# cache, and after a failure a process goes on without Redis for REDIS_RETRY_SECONDS
# (pages rendered afresh, sessions from the database; arkiv/cache.py).
REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "2"))
REDIS_RETRY_SECONDS = float(os.environ.get("REDIS_RETRY_SECONDS", "5"))
if PAGE_CACHE == "redis":
    CACHES = {
        "default": {
            "BACKEND": "arkiv.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
        }
    }
elif PAGE_CACHE == "database":
    CACHES = {
        "default": {
            "BACKEND": "arkiv.cache.CountingDatabaseCache",
            "LOCATION": "arkiv_page_cache",
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("PAGE_CACHE_MAX_ENTRIES", "20000"))},
        }
    }
elif PAGE_CACHE == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "arkiv"}}
else:
    raise ImproperlyConfigured("PAGE_CACHE must be redis, database or locmem.")

# Sessions, each with its account's id, so erasing an account ends every session it has
# (privacy/sessions.py): read from the "shared" cache and written through to the
# database (Django's cached_db) when that cache is Redis; from the database alone when
# it is the database cache.
SESSION_ENGINE = "privacy.sessions"
SESSION_CACHE_ALIAS = "shared"
# On PostgreSQL a changed session is written without waiting for the disk flush
# (synchronous_commit off for that one statement, privacy/sessions.py): a crash of the
# database server may lose the last fraction of a second of cart changes, never an order.
# SESSION_WRITES_UNFLUSHED=0 writes sessions with the server's full durability.
SESSION_WRITES_UNFLUSHED = env_bool("SESSION_WRITES_UNFLUSHED", True)
# What a browser keeps of its session when its user signs out: the cart, nothing else.
SESSION_KEYS_KEPT_ON_SIGN_OUT = ("cart", "cart_count")
# Messages ride in the session: the session and CSRF cookies are the only cookies (P7).
# A message already waiting to be shown is not queued again (arkiv/sessions.py).
MESSAGE_STORAGE = "arkiv.sessions.MessageStorage"
MESSAGE_TAGS = {40: "danger"}  # messages.ERROR, in Bootstrap's words
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Production is HTTPS only (promise P6). These follow DEBUG unless set explicitly, so a
# local HTTP run with DEBUG=1 works and a deployment is secure without extra steps.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS preload is a one-way door we leave to the operator.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp) and Permissions-Policy (django-permissions-policy).
# Every script and style comes from our own static files: no inline script, no inline
# style, no third-party origin (promise P2). JSON-LD would be data, not script, and is
# not executed. Forms post only to us; the checkout form is the one exception, because
# Stripe's hosted page answers its redirect (see arkiv.csp.posts_to_payment_page).
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
# The origin of the processor's hosted payment page that checkout hands over to. Empty:
# the origin of STRIPE_API_BASE when that points at the payment sandbox, else Stripe's.
PAYMENT_PAGE_ORIGIN = os.environ.get("PAYMENT_PAGE_ORIGIN", "")
# No page of the shop uses any of these browser features; nothing embedded may either.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# -- Outgoing mail: queued in the request, delivered by the task worker (arkiv/mail.py) --
# EMAIL_BACKEND is where Django's send calls land: the outbox. EMAIL_DELIVERY_BACKEND is
# the real transport the worker hands messages to (SMTP, an anymail backend, the console).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "arkiv.mail.QueueBackend")
MAILER_EMAIL_BACKEND = os.environ.get(
    "EMAIL_DELIVERY_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
# Seconds the worker waits on a mail server that does not answer.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# Messages are locked row by row (select_for_update nowait) on PostgreSQL, so any number
# of workers may deliver side by side; django-mailer's file lock is per machine and
# outlives a killed worker, so it is off unless asked for (a SQLite run has one worker).
MAILER_USE_FILE_LOCK = env_bool("MAILER_USE_FILE_LOCK", False)
MAILER_LOCK_PATH = str(BASE_DIR / "var" / "send_mail")
# A mail server that cannot be reached stops a delivery run with every message kept
# as it was; the worker tries again after MAIL_RETRY_SECONDS. A message the server
# refuses is deferred and retried as often as MAIL_MAX_RETRIES; after that it stays in
# the outbox, visible in the admin, for staff to look at.
MAILER_ERROR_HANDLER = "arkiv.mail.handle_delivery_error"
MAIL_RETRY_SECONDS = int(os.environ.get("MAIL_RETRY_SECONDS", "300"))
MAILER_EMAIL_MAX_RETRIES = int(os.environ.get("MAIL_MAX_RETRIES", "100"))
# The delivery log keeps when and whether, never a copy of the message (erasure, P1).
MAILER_EMAIL_LOG_MESSAGE_DATA = False
# -- end of outgoing mail --
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Arkiv <orders@arkiv.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The shop's own addresses, shown in the footer and the policy.
ARKIV_SERVICE_EMAIL = os.environ.get("ARKIV_SERVICE_EMAIL", "service@arkiv.example")
ARKIV_FEEDBACK_EMAIL = os.environ.get("ARKIV_FEEDBACK_EMAIL", "feedback@arkiv.example")
ARKIV_POSTAL_ADDRESS = os.environ.get(
    "ARKIV_POSTAL_ADDRESS", "Arkiv Music, 1 Example Street, London N1 1AA, United Kingdom"
)
ARKIV_CURRENCY = os.environ.get("ARKIV_CURRENCY", "EUR")

# Shipping: the country parcels leave from (ISO 3166 code). It is the "domestic" zone the
# first migration sets up, the destination the cart prices before the buyer picks one,
# and the country the checkout form starts with. Zones and rates are edited in the admin.
ARKIV_SHOP_COUNTRY = os.environ.get("ARKIV_SHOP_COUNTRY", "GB").upper()

# --- Invoices ----------------------------------------------------------------------------
# The seller as every invoice and credit note names it (copied onto each document when it
# is issued). VAT rates are a table staff edit in the admin (orders.VatRate); the VAT
# number is left off the documents while empty.
ARKIV_SELLER_NAME = os.environ.get("ARKIV_SELLER_NAME", "Arkiv Music Ltd")
# Lines separated by a newline, or by "\n" as written in an environment file.
ARKIV_SELLER_ADDRESS = os.environ.get(
    "ARKIV_SELLER_ADDRESS", "1 Example Street\nLondon N1 1AA\nUnited Kingdom"
).replace("\\n", "\n")
ARKIV_SELLER_VAT_NUMBER = os.environ.get("ARKIV_SELLER_VAT_NUMBER", "")

# Mail to service@ can arrive through Mailgun's inbound routing (django-anymail), posted
# to /inbound/mailgun/inbound_mime/; the route is on only when its signing key is set.
MAILGUN_WEBHOOK_SIGNING_KEY = os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", "")
ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_WEBHOOK_SIGNING_KEY}

# Inbound mail posts signed longer ago (or further ahead) than this are refused as replays.
INBOUND_MAX_AGE_SECONDS = int(os.environ.get("INBOUND_MAX_AGE_SECONDS", "300"))
# process_service_mail --imap gives up on a mail server that does not answer within this.
SERVICE_MAIL_IMAP_TIMEOUT_SECONDS = float(os.environ.get("SERVICE_MAIL_IMAP_TIMEOUT_SECONDS", "30"))

# Background work through Django's Tasks API: a database queue served by
# `manage.py db_worker` (django-tasks-db) unless TASKS_BACKEND names another (RQ for
# Redis users); the immediate backend, which runs tasks inside the request, is for tests.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
# RQ for those who run Redis (django-tasks-rq): the queue lives in REDIS_URL's Redis and
# `manage.py rqworker --with-scheduler --job-class django_tasks_rq.Job default` serves it
# (the scheduler runs the delayed mail retries).
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    if not os.environ.get("REDIS_URL"):
        raise ImproperlyConfigured("TASKS_BACKEND=django_tasks_rq.RQBackend needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS["default"]["QUEUES"] = ["default"]
    # Enqueueing must never hold a request: the same timeouts as the shared cache's
    # (the worker raises its own for its blocking reads).
    _queue_url = os.environ["REDIS_URL"] + ("&" if "?" in os.environ["REDIS_URL"] else "?")
    _queue_url += f"socket_timeout={REDIS_TIMEOUT_SECONDS}&socket_connect_timeout={REDIS_TIMEOUT_SECONDS}"
    RQ_QUEUES = {"default": {"URL": _queue_url, "DEFAULT_TIMEOUT": 300}}

# Payments: Stripe's API, or the local payment sandbox when STRIPE_API_BASE points at it.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_sandbox" if DEBUG else "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_sandbox" if DEBUG else "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:12111" if DEBUG else "")
# The payment processor must never hold a request: connect and read timeouts (seconds)
# and how many times a failed call is retried (with Stripe's own idempotent retries).
# Worst case per call: (1 + retries) x (connect + read) plus a second of back-off,
# well inside gunicorn's 30 s.
STRIPE_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_CONNECT_TIMEOUT_SECONDS", "2"))
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "8"))
STRIPE_MAX_RETRIES = int(os.environ.get("STRIPE_MAX_RETRIES", "1"))
# Invoices of erased customers are kept this long for the tax authorities.
ORDER_RETENTION_YEARS = int(os.environ.get("ORDER_RETENTION_YEARS", "10"))
ORDER_PAYMENT_MINUTES = int(os.environ.get("ORDER_PAYMENT_MINUTES", "30"))

# --- Guest order pages ---------------------------------------------------------------------
# A guest sees an order's page only in the browser that placed it, and only for this many
# hours: sessions last weeks, and the next person at a shared computer must not find the
# name, phone and address in its history. The order emails carry everything after that.
GUEST_ORDER_PAGE_HOURS = max(1, int(os.environ.get("GUEST_ORDER_PAGE_HOURS", "24")))
# Absolute links in emails.
ARKIV_SITE_URL = os.environ.get("ARKIV_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "https://shop.example")

# --- Returns -----------------------------------------------------------------------------
# The terms promise returns within 14 days of delivery. Orders record when they shipped,
# not when they arrived, so the window runs from shipping plus this many days in transit
# (standard shipping takes 3-5 working days: a week covers it, erring for the customer).
RETURN_TRANSIT_DAYS = max(0, int(os.environ.get("RETURN_TRANSIT_DAYS", "7")))

# --- Abuse limits: sign-in lockouts, form rate limits, the client address -------------
# Counts live where every process and restart sees them: failed sign-ins in the database
# (django-axes), form rate limits (and other state every process must agree on, such as
# the mail retry marker) in the "shared" cache: Redis when REDIS_URL is set, else a
# database table created by the accounts migrations. The page cache `default` stays as
# it is.
# Behind a reverse proxy, name the header it sets (e.g. X-Forwarded-For) and how many of
# our proxies append to it; without it only the socket address counts, so a forged
# X-Forwarded-For changes nothing. Sign-in lockouts and form limits use the same rule.
TRUSTED_PROXY_HEADER = os.environ.get("TRUSTED_PROXY_HEADER", "")
TRUSTED_PROXY_COUNT = max(1, int(os.environ.get("TRUSTED_PROXY_COUNT", "1")))

# --- Abuse limits: one IPv6 client is one network ---------------------------------------
# An IPv6 host is usually given a whole /64 and can pick any address in it, so limits
# count an IPv6 client by this many leading bits (128 counts single addresses).
CLIENT_IPV6_PREFIX_LENGTH = min(128, max(1, int(os.environ.get("CLIENT_IPV6_PREFIX_LENGTH", "64"))))

CACHES["shared"] = (
    {
        "BACKEND": "arkiv.cache.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
    }
    if os.environ.get("REDIS_URL")
    else {
        "BACKEND": "arkiv.cache.CountingDatabaseCache",
        "LOCATION": "arkiv_rate_limits",
    }  # table: accounts migration 0005_rate_limit_cache_table
)
RATELIMIT_USE_CACHE = "shared"
RATELIMIT_IP_META_KEY = "arkiv.limits.client_ip"
RATELIMIT_VIEW = "arkiv.limits.rate_limited"
# POSTs allowed per client address (per account for resending the confirmation link and
# changing email or password, and per target address too for password reset), as
# "count/period" (s, m, h, d).
RATE_LIMITS = {
    # A ceiling on sign-in attempts from one address whatever the email: lockouts count
    # per (email, address), so this is what stops one address trying many accounts.
    "sign_in": os.environ.get("RATE_LIMIT_SIGN_IN", "30/15m"),
    "sign_up": os.environ.get("RATE_LIMIT_SIGN_UP", "10/h"),
    "resend_verification": os.environ.get("RATE_LIMIT_RESEND_VERIFICATION", "5/h"),
    "password_reset": os.environ.get("RATE_LIMIT_PASSWORD_RESET", "5/h"),
    "contact": os.environ.get("RATE_LIMIT_CONTACT", "5/h"),
    # Both check the current password: a borrowed session must not become a guessing oracle.
    "change_email": os.environ.get("RATE_LIMIT_CHANGE_EMAIL", "5/h"),
    "change_password": os.environ.get("RATE_LIMIT_CHANGE_PASSWORD", "10/h"),
    # It checks the current password too.
    "delete_account": os.environ.get("RATE_LIMIT_DELETE_ACCOUNT", "5/h"),
    # Alerts: a visitor may name any address (it gets one confirmation a day at most).
    "alert_subscribe": os.environ.get("RATE_LIMIT_ALERT_SUBSCRIBE", "20/h"),
    # Wrong gift-card codes from one address: a ceiling on guessing.
    "gift_card_code": os.environ.get("RATE_LIMIT_GIFT_CARD_CODE", "10/h"),
}
# django-ratelimit knows memcached and django-redis by name only; Django's own RedisCache
# increments atomically and CountingDatabaseCache locks the row it counts in.
SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-ins are counted per (email, address) pair, so someone guessing at a
# customer's address from elsewhere never locks the customer out. After
# SIGN_IN_FAILURE_LIMIT failures the pair waits SIGN_IN_COOL_OFF_MINUTES; the wait
# doubles with every further round of failures (capped at a day).
SIGN_IN_FAILURE_LIMIT = int(os.environ.get("SIGN_IN_FAILURE_LIMIT", "5"))
SIGN_IN_COOL_OFF_MINUTES = int(os.environ.get("SIGN_IN_COOL_OFF_MINUTES", "15"))
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = "accounts.services.sign_in_cool_off"
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_RESET_ON_SUCCESS = True
# The sign-in and admin login forms both post the email as "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.services.sign_in_username"
AXES_CLIENT_IP_CALLABLE = "arkiv.limits.client_ip"
AXES_LOCKOUT_CALLABLE = "arkiv.limits.sign_in_locked"
# No log of successful sign-ins: an address and an IP per visit is data we do not need.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Staff sign in to the admin with a second factor (TOTP, django-otp); enrol with
# `manage.py enrol_staff_totp EMAIL`. The issuer names the shop in authenticator apps.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Arkiv")
# --- end of abuse limits ---------------------------------------------------------------

# --- Abuse limits: offers confirmation links -------------------------------------------
# Anyone can tick "offers by email" for any address at checkout: while a confirmation is
# waiting, the address gets a new link at most once in this many hours.
OPTIN_CONFIRMATION_RESEND_HOURS = max(0, int(os.environ.get("OPTIN_CONFIRMATION_RESEND_HOURS", "24")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-mailer names each recipient at INFO; addresses stay out of the logs.
        "mailer": {"level": "WARNING"},
    },
}

# -- Logs: no email addresses and no emailed-link tokens (arkiv/logredact.py) ---------
# gunicorn's loggers get the same filter in arkiv/wsgi.py (gunicorn configures them).
LOGGING["filters"] = {"redact_secrets": {"()": "arkiv.logredact.RedactSecrets"}}
LOGGING["handlers"]["console"]["filters"] = ["redact_secrets"]
LOGGING["formatters"] = {
    "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
}
LOGGING["handlers"]["django.server"] = {"class": "logging.StreamHandler", "formatter": "django.server"}
LOGGING["loggers"]["django.request"] = {"filters": ["redact_secrets"]}
LOGGING["loggers"]["django.server"] = {
    "handlers": ["django.server"],
    "level": "INFO",
    "propagate": False,
    "filters": ["redact_secrets"],
}

# -- Logs: a request id on every record; JSON lines with LOG_FORMAT=json (arkiv/logjson.py) --
# "plain" (the default, for development) or "json" (one object per line: time, level,
# logger, message, request_id). The redaction filter above stays first on each handler.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT is plain or json.")
LOGGING["filters"]["request_id"] = {"()": "arkiv.logjson.RequestIdFilter"}
LOGGING["handlers"]["console"]["filters"] = ["redact_secrets", "request_id"]
LOGGING["handlers"]["django.server"]["filters"] = ["redact_secrets", "request_id"]
if LOG_FORMAT == "json":
    from arkiv.logjson import use_json

    use_json(LOGGING)

# -- Operations: health probes, periodic jobs, deployment paths -------------------------
# /readyz gives each check (database, cache, task queue) at most this long in all.
HEALTH_CHECK_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_CHECK_TIMEOUT_SECONDS", "2"))
# Probes from a load balancer arrive over plain HTTP on the app server's own port.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# run_periodic_jobs reads mail to service@ from this mailbox every 5 minutes when set
# (imap[s]://user:password@host[:port]/MAILBOX).
SERVICE_MAIL_IMAP_URL = os.environ.get("SERVICE_MAIL_IMAP_URL", "")
# Days the delivery log (when and whether, no content) and finished task results are kept.
MAIL_LOG_DAYS = int(os.environ.get("MAIL_LOG_DAYS", "30"))
TASK_RESULT_DAYS = int(os.environ.get("TASK_RESULT_DAYS", "14"))
# A task still running after this many minutes has lost its worker (killed, out of
# memory, server gone) and is queued again; the longest task, a catalog import of
# 100,000 rows, takes under a minute. After TASK_MAX_ATTEMPTS such stalls it is failed.
TASK_STALLED_MINUTES = int(os.environ.get("TASK_STALLED_MINUTES", "30"))
TASK_MAX_ATTEMPTS = int(os.environ.get("TASK_MAX_ATTEMPTS", "3"))
# Where the file mail backend (django.core.mail.backends.filebased.EmailBackend) writes.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
# Port 465 speaks TLS from the first byte (EMAIL_USE_SSL); 587 upgrades (EMAIL_USE_TLS).
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
# Django mails a report of every server error to ADMINS (comma-separated addresses; none
# by default), from SERVER_EMAIL.
ADMINS = [("", address) for address in env_list("ADMINS")]
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# collectstatic's target, which the web server or whitenoise serves.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(STATIC_ROOT)))
MAILER_LOCK_PATH = os.environ.get("MAILER_LOCK_PATH", MAILER_LOCK_PATH)

# -- Catalog feeds: full feeds and import history --------------------------------------
# A full feed deactivates the offers of its labels that it leaves out, unless that is
# more than this share of them (a file cut short); staff may force it.
IMPORT_FULL_FEED_MAX_SHARE = float(os.environ.get("IMPORT_FULL_FEED_MAX_SHARE", "0.2"))
# Days an import run and what it changed are kept (purge_expired_records); an import
# older than this can no longer be undone.
IMPORT_HISTORY_DAYS = int(os.environ.get("IMPORT_HISTORY_DAYS", "365"))


# -- Gift cards ---------------------------------------------------------------------------
# The amounts offered on the gift-card page, and the range a buyer may type in instead.
GIFT_CARD_AMOUNTS = [
    Decimal(amount) for amount in os.environ.get("GIFT_CARD_AMOUNTS", "25,50,100").split(",") if amount.strip()
]
GIFT_CARD_MIN_AMOUNT = Decimal(os.environ.get("GIFT_CARD_MIN_AMOUNT", "10"))
GIFT_CARD_MAX_AMOUNT = Decimal(os.environ.get("GIFT_CARD_MAX_AMOUNT", "500"))
# How long a card can be spent from its issue (three years: the German standard period).
GIFT_CARD_VALID_YEARS = int(os.environ.get("GIFT_CARD_VALID_YEARS", "3"))


# --- Page copies in each server process (catalog.caching.LocalPages) -----------------
# Each server process keeps copies of the shared cache's pages it served last, up to this
# many bytes of page body (0: none). A copy is served only under the versions read from
# the shared cache on that request and never after the shared entry's expiry, so it is
# exactly as fresh as the shared entry; a hit's round trip then carries no page.
PAGE_CACHE_LOCAL_BYTES = max(0, int(os.environ.get("PAGE_CACHE_LOCAL_BYTES", str(2 * 1024 * 1024))))

"""Shopkeep settings: everything comes from SHOPKEEP_* environment variables.

The defaults are the one-machine development setup (SQLite under ./var, console e-mail).
``SHOPKEEP_ENV=production`` refuses to start unless the secret key, allowed hosts and
HTTPS cookies are real; see ``docs/operations.md`` for every variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from shopkeep.conf import (
    bind_origin,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    site_url_check,
)

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("SHOPKEEP_VAR_DIR", str(Path.cwd() / "var"))).resolve()

ENVIRONMENT = env_choice("SHOPKEEP_ENV", ("development", "production", "test"), "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = ENVIRONMENT == "test" or "pytest" in sys.modules

_DEV_SECRET = "dev-insecure-shopkeep-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SHOPKEEP_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
# Off unless asked for, also in development: Django's debug pages list every URL pattern and
# show settings to whoever hits an error; the friendly 404/500 pages are shown instead and
# tracebacks go to the console log (the django.request logger).
DEBUG = env_bool("SHOPKEEP_DEBUG", default=False)
ALLOWED_HOSTS = env_list(
    "SHOPKEEP_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("SHOPKEEP_CSRF_TRUSTED_ORIGINS")
# The public origin for absolute links (see shopkeep.core.absolute). Unset, links follow the
# request's host or, without one (workers), the address `shopkeep serve` is bound to: serve
# publishes it to its children as SHOPKEEP_SERVE_ORIGIN.
SITE_URL_CONFIGURED = bool(env_str("SHOPKEEP_SITE_URL", ""))
SITE_URL = (site_url_check(env_str("SHOPKEEP_SITE_URL")) if SITE_URL_CONFIGURED
            else site_url_check(env_str("SHOPKEEP_SERVE_ORIGIN", "") or bind_origin(
                env_str("SHOPKEEP_HOST", "127.0.0.1"),
                env_int("SHOPKEEP_PORT", 8000, minimum=1, maximum=65535)),
                name="SHOPKEEP_SERVE_ORIGIN"))

# Store domains (docs/storefront.md). With SHOPKEEP_STORE_DOMAIN=shops.example.com each store
# is also served at <slug>.shops.example.com; custom domains are verified by DNS and served
# once verified (they are checked against the database, not ALLOWED_HOSTS).
SHOPKEEP_STORE_DOMAIN = env_str("SHOPKEEP_STORE_DOMAIN", "").lower().strip(".")
if SHOPKEEP_STORE_DOMAIN:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, f".{SHOPKEEP_STORE_DOMAIN}"]
# What a custom domain's CNAME must point at: the platform's public host by default.
SHOPKEEP_CNAME_TARGET = env_str(
    "SHOPKEEP_CNAME_TARGET", urlsplit(SITE_URL).hostname or "").lower().strip(".")
# Resolvers for domain verification ("host" or "host:port"); empty: the system's resolvers.
SHOPKEEP_DNS_NAMESERVERS = env_list("SHOPKEEP_DNS_NAMESERVERS")
PLATFORM_HOSTS = frozenset(
    {urlsplit(SITE_URL).hostname or "", *(h for h in ALLOWED_HOSTS if not h.startswith("."))}
    - {"", "*"})

if PRODUCTION:
    problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET or len(set(SECRET_KEY)) < 5:
        problems.append("SHOPKEEP_SECRET_KEY must be a random string of at least 50 characters")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("SHOPKEEP_ALLOWED_HOSTS must list the site's host names (no '*')")
    if DEBUG:
        problems.append("SHOPKEEP_DEBUG must be off")
    if not SITE_URL_CONFIGURED:
        problems.append("SHOPKEEP_SITE_URL must be set to the public https:// address "
                        "(e-mailed links and the agent config use it)")
    elif not SITE_URL.startswith("https://"):
        problems.append("SHOPKEEP_SITE_URL must be an https:// URL (cookies are Secure)")
    # It would let any store aim webhooks at the platform's own network (databases, metadata
    # services): a development and test switch only.
    if env_bool("SHOPKEEP_WEBHOOK_ALLOW_PRIVATE", default=False):
        problems.append("SHOPKEEP_WEBHOOK_ALLOW_PRIVATE must be off (it lets any store send "
                        "webhooks to private and loopback addresses)")
    if problems:
        raise ImproperlyConfigured("Production mode refuses to start: " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Only for its bundled static files: /api/v1/docs serves Swagger UI from /static/ninja/
    # (no CDN, and the CSP's script-src 'self' holds) when "ninja" is an installed app.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "shopkeep.core",
    "shopkeep.accounts",
    "shopkeep.stores",
    "shopkeep.events",
    "shopkeep.catalog",
    "shopkeep.customers",
    "shopkeep.promotions",
    "shopkeep.payments",
    "shopkeep.orders",
    "shopkeep.subscriptions",
    "shopkeep.disputes",
    "shopkeep.delivery",
    "shopkeep.discord",
    "shopkeep.support",
    "shopkeep.webhooks",
    "shopkeep.notifications",
    "shopkeep.platform",
    "shopkeep.themes",
    "shopkeep.signin",
    # Bundled themes; the operator may install more (SHOPKEEP_EXTRA_THEMES, docs/themes.md).
    "shopkeep.themes.default",
    "shopkeep.themes.midnight",
    *env_list("SHOPKEEP_EXTRA_THEMES"),
    "shopkeep.storefront",
    "shopkeep.dashboard",
    "shopkeep.staff",
]

# Every middleware here is async-capable, so ASGI requests never hop to a thread per request.
MIDDLEWARE = [
    # Outermost: the request id and the HTTP metrics cover the whole stack (core/observability).
    "shopkeep.core.observability.ObservabilityMiddleware",
    # First: store hosts are routed (and custom domains validated) before get_host() runs.
    "shopkeep.themes.hosts.StoreHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "shopkeep.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shopkeep.core.middleware.OutOfRangeMiddleware",
]

ROOT_URLCONF = "shopkeep.urls"
ASGI_APPLICATION = "shopkeep.asgi.application"

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
                "shopkeep.core.context_processors.site",
                "shopkeep.dashboard.context_processors.dashboard",
                "shopkeep.webhooks.context_processors.banner",
                "shopkeep.platform.context_processors.status_banner",
            ],
        },
    }
]

DATABASES = {
    "default": parse_database_url(
        env_str("SHOPKEEP_DATABASE_URL", f"sqlite:///{VAR_DIR / 'shopkeep.sqlite3'}"),
        base_dir=Path.cwd(),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("SHOPKEEP_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"

# django-allauth: e-mail is the login, verification is mandatory, 2FA is TOTP + recovery codes.
ACCOUNT_ADAPTER = "shopkeep.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Shopkeep] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Shopkeep"
MFA_RECOVERY_CODE_COUNT = 10

EMAIL_BACKEND_NAME = env_choice("SHOPKEEP_EMAIL_BACKEND", ("console", "file", "smtp"), "console")
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}[EMAIL_BACKEND_NAME]
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("SHOPKEEP_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("SHOPKEEP_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("SHOPKEEP_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("SHOPKEEP_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SHOPKEEP_EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = env_str("SHOPKEEP_EMAIL_FROM", "Shopkeep <noreply@localhost>")

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("SHOPKEEP_TASKS_IMMEDIATE", default=False)
            else "shopkeep.core.tasks_backend.DatabaseBackend"
        ),
    }
}

# Background jobs (docs/operations.md, "Crash safety"): a claimed job holds a lease that its
# worker renews every third of it; a job whose lease ran out (the worker died) goes back to the
# queue, at most TASK_MAX_ATTEMPTS times, then it is marked failed.
TASK_LEASE_SECONDS = env_int("SHOPKEEP_TASK_LEASE_SECONDS", 60, minimum=2, maximum=3600)
TASK_MAX_ATTEMPTS = env_int("SHOPKEEP_TASK_MAX_ATTEMPTS", 5, minimum=1, maximum=1000)

# Payments (docs/payments.md). Keys that encrypt stored gateway secrets: url-safe base64 of
# 32 random bytes each; the first encrypts, all decrypt, so a new key goes first and
# `shopkeep manage reencrypt_payment_secrets` moves old rows to it. Unset: one key derived
# from SECRET_KEY (always accepted for decryption, so setting real keys later is a rotation).
PAYMENT_ENCRYPTION_KEYS = env_list("SHOPKEEP_PAYMENT_ENCRYPTION_KEYS")
# Where the stripe library sends API calls; tests point it at a local fake.
STRIPE_API_BASE = env_str("SHOPKEEP_STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
# Discord's REST API (docs/discord.md); tests point it at a local fake.
DISCORD_API_BASE = env_str("SHOPKEEP_DISCORD_API_BASE",
                           "https://discord.com/api/v10").rstrip("/")
STRIPE_TIMEOUT_SECONDS = env_int("SHOPKEEP_STRIPE_TIMEOUT_SECONDS", 20, minimum=1, maximum=120)
# PayPal's REST API: each connection is sandbox or live and goes to that mode's host; tests
# and the demo point both at the local fake with SHOPKEEP_PAYPAL_API_BASE.
PAYPAL_API_BASE = env_str("SHOPKEEP_PAYPAL_API_BASE", "").rstrip("/")
PAYPAL_SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
PAYPAL_LIVE_API_BASE = "https://api-m.paypal.com"
PAYPAL_TIMEOUT_SECONDS = env_int("SHOPKEEP_PAYPAL_TIMEOUT_SECONDS", 20, minimum=1, maximum=120)

# Customer sign-in with Discord and Steam (docs/steam.md, docs/discord.md "Sign in with
# Discord"). The platform's own Discord application (a store may configure its own under
# Settings > Sign-in) and the Steam Web API key that reads the player's persona name. The
# base URLs exist so tests can point the real client libraries at local fakes.
DISCORD_CLIENT_ID = env_str("SHOPKEEP_DISCORD_CLIENT_ID", "")
DISCORD_CLIENT_SECRET = env_str("SHOPKEEP_DISCORD_CLIENT_SECRET", "")
DISCORD_OAUTH_AUTHORIZE_URL = env_str("SHOPKEEP_DISCORD_OAUTH_AUTHORIZE_URL",
                                      "https://discord.com/oauth2/authorize")
DISCORD_OAUTH_API_BASE = env_str("SHOPKEEP_DISCORD_OAUTH_API_BASE",
                                 "https://discord.com/api/v10").rstrip("/")
STEAM_API_KEY = env_str("SHOPKEEP_STEAM_API_KEY", "")
STEAM_OPENID_URL = env_str("SHOPKEEP_STEAM_OPENID_URL",
                           "https://steamcommunity.com/openid").rstrip("/")
STEAM_API_BASE = env_str("SHOPKEEP_STEAM_API_BASE", "https://api.steampowered.com").rstrip("/")
SIGNIN_TIMEOUT_SECONDS = env_int("SHOPKEEP_SIGNIN_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
if bool(DISCORD_CLIENT_ID) != bool(DISCORD_CLIENT_SECRET):
    raise ImproperlyConfigured("SHOPKEEP_DISCORD_CLIENT_ID and SHOPKEEP_DISCORD_CLIENT_SECRET "
                               "are set together or not at all")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media"), "base_url": "/media/"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = DEBUG or TESTING
SERVESTATIC_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SHOPKEEP_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SHOPKEEP_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Agent API: requests a minute per game server before 429 (0 turns the limit off).
SHOPKEEP_AGENT_RATE_LIMIT = env_int("SHOPKEEP_AGENT_RATE_LIMIT", 600, minimum=0)
# Idle agent polls answered from memory ahead of Django's stack (delivery/fastpath.py); off
# only to measure the difference or rule it out.
SHOPKEEP_AGENT_FASTPATH = env_bool("SHOPKEEP_AGENT_FASTPATH", default=True)
# The newest agent release, told to agents in the heartbeat answer (empty: the installed
# shopkeep-agent distribution's version; delivery/versions.py).
SHOPKEEP_AGENT_LATEST_VERSION = env_str("SHOPKEEP_AGENT_LATEST_VERSION", "")

# Webhooks (docs/webhooks.md): private/loopback targets only for development and tests; plain
# http only outside production unless allowed; how long deliveries and attempts are kept.
WEBHOOK_ALLOW_PRIVATE = env_bool("SHOPKEEP_WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_ALLOW_HTTP = env_bool("SHOPKEEP_WEBHOOK_ALLOW_HTTP", default=not PRODUCTION)
WEBHOOK_RETENTION_DAYS = env_int("SHOPKEEP_WEBHOOK_RETENTION_DAYS", 30, minimum=1)
WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = env_int("SHOPKEEP_WEBHOOK_PER_ENDPOINT", 8, minimum=1,
                                             maximum=100)

# Request bodies are capped here; features with uploads raise it for their own views.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Metrics (docs/operations.md#metrics): with a token /metrics wants it as a bearer token
# everywhere; without one it answers loopback clients only, and never in production.
SHOPKEEP_METRICS_TOKEN = env_str("SHOPKEEP_METRICS_TOKEN", "")
if SHOPKEEP_METRICS_TOKEN and len(SHOPKEEP_METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("SHOPKEEP_METRICS_TOKEN must be at least 24 characters "
                               "(it is the only lock on /metrics)")

# Store approval (docs/operations.md#store-approval): on a hosted platform, a store leaves
# test mode only once platform staff approved it. Off by default: a self-hosted install's
# owner is the operator.
# Platform billing (docs/billing.md): "stripe" sells the plans defined in the staff console
# through the platform's own Stripe account and enforces their limits; "off" (self-hosting)
# leaves every feature available.
SHOPKEEP_PLATFORM_BILLING = env_choice("SHOPKEEP_PLATFORM_BILLING", ("off", "stripe"), "off")
PLATFORM_STRIPE_SECRET_KEY = env_str("SHOPKEEP_PLATFORM_STRIPE_SECRET_KEY", "")
PLATFORM_STRIPE_WEBHOOK_SECRET = env_str("SHOPKEEP_PLATFORM_STRIPE_WEBHOOK_SECRET", "")
if SHOPKEEP_PLATFORM_BILLING == "stripe" and PRODUCTION and not (
        PLATFORM_STRIPE_SECRET_KEY and PLATFORM_STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured("SHOPKEEP_PLATFORM_BILLING=stripe needs "
                               "SHOPKEEP_PLATFORM_STRIPE_SECRET_KEY and "
                               "SHOPKEEP_PLATFORM_STRIPE_WEBHOOK_SECRET")
SHOPKEEP_STORE_APPROVAL = env_bool("SHOPKEEP_STORE_APPROVAL", default=False)

LOG_FORMAT = env_choice("SHOPKEEP_LOG_FORMAT", ("plain", "json"), "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "shopkeep.core.requestid.ContextFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "shopkeep.core.requestid.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("SHOPKEEP_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                # httpx logs every webhook request at INFO; attempts are in the database.
                "httpx": {"level": "WARNING"},
                # python3-openid logs each signed field of every Steam sign-in at INFO.
                "openid": {"level": "WARNING"}},
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

os.makedirs(VAR_DIR, exist_ok=True)

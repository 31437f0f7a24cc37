"""Newsroom settings: everything that differs between machines comes from the environment.

With nothing set this is a working development site on SQLite in the project folder,
with DEBUG off. Variables (see README "Configuration" and .env.example):

- ``DEBUG``: "1"/"true" turns debug mode on.
- ``SECRET_KEY``: required when DEBUG is off.
- ``DATABASE_URL``: e.g. ``postgres://postgres@127.0.0.1:5432/newsroom``; default SQLite.
- ``ALLOWED_HOSTS``: comma-separated; defaults to localhost names.
- ``MEDIA_ROOT``: where uploads and downloaded images go; default ``media/``.
- ``REDIS_URL``: e.g. ``redis://127.0.0.1:6379/0`` caches pages in Redis; default local memory.
- ``TASKS_BACKEND``: "database" (default: background work is queued in the database and run by
  ``manage.py db_worker``) or "immediate" (run in the request, no worker; tests use it).
- Serving (README "Production deployment"): ``CSRF_TRUSTED_ORIGINS``, ``SECURE_*`` (HTTPS, HSTS,
  the proxy header), ``DB_POOL*`` and ``DB_STATEMENT_TIMEOUT_MS`` (PostgreSQL), ``REQUEST_LOG_LEVEL``;
  gunicorn's own variables are in gunicorn.conf.py.
- Login throttling (README "Security"): ``NEWSROOM_LOGIN_FAILURE_LIMIT``, ``NEWSROOM_LOGIN_COOLOFF_MINUTES``,
  ``NEWSROOM_PROXY_COUNT`` (proxies appending to X-Forwarded-For).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from newsroom.dbpool import retry_connecting

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable, "
            "or set DEBUG=1 for local development."
        )
    # Only reachable with DEBUG on: a fixed, clearly insecure development key.
    SECRET_KEY = "django-insecure-newsroom-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# Origins (scheme and host) whose form posts are accepted besides this host, e.g. https://news.example.org.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS: on by default in production (DEBUG off), off for development over plain http. Behind a
# proxy that terminates TLS, name the header it sets (X-Forwarded-Proto) so that Django knows a
# request came over https; only when the proxy always sets or strips it, or clients can spoof it.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe /healthz over plain http on the app server's own port.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].strip().upper().replace("-", "_"), "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# One year, as the browsers' preload lists require; start lower (3600) on a domain new to https.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Browser-side walls (README "Security"), on every response: public pages, admin, API, static files.
# The Content-Security-Policy (django-csp's middleware) lets pages run and style only with our own static
# files, so an injected <script>, event handler, javascript: link or style that got past the sanitizer
# does nothing. One policy for the site and the admin, and no nonces: public pages are cached whole for
# every reader (articles/cache.py), where a per-request nonce could never match the header; every script
# and style is a static file instead (tests/test_security_headers.py fails on any inline one).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],  # fonts, fetches, frames, media, workers: ours only
        # No 'unsafe-inline', 'unsafe-eval' or nonce. JSON-LD (<script type="application/ld+json">) is a
        # data block that browsers never run, so script-src does not apply to it.
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Pictures that were not downloaded are shown from their original Chinese hosts, many still on
        # plain http, and media may come from an S3 bucket or CDN: any http(s) image, but no data: or blob:.
        "img-src": ["'self'", "https:", "http:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The other headers are Django's (SecurityMiddleware, XFrameOptionsMiddleware), spelled out because tests
# check them.
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
# No address of ours goes to other sites (links to original articles, remote pictures); within the site
# the full URL (the admin's "next" and the changelist filters rely on it).
SECURE_REFERRER_POLICY = "same-origin"
# A page opened from another site cannot reach back into ours through window.opener (or the reverse).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # with CSP's frame-ancestors 'none': no framing, no clickjacking

INSTALLED_APPS = [
    # First, so that its admin templates (the dashboard on the index) override Django's.
    "articles",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "taggit",
    # Background work (articles/tasks.py): the tasks framework and its database queue + db_worker.
    "django_tasks",
    "django_tasks_db",
    # The Content-Security-Policy header (CONTENT_SECURITY_POLICY) and login throttling (AXES_*).
    "csp",
    "axes",
]

MIDDLEWARE = [
    # First: it times the whole request and sees the final status (articles/request_log.py).
    "articles.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every response, static files included (CONTENT_SECURITY_POLICY).
    "csp.middleware.CSPMiddleware",
    # Static files, before sessions and everything else: no session or user lookup for a CSS file.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "newsroom.wsgi.application"
ASGI_APPLICATION = "newsroom.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Keep each worker's connection for a minute (checked before reuse) rather than one per request.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}


def postgres_options(options=None):
    """OPTIONS for a PostgreSQL DATABASES entry: Django's connection pool (``DB_POOL``, on by
    default) and a statement timeout (``DB_STATEMENT_TIMEOUT_MS``; 0 turns it off).

    The pool is shared by a process's threads, hands out only connections that pass a check (so once
    PostgreSQL is back after a restart no request gets a dead connection), reconnects within a second
    of its return (``retry_connecting``, newsroom/dbpool.py), and makes a request wait at most ``DB_POOL_TIMEOUT`` seconds
    for a connection. The timeout cancels any query that runs longer,
    so one slow query cannot hold a worker; its default, 25 s, ends a query before gunicorn's 30 s
    worker timeout would kill the worker running it.
    """
    options = dict(options or {})
    timeout_ms = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "25000"))
    if timeout_ms > 0:
        options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout_ms}".strip()
    if env_bool("DB_POOL", default=True):
        options["pool"] = {
            "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "2")),
            # One connection per gunicorn thread for gthread workers (gunicorn.conf.py); otherwise 4, as for
            # runserver's threads and live-server tests: a sync worker uses one at a time (min_size stay open).
            "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", os.environ.get("GUNICORN_THREADS", "4"))),
            # With a connection per thread a request only waits while one is being opened (milliseconds) or while
            # PostgreSQL is down; then every thread waits this long and cached pages and /healthz queue behind
            # them: under load, a 10 s wait left /healthz unanswered for the whole outage (bench/load.py).
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "2")),
            # After an outage, and failing fast during one (DB_POOL_DOWN_TIMEOUT): see newsroom/dbpool.py.
            "reconnect_timeout": float(os.environ.get("DB_POOL_RECONNECT_TIMEOUT", "2")),
            "reconnect_failed": retry_connecting,
        }
    return options


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = postgres_options(DATABASES["default"].get("OPTIONS"))
    if "pool" in DATABASES["default"]["OPTIONS"]:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool refuses persistent connections

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes; README "Security"). Its backend goes first: it refuses a locked-out
# login before any password is checked; ModelBackend then does the real authentication.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# NEWSROOM_LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address lock that pair out for
# NEWSROOM_LOGIN_COOLOFF_MINUTES, even for the right password. Keyed on the pair, so that nobody can lock an
# editor out from everywhere by typing wrong passwords under their name; the price is that guessing from
# many addresses is slowed per address only (strong passwords: AUTH_PASSWORD_VALIDATORS).
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSROOM_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("NEWSROOM_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a successful login forgets that pair's earlier failures
# Any attempt during a lockout starts the cool-off again, so a script that keeps guessing gets no more tries.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# Failed attempts are kept with their form data, passwords masked; so is the CSRF token.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_LOCKOUT_CALLABLE = "newsroom.security.lockout_response"  # a Chinese page, HTTP 429
# Its admin (attempts: unlock by deleting one; successful logins) is registered by articles/admin/logins.py.
AXES_ENABLE_ADMIN = False
# Behind proxies that append to X-Forwarded-For (nginx: 1), how many: the address the outermost one saw
# is the client's (newsroom.security.client_ip); 0 (default) uses the connection's address.
NEWSROOM_PROXY_COUNT = int(os.environ.get("NEWSROOM_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "newsroom.security.client_ip"
AXES_USERNAME_CALLABLE = "newsroom.security.login_username"  # no 500 for a 300-character name

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# whitenoise serves STATIC_ROOT (filled by collectstatic) with far-future caching of hashed,
# compressed files. Production pages need the manifest: run collectstatic on every release.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# whitenoise's defaults, fixed when settings load (pytest-django turns DEBUG off during tests):
# in development it serves the apps' files as they change, in production what collectstatic left.
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# taggit keeps Chinese characters in tag slugs (重庆 -> "重庆"); URLs percent-encode them.
TAGGIT_CASE_INSENSITIVE = True

# Importer limits (see README "Import format").
NEWSROOM_MAX_SOURCE_BYTES = int(os.environ.get("NEWSROOM_MAX_SOURCE_BYTES", 2 * 1024 * 1024))
NEWSROOM_IMAGE_MAX_BYTES = int(os.environ.get("NEWSROOM_IMAGE_MAX_BYTES", 15 * 1024 * 1024))
NEWSROOM_IMAGE_TIMEOUT = float(os.environ.get("NEWSROOM_IMAGE_TIMEOUT", 10))
NEWSROOM_IMAGE_MAX_PIXELS = int(os.environ.get("NEWSROOM_IMAGE_MAX_PIXELS", 40_000_000))
# A stored picture is shrunk (proportions kept) to at most this many pixels, 4096 x 4096: a long
# infographic (1080 x 12000) keeps its size, a 12000 x 8000 photo becomes 5016 x 3344.
NEWSROOM_IMAGE_MAX_STORED_PIXELS = int(os.environ.get("NEWSROOM_IMAGE_MAX_STORED_PIXELS", 4096 * 4096))
# The longest line of an NDJSON dump the importer reads (a full document carries raw_source, up to
# NEWSROOM_MAX_SOURCE_BYTES, plus body and body_html); a longer line fails alone.
NEWSROOM_MAX_NDJSON_LINE_BYTES = int(os.environ.get("NEWSROOM_MAX_NDJSON_LINE_BYTES", 16 * 1024 * 1024))
# The image downloader refuses hosts that resolve to loopback, private, link-local (cloud metadata),
# shared, multicast or reserved addresses (server-side request forgery). These addresses or networks
# (comma-separated, e.g. "10.20.0.0/16,192.168.1.5") are allowed anyway, for an intranet image server;
# the tests allow 127.0.0.1, where their image server listens.
NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = env_list("NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS", [])
for _network in NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS: {_network!r} is not an IP address or network ({_error})"
        ) from None

# Background work (articles/tasks.py, README "Background work"): django-tasks, the backport of
# Django 6's tasks framework. The database backend needs no extra service and enqueues inside the
# caller's transaction; ``manage.py db_worker`` runs the queue.
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_tasks_backend = os.environ.get("TASKS_BACKEND", "database").strip().lower()
if _tasks_backend not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}, not {_tasks_backend!r}")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_tasks_backend]}}

# Django's cache: anonymous pages (articles/cache.py). Local memory belongs to one process: with
# several workers, set REDIS_URL so that a change retires every worker's pages at once.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that hangs must not hang the site: give up quickly and render from the database.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "newsroom"}}
# How long a cached page may be served (seconds); a scheduled article's time shortens it.
NEWSROOM_PAGE_CACHE_SECONDS = int(os.environ.get("NEWSROOM_PAGE_CACHE_SECONDS", 300))

# Signed preview links for unpublished articles stay valid this long (seconds).
NEWSROOM_PREVIEW_MAX_AGE = int(os.environ.get("NEWSROOM_PREVIEW_MAX_AGE", 2 * 24 * 3600))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "articles.request_log.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "requests": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # One JSON line per request on stdout (articles/request_log.py); WARNING or higher silences it.
    "loggers": {
        "newsroom.requests": {
            "handlers": ["requests"],
            "level": os.environ.get("REQUEST_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}

# --- Object storage (S3) -------------------------------------------------------------------------------------
# Media (uploads, downloaded pictures and their renditions) go to an S3-compatible bucket through
# django-storages (newsroom/storage.py) when NEWSROOM_S3_BUCKET (or AWS_STORAGE_BUCKET_NAME) is set;
# otherwise to MEDIA_ROOT on the file system. Only STORAGES["default"] changes: "staticfiles" is kept.
# See README "Object storage (S3)". Every variable below is optional except the bucket:
# - NEWSROOM_S3_ENDPOINT_URL (or AWS_S3_ENDPOINT_URL): a non-AWS service, e.g. https://minio.example:9000;
# - NEWSROOM_S3_REGION (or AWS_S3_REGION_NAME); NEWSROOM_S3_ADDRESSING_STYLE: "path" or "virtual";
# - NEWSROOM_S3_ACCESS_KEY_ID / NEWSROOM_S3_SECRET_ACCESS_KEY: else boto3's own chain (AWS_ACCESS_KEY_ID...);
# - NEWSROOM_S3_PREFIX: a folder inside the bucket for every key (e.g. "media");
# - NEWSROOM_S3_CUSTOM_DOMAIN: the public host (CDN or bucket website) that URLs use, e.g. img.example.com;
# - NEWSROOM_S3_ACL: a canned ACL sent with every upload (e.g. public-read); default none: a bucket policy
#   makes the pictures public (buckets with ACLs disabled refuse uploads that carry one);
# - NEWSROOM_S3_SIGNED_URLS: "1" for presigned URLs (private bucket), valid NEWSROOM_S3_SIGNED_URL_SECONDS.
#   Off by default: published pictures are public, and stored page documents and cached pages keep URLs
#   far longer than any signature lasts;
# - NEWSROOM_S3_CACHE_CONTROL: the Cache-Control header stored with each object.
NEWSROOM_S3_BUCKET = os.environ.get("NEWSROOM_S3_BUCKET") or os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if NEWSROOM_S3_BUCKET:
    _s3_options = {
        "bucket_name": NEWSROOM_S3_BUCKET,
        "endpoint_url": os.environ.get("NEWSROOM_S3_ENDPOINT_URL") or os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("NEWSROOM_S3_REGION") or os.environ.get("AWS_S3_REGION_NAME") or None,
        "location": os.environ.get("NEWSROOM_S3_PREFIX", "").strip("/"),
        "custom_domain": os.environ.get("NEWSROOM_S3_CUSTOM_DOMAIN", "").strip().rstrip("/") or None,
        "default_acl": os.environ.get("NEWSROOM_S3_ACL") or None,
        "querystring_auth": env_bool("NEWSROOM_S3_SIGNED_URLS"),
        "querystring_expire": int(os.environ.get("NEWSROOM_S3_SIGNED_URL_SECONDS", 3600)),
        "signature_version": "s3v4",  # signed URLs: AWS's newer regions and R2/MinIO/OSS accept SigV4
        # As on the file system: a name already taken gets a suffix instead of replacing another row's file.
        "file_overwrite": False,
        "object_parameters": {"CacheControl": os.environ.get("NEWSROOM_S3_CACHE_CONTROL", "public, max-age=86400")},
    }
    if os.environ.get("NEWSROOM_S3_ADDRESSING_STYLE"):
        _s3_options["addressing_style"] = os.environ["NEWSROOM_S3_ADDRESSING_STYLE"]
    if os.environ.get("NEWSROOM_S3_ACCESS_KEY_ID"):
        _s3_options["access_key"] = os.environ["NEWSROOM_S3_ACCESS_KEY_ID"]
        _s3_options["secret_key"] = os.environ.get("NEWSROOM_S3_SECRET_ACCESS_KEY", "")
    STORAGES = {**STORAGES, "default": {"BACKEND": "newsroom.storage.S3MediaStorage", "OPTIONS": _s3_options}}
# --- end of object storage -----------------------------------------------------------------------------------

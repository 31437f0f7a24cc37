"""Settings for ``make bench`` only: the project's settings, a throwaway database, a fixed key.

Never use these to serve anything: the secret key is public.

- ``BENCH_DB``: the SQLite file to benchmark against (default ``<tmp>/newsroom-bench.sqlite3``);
  ignored when ``DATABASE_URL`` is set (then that database is used, e.g. PostgreSQL).
"""

import os
import tempfile

# newsroom.settings refuses to start without a key when DEBUG is off; give it one to get past that.
BENCH_SECRET_KEY = "bench-only-not-secret-7f3c1e9a0b5d4c2e8a6f1d3b9c7e5a2f"
os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)

from newsroom.settings import *  # noqa: E402,F403
from newsroom.settings import DATABASES  # noqa: E402

ROOT_URLCONF = "bench.urls"
WSGI_APPLICATION = "bench.wsgi.application"
DEBUG = False
SECRET_KEY = BENCH_SECRET_KEY
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# Plain http on loopback, and no collectstatic: no https redirect, static URLs without the manifest.
SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

BENCH_DB = os.environ.get("BENCH_DB") or os.path.join(tempfile.gettempdir(), "newsroom-bench.sqlite3")
if not os.environ.get("DATABASE_URL"):
    DATABASES = {
        **DATABASES,
        "default": {
            **DATABASES["default"],
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BENCH_DB,
        },
    }

# Quiet: only errors, and no per-request 404 warnings in the middle of the table.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}

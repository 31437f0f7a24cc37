"""Django's PostgreSQL connection pool while PostgreSQL is away: retry at once, fail fast meanwhile.

``retry_connecting`` is the pool's ``reconnect_failed`` (settings.py): psycopg_pool calls it when it
has tried to replace a lost connection for ``DB_POOL_RECONNECT_TIMEOUT`` seconds without success.
psycopg_pool retries after 1, 2, 4, 8... seconds for ``reconnect_timeout`` (5 minutes by default) while
the requests wait, so after a 10-second restart the next try could come 8 seconds after PostgreSQL is
back. Here attempts give up after ``DB_POOL_RECONNECT_TIMEOUT`` (2 s) and a new one starts at once
(``check()`` lets an empty pool grow): the site serves again a second after PostgreSQL does.

Meanwhile the pool is known to be down, so a request stops waiting for a connection after
``DB_POOL_DOWN_TIMEOUT`` seconds (0.2) instead of ``DB_POOL_TIMEOUT`` (2): each worker is then free
for the next request in a fraction of a second, cached pages keep being served, and ``/healthz``
answers 503 instead of queueing behind requests that each hold a sync worker for 2 s (``make load``).
The first connection Django gets from the pool again (``connection_created``) restores the timeout.
"""

import os

from django.db.backends.signals import connection_created

_NORMAL_TIMEOUT = "_newsroom_normal_timeout"


def down_timeout() -> float:
    return float(os.environ.get("DB_POOL_DOWN_TIMEOUT", "0.2"))


def retry_connecting(pool):
    """The pool's ``reconnect_failed``: fail fast while it is down, and try again at once."""
    fail_fast(pool)
    pool.check()


def fail_fast(pool):
    """Make requests wait at most ``DB_POOL_DOWN_TIMEOUT`` seconds for a connection until one is made again."""
    if getattr(pool, _NORMAL_TIMEOUT, None) is None:
        setattr(pool, _NORMAL_TIMEOUT, pool.timeout)
    pool.timeout = min(pool.timeout, down_timeout())


def restore_timeout(pool):
    """The pool works again: requests wait ``DB_POOL_TIMEOUT`` for a connection, as before the outage."""
    normal = getattr(pool, _NORMAL_TIMEOUT, None)
    if normal is not None:
        pool.timeout = normal
        setattr(pool, _NORMAL_TIMEOUT, None)


def _connected(sender, connection, **kwargs):
    if connection.vendor == "postgresql" and connection.settings_dict.get("OPTIONS", {}).get("pool"):
        restore_timeout(connection.pool)


connection_created.connect(_connected, dispatch_uid="newsroom.dbpool.restore_timeout")

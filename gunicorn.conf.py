"""gunicorn's settings for ``make serve``: gunicorn reads ./gunicorn.conf.py when started here.

Like newsroom/settings.py, everything comes from the environment (README "Production deployment"):

- ``HOST``, ``PORT``: where to listen (default 127.0.0.1:8000; ``HOST=0.0.0.0`` when the load
  balancer is on another machine).
- ``WEB_CONCURRENCY``: worker processes; default 2 x cores + 1, at most 8 (each worker holds its
  own copy of the app: some 150 MB resident at its peak in make bench, part of it shared with the master).
- ``GUNICORN_THREADS``: threads per worker (default 1: sync workers, one request at a time each).
  More than 1 turns them into gthread workers. ``DB_POOL_MAX_SIZE`` defaults to the same number
  (settings.py). Why sync by default: behind the load balancer (which buffers slow clients), the
  cached article page at 64 connections on 2 cores had a p99 of 28-49 ms with 5 sync workers and
  80-295 ms with 5 gthread workers x 4 threads (keep-alive 5 s or 0), although the medians were
  alike: a gthread worker keeps every connection it accepted, so one worker ends up serving 20 of
  them with its share of the cores while another idles; sync workers take requests from one
  listen queue in order (README "Performance").
- ``GUNICORN_TIMEOUT``: seconds before a worker that stopped answering its master is restarted
  (default 30; a sync worker busy with one request that long is killed). Slow queries are bounded
  by ``DB_STATEMENT_TIMEOUT_MS`` (default 25 s, under it) first.
- ``GUNICORN_ACCESS_LOG``: where the access log goes (default ``-``, stdout; empty turns it off;
  the JSON request log of articles/request_log.py goes to stdout too).
- ``FORWARDED_ALLOW_IPS`` (gunicorn's own): proxies trusted for X-Forwarded-* headers.
"""

import gc
import os

MAX_WORKERS = 8

wsgi_app = "newsroom.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * len(os.sched_getaffinity(0)) + 1, MAX_WORKERS))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"  # gunicorn runs gthread workers instead when threads > 1
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# gthread workers only (sync workers close each connection after its response).
keepalive = 5
# Load the app once, in the master, and fork the workers from it: a worker (re)starts in milliseconds
# instead of the seconds Django and the templates take to load, and they share that memory.
# Releases restart gunicorn (a HUP would keep the old code).
preload_app = True
# Restart each worker after some thousands of requests, so a slow leak never grows. The jitter is wide so
# that workers sharing the load evenly do not restart together (make load: with 5000 +/- 500, two workers
# at 230 requests/s each went at once every 20 s and requests waited seconds for them to boot).
max_requests = 10000
max_requests_jitter = 5000

# gunicorn >= 25's control socket (gunicornc) defaults to one path per user: two instances on one
# machine (two ports) would take it from each other. Nothing here uses it.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# The combined format plus the duration in ms and the request id shared with the JSON log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'


# Python's garbage collector visits every object at each full collection: with the app loaded, some 266,000, a
# 60 ms pause in the worker (and a write to each object, so its page is copied from the master's). Such pauses made
# the cached article page's p99 at 64 connections 56-89 ms (six runs of make bench, with workers restarted after
# max_requests inside them). The objects the master loaded are frozen before each fork (gc.freeze: never visited
# again, as Python's documentation of it describes for forking servers): p99 34-36 ms, a quarter more requests
# per second.
def pre_fork(server, worker):
    gc.freeze()

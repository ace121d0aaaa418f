"""gunicorn settings for an Arkiv app server:

    gunicorn -c deploy/gunicorn.conf.py arkiv.wsgi

Command-line options override these (the cluster test passes --bind and --workers).

Logs: the error log on stderr and an access log on stdout, both one JSON object per line
when LOG_FORMAT=json (as the shop's own logs), through arkiv.serverlog.GunicornLogger.
The access log names method, path, status, size, duration and the request id; never the
query string, the client's address, its user agent or referrer, and link tokens and
email addresses in a path are redacted.

Shutdown: on SIGTERM (systemd's stop, `docker stop`, a deploy) gunicorn stops accepting
connections, lets each worker finish the request it is serving for up to
graceful_timeout seconds, then ends the workers. HAProxy sees the closed port at once
and sends new requests to the other servers. Keep graceful_timeout below the process
manager's own stop timeout (TimeoutStopSec=30 in deploy/systemd, stop_grace_period in
deploy/compose.yaml), and above the slowest request you expect (a checkout waits at most
STRIPE_TIMEOUT_SECONDS for the processor). SIGHUP reloads the code with new workers and
drops no request.
"""

import os

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
# About two per core; WEB_CONCURRENCY is the name platforms use for it.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# A worker silent for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Let go of a browser's idle keep-alive connection quickly; HAProxy opens new ones cheaply.
keepalive = 2
# Each worker is replaced after about this many requests (jitter keeps them from
# restarting together), so a slow leak can never grow without bound; 0 turns it off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
logger_class = "arkiv.serverlog.GunicornLogger"

# gunicorn's control socket (gunicornc) only where a path is given: by default every
# server run by one user would share $HOME/.gunicorn/gunicorn.ctl.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def on_starting(server):
    """Refuse to start several workers on a page cache each process keeps for itself:
    each would show its own stale pages after a change made through another
    (`check --deploy` refuses it too, as catalog.E001)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkiv.settings")
    from django.conf import settings

    from arkiv.cache import PER_PROCESS_CACHES

    backend = settings.CACHES["default"]["BACKEND"]
    if server.cfg.workers > 1 and not settings.DEBUG and backend in PER_PROCESS_CACHES:
        raise SystemExit(
            f"Refusing to start {server.cfg.workers} workers on a page cache each process keeps for itself "
            f"({backend.rsplit('.', 1)[-1]}): set REDIS_URL, or leave PAGE_CACHE unset for the database cache."
        )

"""Probes for load balancers and process managers.

/healthz says the process answers and touches nothing else, so a slow database never
gets a healthy server restarted. /readyz says whether this server can serve the shop:
every database, every cache and the task queue are reached, each within
HEALTH_CHECK_TIMEOUT_SECONDS, so a database or Redis that accepts a connection and then
never answers makes the probe fail rather than hang.

Load balancers and orchestrators probe a server by its own address, which is not one of
ALLOWED_HOSTS, over plain HTTP: ProbeMiddleware answers both paths before the host is
checked and before any session, CSRF, sign-in or rate-limit middleware runs, and after
the middleware that sets the security headers. Neither probe reads or creates a
session or sets a cookie, and no cache may keep them."""

import contextvars
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import JsonResponse
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@xframe_options_deny
@require_safe
def healthz(request):
    """The process is up: 200, without touching the database, cache or queue."""
    return JsonResponse({"status": "ok"})


@never_cache
@xframe_options_deny
@require_safe
def readyz(request):
    """Every database, cache and the task queue reachable: 200 naming each check, else
    503 naming what failed."""
    checks = [(f"database:{alias}", _database_check(alias)) for alias in connections]
    checks += [(f"cache:{alias}", _cache_check(alias)) for alias in settings.CACHES]
    checks.append(("tasks", _task_queue_check))
    # What lives in this process or in a local SQLite file cannot hang on a network and
    # is checked in the request's own thread, on its own connection; the rest is checked
    # in threads against the deadline.
    local = {name for name, _ in checks if _is_local(name)}
    results = {name: _outcome(name, check) for name, check in checks if name in local}
    results |= run_checks(
        [(name, check) for name, check in checks if name not in local], timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS
    )
    failed = sorted(name for name, result in results.items() if result != "ok")
    if failed:
        # The reason for each failure is in the log; the body names only what failed.
        logger.warning("Not ready: %s", ", ".join(f"{name} ({results[name]})" for name in failed))
    body = {"status": "fail" if failed else "ok", "checks": {name: results[name] for name in sorted(results)}}
    if failed:
        body["failed"] = failed
    response = JsonResponse(body, status=503 if failed else 200)
    if failed:
        # An outage is a warning, not a server error: probes every few seconds must not
        # mail a report to ADMINS each time.
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request, level="warning"
        )
    return response


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Answers /healthz and /readyz whatever the Host header says (the probe's answer
    names no host and links nowhere), so a probe by IP address is not a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)


def run_checks(checks, *, timeout):
    """Run each (name, check) in its own thread, all at once, and wait at most `timeout`
    seconds in all. A check that returned is "ok"; one that raised is "error"; one still
    running at the deadline is "timeout" (its thread is left to finish on its own)."""
    results = {}
    threads = []
    for name, check in checks:
        # Each thread runs in a copy of the request's context: its log records keep the request id.
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(_run_one, name, check, results), daemon=True, name=f"readyz-{name}"
        )
        thread.start()
        threads.append((name, thread))
    deadline = time.monotonic() + timeout
    for _name, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, "timeout") for name, _ in threads}


def _run_one(name, check, results):
    try:
        results[name] = _outcome(name, check)
    finally:
        # Connections are per thread: those this check opened are closed with it.
        for connection in connections.all(initialized_only=True):
            connection.close()


def _outcome(name, check):
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        return "error"
    return "ok"


def _is_local(name):
    kind, _, alias = name.partition(":")
    if kind == "database":
        return connections[alias].vendor == "sqlite"
    if kind == "cache":
        backend = settings.CACHES[alias]["BACKEND"]
        if backend.endswith(("LocMemCache", "DummyCache")):
            return True
        from django.core.cache.backends.db import DatabaseCache

        return isinstance(caches[alias], DatabaseCache) and connections["default"].vendor == "sqlite"
    return _tasks_in_database() and connections["default"].vendor == "sqlite"


def _tasks_in_database():
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def _database_check(alias):
    def check():
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return check


def _cache_check(alias):
    def check():
        cache = caches[alias]
        key = f"arkiv:readyz:{uuid.uuid4().hex}"
        cache.set(key, "1", 10)
        if cache.get(key) != "1":
            raise RuntimeError(f"cache {alias} did not keep a value")
        cache.delete(key)

    return check


def _task_queue_check():
    if _tasks_in_database():
        from django_tasks_db.models import DBTaskResult

        # The queue is a table: reading one row proves the workers' table is there.
        DBTaskResult.objects.only("pk").first()
        return
    backend = settings.TASKS["default"]["BACKEND"]
    if backend == "django_tasks_rq.RQBackend":
        import django_rq

        # The queue is a Redis list: the queue's own connection must answer.
        django_rq.get_queue("default").connection.ping()
    # The immediate backend runs tasks in the request and needs nothing; a queue of
    # another backend (Celery) is not checked here.

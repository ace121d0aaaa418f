"""Probes for load balancers and process managers.

/healthz says the process answers and touches nothing else, so a slow database never
gets a healthy server restarted. /readyz says whether this server can serve the shop:
every database, every cache and the task queue are reached, each within
HEALTH_CHECK_TIMEOUT_SECONDS, so a database or Redis that accepts a connection and then
never answers makes the probe fail rather than hang.

Neither reads or creates a session, sets a cookie or counts against a rate limit; both
pass through the usual middleware, so they carry the same security headers as every
page, and no cache may keep them."""

import contextvars
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """The process is up: 200, without touching the database, cache or queue."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Every database, cache and the task queue reachable: 200 naming each check, else
    503 naming what failed."""
    checks = [(f"database:{alias}", _database_check(alias)) for alias in connections]
    checks += [(f"cache:{alias}", _cache_check(alias)) for alias in settings.CACHES]
    checks.append(("tasks", _task_queue_check))
    results = run_checks(checks, timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    failed = sorted(name for name, result in results.items() if result != "ok")
    if failed:
        # The reason for each failure is in the log; the body names only what failed.
        logger.warning("Not ready: %s", ", ".join(f"{name} ({results[name]})" for name in failed))
    body = {"status": "fail" if failed else "ok", "checks": {name: results[name] for name in sorted(results)}}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


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
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        results[name] = "error"
    else:
        results[name] = "ok"


def _database_check(alias):
    def check():
        # A connection of this thread only, closed again: the probe holds no connection.
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            connection.close()

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
    from django_tasks import task_backends

    backend = task_backends["default"]
    try:
        from django_tasks_db import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - django-tasks-db is a requirement
        DatabaseBackend = None
    if DatabaseBackend is not None and isinstance(backend, DatabaseBackend):
        # The queue is a table: reading one row proves the worker's table is there.
        try:
            DBTaskResult.objects.only("pk").first()
        finally:
            for connection in connections.all(initialized_only=True):
                connection.close()

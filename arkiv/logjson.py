"""A request id on every log record, and logs as one JSON object per line.

The request id comes from the X-Request-ID header a load balancer or proxy sets, when it
is well formed, so one id follows a request through every server; otherwise a new one
is made. It is sent back in the response's X-Request-ID and attached to every record
logged while the request is served (a context variable, so threads and async code each
see their own). With LOG_FORMAT=json the console handler writes each record as JSON
(python-json-logger) with time, level, logger, message and request_id; the redaction
filter (arkiv/logredact.py) still runs first, so no address or link token gets in.

Work a request hands to the task worker carries the id along: the mail delivery task is
enqueued with the request's id and logs under it (bound_request_id), so a request and
the delivery of the mail it queued share one id. gunicorn's own access and error logs
use the same format (arkiv/serverlog.py, deploy/gunicorn.conf.py)."""

import contextlib
import contextvars
import logging
import os
import re
from datetime import UTC, datetime

from django.utils.log import log_response
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, as UUIDs and proxies' ids are made of: nothing
# that could break a log line or smuggle text into it.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")

request_id = contextvars.ContextVar("request_id", default=None)


def incoming_request_id(value):
    """The header's id if it is well formed, else a new one: 32 random hex digits, as
    uuid4().hex looks, from os.urandom directly (building the UUID cost several times
    more, on every request)."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return os.urandom(16).hex()


@contextlib.contextmanager
def bound_request_id(value):
    """Log under `value` (a request id carried into a task) for the block; a missing or
    malformed one leaves the records without an id."""
    token = request_id.set(value if value and _WELL_FORMED.fullmatch(str(value)) else None)
    try:
        yield
    finally:
        request_id.reset(token)


class RequestIdMiddleware:
    """Outermost middleware: every record logged while a request is served, by any
    middleware or view, carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django logs an error response a view returned after the middleware has
                # finished; logged here, the record still carries the id (and Django,
                # seeing it logged, does not log it twice).
                log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Adds record.request_id: the id of the request being served, or None outside one
    (management commands, the task worker)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC offset), level, logger, message,
    request_id, and the traceback as exc_info when there is one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        # Django attaches the request object to some records; it is not log data.
        log_record.pop("request", None)
        log_record.pop("server_time", None)


def use_json(logging_config):
    """Switch a LOGGING dict's console output to JSON lines, keeping its filters (the
    redaction filter first)."""
    logging_config.setdefault("formatters", {})["json"] = {"()": "arkiv.logjson.JsonFormatter"}
    for name in ("console", "django.server"):
        handler = logging_config["handlers"].get(name)
        if handler is not None:
            handler["formatter"] = "json"
    # Django's own default configuration gives its "django" logger a plain console
    # handler when DEBUG is on; every line must be JSON, so that logger keeps only its
    # error mail to ADMINS (as Django configures it) and propagates to our console.
    logging_config["filters"]["require_debug_false"] = {"()": "django.utils.log.RequireDebugFalse"}
    logging_config["handlers"]["mail_admins"] = {
        "level": "ERROR",
        "filters": ["require_debug_false", "redact_secrets"],
        "class": "django.utils.log.AdminEmailHandler",
    }
    logging_config["loggers"]["django"] = {"handlers": ["mail_admins"], "level": "INFO"}
    return logging_config

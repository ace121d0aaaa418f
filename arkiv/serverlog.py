"""gunicorn's own logs (the access log and the error log) in the shop's format: one JSON
object per line with LOG_FORMAT=json, plain lines otherwise; either way with no personal
data. deploy/gunicorn.conf.py names this class as gunicorn's logger_class.

An access record has method, path, status, bytes, duration_ms and request_id (the id the
shop answered with in X-Request-ID, the same one its own records of that request carry).
It leaves out the query string (a search phrase, a token someone pasted), the client's
address, user agent and referrer; link tokens and email addresses in the path are
redacted (arkiv/logredact.py)."""

import logging
import os

from gunicorn import glogging

from arkiv.logjson import JsonFormatter, RequestIdFilter
from arkiv.logredact import RedactSecrets, redact


def _json():
    return os.environ.get("LOG_FORMAT", "plain").strip().lower() == "json"


class GunicornLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecrets())
                handler.addFilter(RequestIdFilter())
                if _json():
                    handler.setFormatter(JsonFormatter())
                elif log is self.access_log:
                    handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] %(message)s"))

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = {name.lower(): value for name, value in resp.headers}
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": redact(environ.get("PATH_INFO", "")),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id"),
        }
        self.access_log.info(
            "%s %s %s %sB %sms %s",
            fields["method"],
            fields["path"],
            fields["status"],
            fields["bytes"],
            fields["duration_ms"],
            fields["request_id"] or "-",
            extra=fields,
        )

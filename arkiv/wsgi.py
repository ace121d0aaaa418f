"""WSGI entry point: `gunicorn arkiv.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkiv.settings")
application = get_wsgi_application()

from arkiv.logredact import install as _redact_logs  # noqa: E402 - after Django is set up

_redact_logs()

"""WSGI entry point: `gunicorn arkiv.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkiv.settings")
application = get_wsgi_application()

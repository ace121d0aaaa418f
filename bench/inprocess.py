"""What a benchmark that runs the shop in its own process sets first: production-like
settings from the environment, and a fresh SQLite database in a scratch folder unless
DATABASE_URL names one."""

import os
import tempfile
from pathlib import Path

SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "arkiv.settings",
    "DEBUG": "0",
    "SECURE_HTTPS": "0",
    "LOG_LEVEL": "WARNING",
    "SECRET_KEY": "benchmark-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "testserver",
}


def prepare(database_name, **extra):
    """Set the environment for Django (SETTINGS, then extra) and return the scratch folder."""
    work = Path(tempfile.mkdtemp())
    os.environ.update({**SETTINGS, **extra})
    os.environ.setdefault("SQLITE_PATH", str(work / database_name))
    return work

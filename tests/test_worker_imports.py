"""What a server process loads: the payment library only once a payment is taken, and
never the async HTTP client it does not use (aiohttp, 8 MB a worker where a test-only
package installed it). Each check runs in a fresh process, as a gunicorn worker starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loaded_after(code):
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        f"{code}\n"
        "print(' '.join(name for name in ('stripe', 'aiohttp') if sys.modules.get(name)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "arkiv.settings", "DEBUG": "1", "PAGE_CACHE": "locmem"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_a_server_process_that_has_taken_no_payment_has_not_loaded_the_payment_library():
    assert loaded_after("Client().get('/healthz')") == set()


def test_a_server_that_took_a_payment_has_not_loaded_an_async_http_client_it_never_uses():
    pytest.importorskip("aiohttp")  # only where something installed it
    loaded = loaded_after("from orders import gateway\ngateway._client()")
    assert loaded == {"stripe"}

"""For those who run Redis, the task queue can be RQ (TASKS_BACKEND=django_tasks_rq.RQBackend):
the shop enqueues in Redis and a separate `manage.py rqworker` process does the work.
Real processes, a real redis-server and a real SMTP server; the shop's database is a
SQLite file both processes open."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.catalog.test_shared_page_cache import redis_url  # noqa: F401 (fixture)
from tests.servers import closed_port
from tests.test_mail_outage import Inbox

ROOT = Path(__file__).resolve().parent.parent
RQ = "django_tasks_rq.RQBackend"


@pytest.fixture
def inbox():
    port = closed_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def shop(tmp_path, redis_url, inbox):  # noqa: F811
    """Runs manage.py commands as separate processes of one shop on the RQ backend."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PAGE_CACHE", "EMAIL_BACKEND"}}
    env |= {
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "arkiv.settings",
        "SQLITE_PATH": str(tmp_path / "shop.sqlite3"),
        "REDIS_URL": redis_url,
        "TASKS_BACKEND": RQ,
        "EMAIL_DELIVERY_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(inbox.port),
    }

    def manage(*args, timeout=120, **extra):
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    manage("migrate", "-v0", timeout=300)
    manage.database = tmp_path / "shop.sqlite3"
    return manage


def outbox_size(database):
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM mailer_message").fetchone()[0]


SEND = "from django.core.mail import send_mail; send_mail('Your order 1042', 'Thank you.', None, ['buyer@example.com'])"


def test_mail_sent_by_the_shop_waits_in_redis_until_the_rq_worker_delivers_it(shop, inbox, redis_url):  # noqa: F811
    import redis

    shop("shell", "-c", SEND)

    # Queued, not sent: the shop process only put a job in Redis.
    assert inbox.messages == []
    assert outbox_size(shop.database) == 1
    assert redis.Redis.from_url(redis_url).llen("rq:queue:default") == 1

    shop("rqworker", "--burst", "--with-scheduler", "--job-class", "django_tasks_rq.Job", "default")

    assert [(to, message["Subject"]) for to, message in inbox.messages] == [(["buyer@example.com"], "Your order 1042")]
    assert outbox_size(shop.database) == 0
    assert redis.Redis.from_url(redis_url).llen("rq:queue:default") == 0


def test_with_the_queue_s_redis_down_the_message_waits_in_the_outbox_and_readiness_names_the_queue(shop, inbox):
    down = f"redis://127.0.0.1:{closed_port()}/0"

    # Enqueueing fails at once (connection refused), the visitor's request is not troubled
    # and the message stays in the outbox for the next delivery run.
    shop("shell", "-c", SEND, REDIS_URL=down)
    assert outbox_size(shop.database) == 1
    assert inbox.messages == []

    probe = (
        "import json; from django.test import Client; r = Client().get('/readyz');"
        "print(json.dumps([r.status_code, json.loads(r.content)]))"
    )
    status, body = json.loads(shop("shell", "-c", probe, REDIS_URL=down).stdout.strip().splitlines()[-1])
    assert status == 503
    assert "tasks" in json.dumps(body)


def test_the_rq_backend_without_redis_is_refused_with_a_clear_message(shop):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        shop("check", REDIS_URL="")
    assert "TASKS_BACKEND=django_tasks_rq.RQBackend needs REDIS_URL." in refused.value.stderr

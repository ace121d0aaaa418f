"""The cluster fixture: every process of a multi-server setup on loopback ports, against
a fresh PostgreSQL database made from DATABASE_URL (tests/cluster/harness.py)."""

import logging
import os
import shutil
import subprocess
import sys

import pytest
import requests
from aiosmtpd.controller import Controller

from tests.cluster.harness import (
    ROOT,
    SIGN_IN_LIMIT,
    WORKERS,
    Cluster,
    Inbox,
    admin,
    database_urls,
    server_states,
    skip,
    wait_for,
)
from tests.conftest import _required


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Runs only when asked for (make cluster-test, make soak); ARKIV_REQUIRE_CLUSTER then
    # turns a missing haproxy, redis-server or PostgreSQL into a failure.
    if not _required("ARKIV_CLUSTER"):
        pytest.skip("the multi-server test runs with `make cluster-test` (ARKIV_CLUSTER=1)")
    for program in ("redis-server", "haproxy"):
        if not shutil.which(program):
            skip(f"needs {program} (apt-get install {program})")
    base_url, db_url, db_name = database_urls()
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PAGE_CACHE", "TASKS_BACKEND", "EMAIL_BACKEND", "ALLOWED_HOSTS", "MEDIA_ROOT"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="cluster-test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_HTTPS="0",
        DATABASE_URL=db_url,
        REDIS_URL=f"redis://127.0.0.1:{cluster.ports['redis']}/0",
        TRUSTED_PROXY_HEADER="X-Forwarded-For",
        STRIPE_API_BASE=cluster.url("sandbox"),
        STRIPE_SECRET_KEY="sk_test_cluster",
        STRIPE_WEBHOOK_SECRET="whsec_cluster",
        ARKIV_SITE_URL=cluster.url("haproxy"),
        # The workers deliver through a real SMTP server in this process (cluster.inbox).
        EMAIL_DELIVERY_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(cluster.ports["smtp"]),
        MAIL_RETRY_SECONDS="2",
        MEDIA_ROOT=str(cluster.tmp / "media"),
        STATIC_MANIFEST="0",
        WHITENOISE_USE_FINDERS="1",
        RATE_LIMIT_SIGN_IN="1000/15m",
        SIGN_IN_FAILURE_LIMIT=str(SIGN_IN_LIMIT),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cluster.env = env
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command
    cluster.inbox = Inbox()
    smtp = Controller(cluster.inbox, hostname="127.0.0.1", port=cluster.ports["smtp"])
    smtp.start()
    admin(base_url, f'CREATE DATABASE "{db_name}"')
    try:
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        cluster.start(
            "redis",
            ["redis-server", "--port", str(cluster.ports["redis"]), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
        )
        for name in ("app1", "app2"):
            cluster.start_app(name)
        for name in WORKERS:
            cluster.start_worker(name)
        cluster.start(
            "sandbox",
            [sys.executable, "manage.py", "run_payment_sandbox", "--port", str(cluster.ports["sandbox"])]
            + ["--webhook-url", f"{cluster.url('haproxy')}/orders/webhooks/stripe/"],
        )
        haproxy_env = {
            **env,
            "ARKIV_LISTEN": f"127.0.0.1:{cluster.ports['haproxy']}",
            "ARKIV_STATS": f"127.0.0.1:{cluster.ports['stats']}",
            "ARKIV_APP1": f"127.0.0.1:{cluster.ports['app1']}",
            "ARKIV_APP2": f"127.0.0.1:{cluster.ports['app2']}",
            "ARKIV_HOST": "127.0.0.1",
            "ARKIV_CHECK_INTER": "300ms",
            "ARKIV_LOG_LEVEL": "info",
        }
        cluster.start("haproxy", ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], haproxy_env)
        for name in ("app1", "app2"):
            wait_for(
                lambda n=name: requests.get(f"{cluster.url(n)}/readyz", timeout=5).ok,
                f"{name} ready (see {cluster.tmp})",
            )
        wait_for(
            lambda: server_states(cluster) == {"app1": "UP", "app2": "UP"},
            f"HAProxy to see both servers (see {cluster.tmp})",
        )
        wait_for(lambda: requests.get(cluster.url("sandbox"), timeout=5) is not None, "the payment sandbox")
        yield cluster
    finally:
        cluster.stop_all()
        smtp.stop()
        admin(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

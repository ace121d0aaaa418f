"""Settings come from the environment, and production's defaults are the secure ones."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "SECRET_KEY": "a-production-like-secret-key-with-plenty-of-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "shop.example",
    "DATABASE_URL": "",
}


def manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECURE_HTTPS", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "PAGE_CACHE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_secret_key_and_debug_the_shop_refuses_to_start():
    result = manage("check", ALLOWED_HOSTS="shop.example")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_settings_force_https_and_secure_cookies():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS > 0)"
    )
    result = manage("shell", "-c", code, **PRODUCTION)
    assert result.stdout.strip().splitlines()[-1] == "False True True True True"


def test_database_url_selects_postgresql_else_sqlite():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
    pg = manage("shell", "-c", code, **{**PRODUCTION, "DATABASE_URL": "postgres://u:p@db.example:5432/arkiv"})
    lite = manage("shell", "-c", code, **PRODUCTION)
    assert pg.stdout.strip().splitlines()[-1] == "django.db.backends.postgresql"
    assert lite.stdout.strip().splitlines()[-1] == "django.db.backends.sqlite3"


# -- Deployment paths read from the environment ------------------------------------------


def test_the_file_mail_backend_writes_where_email_file_path_says(tmp_path):
    code = "from django.core.mail import send_mail; send_mail('Order shipped', 'On its way.', None, ['a@example.org'])"
    result = manage(
        "shell",
        "-c",
        code,
        **PRODUCTION,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )

    assert result.returncode == 0, result.stderr
    (written,) = (tmp_path / "mail").iterdir()
    assert "Subject: Order shipped" in written.read_text()


def test_smtp_over_tls_from_the_first_byte_or_starttls_but_not_both():
    code = "from django.conf import settings as s; print(s.EMAIL_USE_SSL, s.EMAIL_USE_TLS)"
    ssl = manage("shell", "-c", code, **PRODUCTION, EMAIL_USE_SSL="1")
    both = manage("shell", "-c", code, **PRODUCTION, EMAIL_USE_SSL="1", EMAIL_USE_TLS="1")

    assert ssl.stdout.strip().splitlines()[-1] == "True False"
    assert both.returncode != 0
    assert "Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both." in both.stderr

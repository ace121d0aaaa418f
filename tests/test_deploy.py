"""deploy/ as a deployer uses it: the compose file, the image and the systemd units start
the same processes the Procfile names, with the same commands, so the setup the cluster
test proves is the one each of them runs. (Docker itself is not needed: the files are
read and the image's build step is run here as the Dockerfile runs it.)"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def procfile():
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_two_app_servers_two_workers_and_the_scheduler_with_the_procfiles_commands():
    processes, services = procfile(), compose()["services"]

    for service, process in {
        "web1": "web",
        "web2": "web",
        "worker1": "worker",
        "worker2": "worker",
        "scheduler": "scheduler",
    }.items():
        assert shlex.split(services[service]["command"]) == shlex.split(processes[process]), service
        assert services[service]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert set(processes) == {"web", "worker", "scheduler"}


def test_compose_puts_haproxy_with_the_projects_config_in_front_of_both_app_servers_on_postgres_and_redis():
    services = compose()["services"]

    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    haproxy = services["haproxy"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]
    assert {haproxy["environment"]["ARKIV_APP1"], haproxy["environment"]["ARKIV_APP2"]} == {"web1:8000", "web2:8000"}
    web = services["web1"]
    assert (
        web["environment"]["DATABASE_URL"].startswith("postgres://")
        and "@postgres:5432/" in web["environment"]["DATABASE_URL"]
    )
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    # Nothing secret in the file: the deployer's .env supplies it, or compose refuses to start.
    assert web["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert web["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # Requests in flight get gunicorn's graceful_timeout before the container is killed.
    assert int(web["stop_grace_period"].rstrip("s")) > 20


def test_the_image_runs_the_procfiles_web_command_and_its_static_files_step_works(tmp_path):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1)
    assert yaml.safe_load(cmd) == shlex.split(procfile()["web"])

    # The build's collectstatic step, with the same settings it is given in the image.
    build_env = dict(re.findall(r"(DEBUG|SECRET_KEY|ALLOWED_HOSTS)=(\S+)", dockerfile))
    # Only what a fresh image has: none of the test run's settings.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**env, **build_env, "STATIC_ROOT": str(tmp_path / "static")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr[-3000:]
    assert (tmp_path / "static" / "staticfiles.json").exists()  # hashed names for WhiteNoise


def test_the_systemd_units_run_the_procfiles_commands():
    processes = procfile()
    for process, unit in {"web": "arkiv-web", "worker": "arkiv-worker", "scheduler": "arkiv-scheduler"}.items():
        text = (DEPLOY / "systemd" / f"{unit}.service").read_text()
        exec_start = re.search(r"^ExecStart=/srv/arkiv/(.*)$", text, re.MULTILINE).group(1)
        assert shlex.split(exec_start) == shlex.split(processes[process]), unit


def _gunicorn(workers, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", str(workers)]
        + ["--bind", "127.0.0.1:0", "arkiv.wsgi"],
        cwd=ROOT,
        env={**clean, "DEBUG": "0", "ALLOWED_HOSTS": "shop.example", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_app_servers_refuse_several_workers_on_a_page_cache_each_keeps_for_itself():
    refused = _gunicorn(2, PAGE_CACHE="locmem")
    _, stderr = refused.communicate(timeout=60)
    assert refused.returncode != 0
    assert "Refusing to start 2 workers on a page cache each process keeps for itself" in stderr

    # One worker on it, or several on the shared database cache, start.
    for workers, env in ((1, {"PAGE_CACHE": "locmem"}), (2, {"PAGE_CACHE": "database"})):
        server = _gunicorn(workers, **env)
        try:
            for line in server.stderr:
                if "Booting worker" in line or "booting worker" in line.lower():
                    break
            assert server.poll() is None, (workers, env)
        finally:
            server.terminate()
            server.wait(timeout=30)

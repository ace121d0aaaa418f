"""The shop's settings plus a hello-world view, for measuring pages against it."""

from arkiv.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

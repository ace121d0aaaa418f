"""The shop's settings plus a hello-world view, for measuring pages against it."""

from arkiv.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Each catalog page answer says whether the page cache served it (X-Page-Cache: hit or
# miss), so the benchmark can count the hit rate under mixed traffic.
PAGE_CACHE_STATUS_HEADER = True

"""Cache backends: a database cache whose counters are safe between processes (the
rate-limit store when no Redis is configured), and Django's Redis cache without its
per-call client."""

import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, router, transaction
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Cache backends each process keeps for itself: pages cached there go stale on the other
# processes after a change (catalog.E001; deploy/gunicorn.conf.py refuses them with
# several workers).
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


class CountingDatabaseCache(DatabaseCache):
    """Django's DatabaseCache with an incr() that holds the row while it adds, so two
    workers counting the same key never lose a count (Django's own incr reads, then
    writes). PostgreSQL locks the row; SQLite's IMMEDIATE transactions serialise writers."""

    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.features.has_select_for_update:
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                        [self.make_and_validate_key(key, version=version)],
                    )
            return super().incr(key, delta, version=version)


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client, but one redis.Redis per connection pool for the life of the
    process instead of a new one per cache call: building one (its table of response
    callbacks) cost more than the round trip on a cached page."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    @cached_property
    def _clients(self):
        return {}

    @cached_property
    def _own(self):
        return threading.local()

    def _own_connection(self):
        """This thread's connection for get_many, made as the pool makes its own (one per
        process too: a forked worker makes a new one)."""
        own = self._own
        connection = getattr(own, "connection", None)
        if connection is None or own.pid != os.getpid():
            pool = self._get_connection_pool(False)
            connection = own.connection = pool.connection_class(**pool.connection_kwargs)
            own.pid = os.getpid()
        return connection

    def get_many(self, keys):
        """Django's get_many as one MGET on a connection of this thread's own, without
        the client's per-command machinery (a pool checkout, retries, metrics and reply
        callbacks, which cost a cached page as much as the round trip itself). A
        connection the server has closed is made again once, as the client's retry
        would; any other failure drops the connection and is raised, as the client does
        once its retries are spent (RedisCache then goes on without Redis for a while)."""
        if not keys:
            return {}
        connection = self._own_connection()
        for attempt in (1, 2):
            try:
                connection.send_command("MGET", *keys)
                values = connection.read_response()
                break
            except RedisConnectionError:
                connection.disconnect()
                if attempt == 2:
                    raise
            except BaseException:
                connection.disconnect()
                raise
        loads = self._serializer.loads
        return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}


class RedisCache(DjangoRedisCache):
    """Django's RedisCache with the client above. Redis replies are parsed by hiredis
    when it is installed (redis-py picks it up by itself).

    Redis is a cache, never a reason to fail a request: when it refuses or does not answer
    (within the socket timeouts set in settings), each call gives what a cache that holds
    nothing would give (a miss, nothing stored, ValueError from incr as for a missing key),
    and for REDIS_RETRY_SECONDS this process does not ask it again, so an outage costs one
    request one timeout, not every request several. Pages are then rendered afresh,
    sessions read from the database, and rate limits refuse as django-ratelimit does when
    its cache fails."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
        self._down_until = 0.0

    def _guarded(self, call, fallback, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback()
        try:
            return call(*args, **kwargs)
        except RedisError as exc:
            self._down_until = time.monotonic() + settings.REDIS_RETRY_SECONDS
            logger.warning(
                "Redis cache unavailable (%s); going on without it for %s s",
                type(exc).__name__,
                settings.REDIS_RETRY_SECONDS,
            )
            return fallback()

    def get(self, key, default=None, version=None):
        return self._guarded(super().get, lambda: default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guarded(self._get_many, dict, keys, version)

    def _get_many(self, keys, version):
        # Django checks every key against memcached's limits (length, spaces, control
        # characters) and warns; Redis takes any key, and this call serves every cached
        # page, where the checks cost more than the rest of the call but the round trip.
        made = {self.make_key(key, version=version): key for key in keys}
        return {made[key]: value for key, value in self._cache.get_many(made).items()}

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().set, lambda: None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().set_many, lambda: list(data), data, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().add, lambda: False, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().touch, lambda: False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(super().delete, lambda: False, key, version)

    def delete_many(self, keys, version=None):
        return self._guarded(super().delete_many, lambda: None, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(super().has_key, lambda: False, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (Redis unavailable)")

        return self._guarded(super().incr, missing, key, delta, version)

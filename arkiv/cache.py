"""Cache backends: a database cache whose counters are safe between processes (the
rate-limit store when no Redis is configured), and Django's Redis cache without its
per-call client."""

from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, router, transaction
from django.utils.functional import cached_property


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


class RedisCache(DjangoRedisCache):
    """Django's RedisCache with the client above. Redis replies are parsed by hiredis
    when it is installed (redis-py picks it up by itself)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient

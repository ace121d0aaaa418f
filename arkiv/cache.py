"""A database cache whose counters are safe between processes: the rate-limit store when
no Redis is configured."""

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


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

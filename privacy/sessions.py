"""Django's cached_db session engine: each session is read from the cache every server
shares (SESSION_CACHE_ALIAS, Redis) and written through to the database; when that
cache is the database cache, Django's plain database engine. Each session's account is
kept in its own column (Django's documented way to extend a session engine), so that
erasing an account deletes every one of its sessions, and their cached copies, rather
than only invalidating them. Nothing else is stored: no
address, no browser details (promise P1)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBSessionStore
from django.contrib.sessions.backends.db import SessionStore as DBSessionStore
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

# A session's cached copy read by the caller together with something else in one round
# trip (catalog.caching reads it with the page): (session key, data or None).
_prefetched = ContextVar("prefetched_session", default=(None, None))


# Keys of the session cache that other parts of the shop read on most requests of a
# visitor with a session, read together with the session in its one round trip
# (read_with_sessions); what was found is kept for the rest of the request.
_riders = []
_read_along = ContextVar("read_along", default=None)
NOT_READ = object()


def read_with_sessions(key):
    """Read this key of the session cache with each session loaded from it."""
    if key not in _riders:
        _riders.append(key)


def read_along(key):
    """The value of a key read with this request's session (None if the cache has none),
    or NOT_READ if no session was loaded from the cache in this request."""
    found = _read_along.get()
    return NOT_READ if found is None or key not in found else found[key]


def _forget_read_along(**kwargs):
    _read_along.set(None)


request_started.connect(_forget_read_along, dispatch_uid="privacy.sessions.forget_read_along")
request_finished.connect(_forget_read_along, dispatch_uid="privacy.sessions.forget_read_along_finished")


@contextmanager
def prefetched(session_key, data):
    """While inside, a session with this key loads from `data` (its copy, just read from
    the session cache) instead of asking the cache again."""
    token = _prefetched.set((session_key, data))
    try:
        yield
    finally:
        _prefetched.reset(token)


class _AccountColumn:
    @classmethod
    def get_model_class(cls):
        from .models import AccountSession

        return AccountSession

    def _get_session_from_db(self):
        """Django's read of a live session, with its query written out and its row made
        into an instance here: through the ORM, building the query cost several times
        what the database took to answer it, on every request of a visitor with a cart
        that the session cache does not serve. The instance has what Django reads of it
        (its key, data and expiry); its account is deferred."""
        model = self.model
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('session_data')}, {quote('expire_date')} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, expire_date = row
        field = model._meta.get_field("expire_date")
        for convert in connection.ops.get_db_converters(field.cached_col) + field.get_db_converters(connection):
            expire_date = convert(expire_date, field.cached_col, connection)
        return model.from_db(
            connection.alias, ["session_key", "session_data", "expire_date"], [self.session_key, data, expire_date]
        )

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        account = data.get(SESSION_KEY)
        instance.account_id = int(account) if str(account or "").isdigit() else None
        return instance


class _OneStatementSave(DBSessionStore):
    def save(self, must_create=False):
        """Django's save, without its transaction when none is open: a session row is
        written by one statement, which the database applies whole on its own, and
        BEGIN and COMMIT around it were two more round trips on every add to cart. Inside
        a transaction Django's savepoint is kept, so that a failed write can be rolled
        back alone."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        connection = connections[using]
        if connection.in_atomic_block:
            return super().save(must_create=must_create)
        if not must_create and connection.vendor == "postgresql" and settings.SESSION_WRITES_UNFLUSHED:
            if not self._update_unflushed(connection, obj):
                raise UpdateError
            return
        try:
            obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise

    def _update_unflushed(self, connection, obj):
        """Write a changed session without waiting for PostgreSQL to flush it to disk
        (synchronous_commit off for this one statement's own transaction: SET LOCAL and
        the UPDATE sent together run as one implicit transaction, and the setting ends with
        it). The flush cost each add to cart about 2 ms; what a crash of the database server
        can lose is the last fraction of a second of session changes (a cart line just
        added), never an order or a payment, which are written by their own transactions
        with the server's full durability. Whether a row was there to update."""
        model = self.model
        quote = connection.ops.quote_name
        sql = (
            "SET LOCAL synchronous_commit TO OFF; "
            f"UPDATE {quote(model._meta.db_table)} SET {quote('session_data')} = %s, "
            f"{quote('expire_date')} = %s, {quote('account_id')} = %s WHERE {quote('session_key')} = %s"
        )
        expire_date = connection.ops.adapt_datetimefield_value(obj.expire_date)
        with connection.cursor() as cursor:
            cursor.execute(sql, [obj.session_data, expire_date, obj.account_id, obj.session_key])
            return cursor.rowcount > 0


class CachedSessionStore(_AccountColumn, CachedDBSessionStore, _OneStatementSave):
    def load(self):
        key, data = _prefetched.get()
        if data is not None and key == self.session_key:
            return data
        if not _riders or not self.session_key:
            return super().load()
        try:
            found = self._cache.get_many([self.cache_key, *_riders])
        except Exception:  # noqa: BLE001 - as Django's load: the database answers instead
            found = {}
        _read_along.set({rider: found.get(rider) for rider in _riders})
        data = found.get(self.cache_key)
        return data if data is not None else super().load()


class DatabaseSessionStore(_AccountColumn, _OneStatementSave):
    pass


def sessions_cached():
    """Whether sessions are read from the session cache. Not when that cache is itself a
    database table: reading it is a query, as reading the session is, and every change
    would be written twice."""
    backend = import_string(settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"])
    return not issubclass(backend, DatabaseCache)


def __getattr__(name):
    # Django looks up SessionStore when its middleware starts, after the settings are read.
    if name == "SessionStore":
        return CachedSessionStore if sessions_cached() else DatabaseSessionStore
    raise AttributeError(name)


def _forget_cached(session_keys):
    caches[settings.SESSION_CACHE_ALIAS].delete_many([KEY_PREFIX + key for key in session_keys])


def sessions_end_for(account_id):
    """Delete every stored session of an account, and its copy in the cache; returns how
    many there were. The copies are deleted again once the transaction commits: a request
    served meanwhile may have read a session from the database into the cache."""
    from .models import AccountSession

    stored = AccountSession.objects.filter(account_id=account_id)
    keys = list(stored.values_list("session_key", flat=True))
    deleted, _ = stored.delete()
    if keys and sessions_cached():
        _forget_cached(keys)
        transaction.on_commit(lambda: _forget_cached(keys))
    return deleted

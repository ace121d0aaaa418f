"""A kept-open database connection that the server has dropped is let go before a
request uses it, without a query.

Django's CONN_HEALTH_CHECKS asks the database `SELECT 1` before the first query of every
request, a round trip that cost a cart page or an add to cart about as much as its own
query. A connection sitting idle between requests has nothing to read unless the server
spoke first, and a server that spoke first is ending it (an administrator's
pg_terminate_backend, a restart, an idle timeout): the socket is then readable, with the
server's last message or end of file. So each request starts by polling the socket of
every kept connection, which is a system call and no round trip, and closes those that
have something waiting; the request then opens a new one. Connections that were idle
have never been left in a transaction, so nothing is lost."""

import select

from django.db import connections


def _spoke_while_idle(raw):
    try:
        if raw.closed:
            return True
        fileno = raw.fileno()
    except Exception:  # noqa: BLE001 - a connection that cannot say is not kept
        return True
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def close_dropped_connections(**kwargs):
    """request_started: close each kept database connection the server has dropped."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or connection.in_atomic_block or not hasattr(raw, "fileno"):
            continue
        if _spoke_while_idle(raw):
            connection.close()

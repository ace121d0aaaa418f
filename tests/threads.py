"""Concurrency in tests: the same work started from several threads at one moment, as
simultaneous requests or workers would start it."""

import threading

from django.db import connection


def at_once(count, work):
    """Call work(i) for i in range(count), each in its own thread and all released
    together; returns their results in order, an exception's repr in place of its result.
    Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results

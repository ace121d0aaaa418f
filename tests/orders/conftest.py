import socket
import threading
from decimal import Decimal

import pytest

from tests.factories import OfferFactory


class SilentServer:
    """A TCP server on loopback that accepts every connection and never answers: a
    processor that hangs. `connections` counts the attempts it saw."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def connections(self):
        return len(self.accepted)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_processor(settings):
    """A payment processor that accepts connections and never answers, with the shop's
    processor timeouts made short so the tests do not wait long."""
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_MAX_RETRIES = 1
    settings.STRIPE_SECRET_KEY = settings.STRIPE_SECRET_KEY or "sk_test_arkiv"
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def refusing_processor_url():
    """An address on loopback where nothing listens: connections are refused."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def offers():
    """Two records in stock: 5 copies at 15.00 and 2 at 22.00."""
    return OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)

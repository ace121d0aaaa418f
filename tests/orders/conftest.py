from decimal import Decimal

import pytest

from tests.factories import OfferFactory
from tests.servers import SilentServer, closed_port


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
    return f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def offers():
    """Two records in stock: 5 copies at 15.00 and 2 at 22.00."""
    return OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)

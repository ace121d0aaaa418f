"""The gateway's capture, void and refund calls checked against localstripe, an
independent fake of Stripe's PaymentIntents API (run as its own process)."""

import shutil
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import stripe

from orders import gateway


def _start_localstripe(command, log):
    """localstripe on a free port, once it answers: (process, url), or (None, why)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # localstripe keeps its store in one fixed file and loads it at start: a store half
    # written by another run on the machine would stop it starting. Each run starts empty.
    Path("/tmp/localstripe.pickle").unlink(missing_ok=True)
    process = subprocess.Popen([command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    # Wait until it answers (on a busy machine its start can take many seconds), not for
    # a fixed time.
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=10)
                return None, f"port {port}, exit status {process.returncode}"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def localstripe_url(tmp_path_factory):
    command = shutil.which("localstripe") or str(Path(sys.executable).parent / "localstripe")
    if not Path(command).exists():
        pytest.skip("localstripe is not installed (pip install -r requirements-dev.txt)")
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "wb") as log:
        # A port taken between choosing it and the server binding it is tried again on another.
        for _ in range(3):
            process, url = _start_localstripe(command, log)
            if process is not None:
                break
        else:
            pytest.fail(f"localstripe did not start ({url}): {log_path.read_text(errors='replace')[-2000:]}")
        yield url
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def gateway_on_localstripe(settings, localstripe_url):
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = localstripe_url, "sk_test_localstripe"
    client = stripe.StripeClient("sk_test_localstripe", base_addresses={"api": localstripe_url})

    def authorise(amount_cents):
        intent = client.v1.payment_intents.create(
            {
                "amount": amount_cents,
                "currency": "eur",
                "capture_method": "manual",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        return intent.id

    return authorise


def test_capture_then_partial_refund(gateway_on_localstripe):
    intent_id = gateway_on_localstripe(5695)
    intent = gateway.retrieve_intent(intent_id)
    assert intent.status == "requires_capture" and intent.amount_capturable == Decimal("56.95")
    gateway.capture(intent_id, Decimal("56.95"), key="capture-ls-1")
    captured = gateway.retrieve_intent(intent_id)
    assert captured.status == "succeeded" and captured.amount_received == Decimal("56.95")
    gateway.refund(intent_id, Decimal("15.00"), key="refund-ls-1")


def test_void_cancels_the_authorisation(gateway_on_localstripe):
    intent_id = gateway_on_localstripe(1200)
    gateway.void(intent_id, key="void-ls-1")
    assert gateway.retrieve_intent(intent_id).status == "canceled"


def test_capturing_an_unknown_intent_is_a_payment_error(gateway_on_localstripe):
    with pytest.raises(gateway.PaymentError):
        gateway.capture("pi_does_not_exist", Decimal("1.00"), key="capture-ls-missing")

"""The payment sandbox: a small local stand-in for the part of Stripe's HTTP API that the
gateway uses, so the demo, the tests and CI can buy things with no network.

It speaks Stripe's wire format (form-encoded requests, JSON objects and errors, Bearer
keys, Idempotency-Key), serves a hosted payment page that takes Stripe's test cards,
and sends webhooks signed the way Stripe signs them. It follows Stripe's documented
rules where the gateway relies on them: an idempotency key replays the first answer
(and refuses other parameters), capture only from requires_capture and at most the
authorised amount, no capture after cancel, no cancel after capture, refunds only of
captured money and never more than what is left.

Run it with `manage.py run_payment_sandbox`; tests start it in a thread."""

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

TEST_CARDS = {
    "4242424242424242": None,
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
}
CANCELLABLE = {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}


class SandboxError(Exception):
    def __init__(self, message, *, code="", status=400, type="invalid_request_error"):
        super().__init__(message)
        self.body = {"error": {"type": type, "message": message, **({"code": code} if code else {})}}
        self.status = status


def parse_form(body):
    """Stripe's bracketed form encoding (line_items[0][price_data][unit_amount]=…) into
    nested dicts and lists."""
    root = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def sign(payload, secret, timestamp=None):
    timestamp = int(timestamp or time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _api_key(header):
    """The secret key from a Bearer header (the libraries) or Basic auth (curl -u sk_test_…:)."""
    kind, _, value = header.partition(" ")
    if kind == "Bearer":
        return value
    if kind == "Basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def _id(prefix):
    return f"{prefix}_test_{secrets.token_hex(12)}"


class PaymentSandbox:
    """The WSGI application; state lives in memory for the life of the process."""

    def __init__(self, *, public_url, webhook_url=None, webhook_secret="whsec_sandbox"):
        self.public_url = public_url.rstrip("/")
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.lock = threading.RLock()
        self.sessions, self.intents, self.refunds = {}, {}, {}
        self.idempotency = {}
        self.events = []
        self.deliveries = []  # (event id, HTTP status) of each webhook sent
        self._outbox = []  # events to deliver once the lock is released

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        try:
            return self._handle(environ, start_response)
        finally:
            # Webhooks go out after the state change is done and unlocked, before the
            # response: the shop may call back into the API while handling them.
            self._flush()

    def _flush(self):
        with self.lock:
            pending, self._outbox = self._outbox, []
        for event in pending:
            self.deliver(event)

    def _handle(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        try:
            if path.startswith("/pay/"):
                return self._page(method, path.removeprefix("/pay/"), body, start_response)
            if not _api_key(environ.get("HTTP_AUTHORIZATION", "")).startswith("sk_test_"):
                raise SandboxError("Invalid API Key provided.", status=401)
            status, payload, replayed = self._api(method, path, body, environ.get("HTTP_IDEMPOTENCY_KEY"))
        except SandboxError as exc:
            status, payload, replayed = exc.status, exc.body, False
        headers = [("Content-Type", "application/json"), ("Request-Id", _id("req"))]
        if replayed:
            headers.append(("Idempotent-Replayed", "true"))
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
        return [json.dumps(payload).encode()]

    def _api(self, method, path, body, idempotency_key):
        if method == "POST" and idempotency_key:
            fingerprint = hashlib.sha256(f"{path}?{body}".encode()).hexdigest()
            with self.lock:
                if idempotency_key in self.idempotency:
                    seen, status, payload = self.idempotency[idempotency_key]
                    if seen != fingerprint:
                        raise SandboxError(
                            "Keys for idempotent requests can only be used with the same parameters they were "
                            "first used with.",
                            type="idempotency_error",
                        )
                    return status, payload, True
                status, payload = self._route(method, path, parse_form(body))
                self.idempotency[idempotency_key] = (fingerprint, status, payload)
                return status, payload, False
        with self.lock:
            status, payload = self._route(method, path, parse_form(body))
        return status, payload, False

    def _route(self, method, path, params):
        routes = [
            ("POST", r"/v1/checkout/sessions", self.create_session),
            ("GET", r"/v1/checkout/sessions/(?P<id>[\w-]+)", self.get_session),
            ("POST", r"/v1/checkout/sessions/(?P<id>[\w-]+)/expire", self.expire_session),
            ("GET", r"/v1/payment_intents/(?P<id>[\w-]+)", self.get_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[\w-]+)/capture", self.capture_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[\w-]+)/cancel", self.cancel_intent),
            ("POST", r"/v1/refunds", self.create_refund),
            ("GET", r"/v1/events", self.list_events),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return 200, handler(params, **match.groupdict())
        raise SandboxError(f"Unrecognized request URL ({method}: {path}).", status=404)

    # -- the API ------------------------------------------------------------------------

    def create_session(self, params):
        items = params.get("line_items") or []
        if not items:
            raise SandboxError("line_items is required.", code="parameter_missing")
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        session_id = _id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_total": total,
            "currency": items[0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "locale": params.get("locale"),  # the language the hosted page speaks
            "url": f"{self.public_url}/pay/{session_id}",
            "livemode": False,
            "created": int(time.time()),
            "_line_items": items,
            "_intent_data": params.get("payment_intent_data") or {},
        }
        self.sessions[session_id] = session
        return self._public(session)

    def get_session(self, params, id):
        return self._public(self._session(id))

    def expire_session(self, params, id):
        session = self._session(id)
        if session["status"] != "open":
            raise SandboxError(
                f"Only Checkout Sessions with a status of open can be expired; this one is {session['status']}.",
                code="checkout_session_unexpected_state",
            )
        session["status"] = "expired"
        self._event("checkout.session.expired", self._public(session))
        return self._public(session)

    def get_intent(self, params, id):
        return self._intent(id)

    def capture_intent(self, params, id):
        intent = self._intent(id)
        if intent["status"] != "requires_capture":
            raise SandboxError(
                f"This PaymentIntent could not be captured because it has a status of {intent['status']}. Only a "
                "PaymentIntent with one of the following statuses may be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture") or intent["amount_capturable"])
        if amount > intent["amount_capturable"]:
            raise SandboxError("The amount to capture is greater than the amount capturable.", code="amount_too_large")
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._event("payment_intent.succeeded", intent)
        return intent

    def cancel_intent(self, params, id):
        intent = self._intent(id)
        if intent["status"] not in CANCELLABLE:
            raise SandboxError(
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", amount_capturable=0)
        self._event("payment_intent.canceled", intent)
        return intent

    def create_refund(self, params):
        intent = self._intent(params.get("payment_intent", ""))
        if intent["status"] != "succeeded":
            raise SandboxError(
                "This PaymentIntent does not have a successful charge to refund.", code="charge_not_refundable"
            )
        left = intent["amount_received"] - intent["amount_refunded"]
        amount = int(params.get("amount") or left)
        if amount <= 0 or amount > left:
            raise SandboxError(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
                code="amount_too_large",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        self._event("charge.refunded", intent)
        return refund

    def list_events(self, params):
        return {"object": "list", "data": list(reversed(self.events)), "has_more": False, "url": "/v1/events"}

    # -- the hosted payment page ----------------------------------------------------------

    def _page(self, method, session_id, body, start_response):
        with self.lock:
            session = self.sessions.get(session_id)
            error = ""
            if session and method == "POST" and session["status"] == "open":
                form = dict(parse_qsl(body))
                error, redirect = self._pay(session, re.sub(r"\D", "", form.get("card", "")))
                if redirect:
                    start_response("303 See Other", [("Location", redirect)])
                    return [b""]
        page = _PAGE.format(**self._page_context(session, error))
        start_response("200 OK" if session else "404 Not Found", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    def _pay(self, session, card):
        if session["expires_at"] < time.time():
            session["status"] = "expired"
            return "This payment page has expired.", None
        if card not in TEST_CARDS:
            return "Your card number is incorrect. Use a test card such as 4242 4242 4242 4242.", None
        intent = self._intent_for(session)
        failure = TEST_CARDS[card]
        if failure:
            code, decline_code, message = failure
            intent.update(
                status="requires_payment_method",
                last_payment_error={"code": code, "decline_code": decline_code, "message": message},
            )
            self._event("payment_intent.payment_failed", intent)
            return message, None
        manual = session["_intent_data"].get("capture_method") == "manual"
        intent.update(last_payment_error=None)
        if manual:
            intent.update(status="requires_capture", amount_capturable=session["amount_total"])
        else:
            intent.update(status="succeeded", amount_received=session["amount_total"])
            session["payment_status"] = "paid"
        session["status"] = "complete"
        self._event("checkout.session.completed", self._public(session))
        return "", session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    def _intent_for(self, session):
        if session["payment_intent"]:
            return self.intents[session["payment_intent"]]
        intent = {
            "id": _id("pi"),
            "object": "payment_intent",
            "status": "requires_payment_method",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_received": 0,
            "amount_refunded": 0,
            "currency": session["currency"],
            "capture_method": session["_intent_data"].get("capture_method", "automatic"),
            "metadata": session["_intent_data"].get("metadata") or {},
            "last_payment_error": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent["id"]] = intent
        session["payment_intent"] = intent["id"]
        return intent

    def _page_context(self, session, error):
        words = _WORDS["de" if session and (session.get("locale") or "").startswith("de") else "en"]
        if not session:
            return {"lang": "en", "title": "Payment page not found", "body": "<p>This payment page does not exist.</p>"}
        number = f"{session['amount_total'] / 100:,.2f}"
        if words["lang"] == "de":  # 1.234,50 as the hosted page writes amounts for a German reader
            number = number.translate(str.maketrans(",.", ".,"))
        amount = f"{number} {session['currency'].upper()}"
        items = "".join(
            f"<li>{html.escape(i['price_data']['product_data']['name'])} × {i.get('quantity', 1)}</li>"
            for i in session["_line_items"]
        )
        back = html.escape(session["cancel_url"] or "")
        if session["status"] != "open":
            state = {"complete": words["complete"], "expired": words["expired"]}
            return {
                "lang": words["lang"],
                "title": words["payment"],
                "body": f"<p>{state.get(session['status'], '')}</p><p><a href='{back}'>{words['back']}</a></p>",
            }
        alert = f'<p class="error" role="alert">{html.escape(words.get(error, error))}</p>' if error else ""
        pay = words["pay"].format(amount=amount)
        return {
            "lang": words["lang"],
            "title": pay,
            "body": f"""<p class="shop">{words["payee"]}</p><h1>{pay}</h1><ul>{items}</ul>{alert}
<form method="post"><label>{words["card"]} <input name="card" inputmode="numeric" autocomplete="cc-number"
 placeholder="4242 4242 4242 4242" required></label>
<label>{words["expiry"]} <input name="exp" placeholder="12 / 34" required></label>
<label>{words["cvc"]} <input name="cvc" placeholder="123" required></label>
<label>{words["name"]} <input name="name" required></label>
<button type="submit">{pay}</button></form>
<p class="hint">{words["hint"]}</p>
<p><a href="{back}">{words["cancel"]}</a></p>""",
        }

    # -- helpers ------------------------------------------------------------------------

    def _session(self, session_id):
        if session_id not in self.sessions:
            raise SandboxError(f"No such checkout.session: '{session_id}'", code="resource_missing", status=404)
        return self.sessions[session_id]

    def _intent(self, intent_id):
        if intent_id not in self.intents:
            raise SandboxError(f"No such payment_intent: '{intent_id}'", code="resource_missing", status=404)
        return self.intents[intent_id]

    @staticmethod
    def _public(session):
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def _event(self, type, obj):
        event = {
            "id": _id("evt"),
            "object": "event",
            "type": type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        self.events.append(event)
        if self.webhook_url:
            self._outbox.append(event)
        return event

    def deliver(self, event, *, url=None):
        """POST an event to the shop's webhook, signed like Stripe's. Returns the status."""
        payload = json.dumps(event)
        request = urllib.request.Request(
            url or self.webhook_url,
            data=payload.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, self.webhook_secret)},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        self.deliveries.append((event["id"], status))
        return status


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(app, host, port):
    """A threaded server for the sandbox; returns it (call serve_forever / shutdown)."""
    return make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)


# The hosted page in the language the shop asked for (Checkout's `locale`), as the
# processor's own page is; English for any other.
_WORDS = {
    "en": {
        "lang": "en",
        "payment": "Payment",
        "complete": "This payment is complete.",
        "expired": "This payment page has expired.",
        "back": "Back to the shop",
        "payee": "Payment to Arkiv",
        "pay": "Pay {amount}",
        "card": "Card number",
        "expiry": "Expiry",
        "cvc": "CVC",
        "name": "Name on card",
        "hint": "Test mode. 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;\n"
        "4000 0000 0000 9995 has insufficient funds.",
        "cancel": "Cancel and return to the shop",
    },
    "de": {
        "lang": "de",
        "payment": "Zahlung",
        "complete": "Diese Zahlung ist abgeschlossen.",
        "expired": "Diese Zahlungsseite ist abgelaufen.",
        "back": "Zurück zum Shop",
        "payee": "Zahlung an Arkiv",
        "pay": "{amount} bezahlen",
        "card": "Kartennummer",
        "expiry": "Gültig bis",
        "cvc": "Prüfnummer (CVC)",
        "name": "Name auf der Karte",
        "hint": "Testmodus. 4242 4242 4242 4242 wird angenommen; 4000 0000 0000 0002 wird abgelehnt;\n"
        "4000 0000 0000 9995 ist nicht gedeckt.",
        "cancel": "Abbrechen und zurück zum Shop",
        # The processor's messages for the test cards, as its German page shows them.
        "This payment page has expired.": "Diese Zahlungsseite ist abgelaufen.",
        "Your card was declined.": "Ihre Karte wurde abgelehnt.",
        "Your card has insufficient funds.": "Ihre Karte ist nicht ausreichend gedeckt.",
        "Your card number is incorrect. Use a test card such as 4242 4242 4242 4242.": (
            "Ihre Kartennummer ist ungültig. Verwenden Sie eine Testkarte wie 4242 4242 4242 4242."
        ),
    },
}

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}}
label{{display:block;margin:.6rem 0}}input{{display:block;width:100%;padding:.5rem;font-size:1rem}}
button{{margin-top:1rem;width:100%;padding:.7rem;font-size:1.05rem;background:#635bff;color:#fff;border:0;
border-radius:6px}}.error{{background:#fde8e8;color:#9b1c1c;padding:.6rem;border-radius:6px}}
.hint{{color:#666;font-size:.85rem}}.shop{{color:#666}}</style></head><body>{body}</body></html>"""

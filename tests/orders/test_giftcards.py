"""Gift cards from purchase to the last euro: bought from the gift-card page, charged on
the payment sandbox without shipping, issued and emailed to the recipient once captured,
spent at checkout as part or all of an order's payment, given back when an order is not
paid or is cancelled, and refunded card-payment-first."""

import csv
import datetime
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import emails, giftcards
from orders.cart import CartLine
from orders.models import GiftCard, GiftCardEntry, Invoice, Order, OrderEmail, Status
from orders.services import order_cancel, order_place, order_refund, order_ship, orders_expire_unpaid
from tests.factories import VoucherFactory, checkout_details
from tests.orders.helpers import CHECKOUT, deliver, pay

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}(?:-[2-9A-HJKMNP-TV-Z]{4}){3}")


def card_with(balance, *, expires_in_days=365, disabled=False):
    """A card already issued, and its code (as its recipient's email would give it)."""
    code = giftcards.new_code()
    card = GiftCard.objects.create(
        code_hash=giftcards.code_hash(code),
        last4=giftcards.normalise_code(code)[-4:],
        initial_amount=Decimal(balance),
        balance=Decimal(balance),
        expires_at=timezone.now() + datetime.timedelta(days=expires_in_days),
        disabled=disabled,
    )
    return card, code


def checkout_page(client, **fields):
    page = client.get("/checkout/")
    token = page.context["form"].initial["checkout_token"]
    return client.post("/checkout/", {**CHECKOUT, "checkout_token": token, **fields})


def return_from_payment(client, payment_url, capture):
    status, location, _ = pay(payment_url)
    assert status == 303
    with capture(execute=True):
        return client.get(location.removeprefix("http://testserver"), follow=True)


def test_a_gift_card_bought_alone_costs_no_shipping_and_its_code_is_emailed_to_the_recipient_once_paid(
    client, payment_sandbox, django_capture_on_commit_callbacks
):
    page = client.get("/gift-cards/")
    assert page.status_code == 200 and "Give an Arkiv gift card" in page.content.decode()
    response = client.post(
        "/gift-cards/",
        {
            "amount": "50",
            "recipient_name": "Johannes Brahms",
            "recipient_email": "Johannes@Example.com",
            "message": "For the Requiem.",
        },
        follow=True,
    )
    cart = response.content.decode()
    assert "Gift card for Johannes Brahms" in cart and "€50.00" in cart and client.session["cart_count"] == 1

    response = checkout_page(client)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.shipping_cost == 0 and order.total == Decimal("50.00")
    assert payment_sandbox.sessions[order.payment_session_id]["amount_total"] == 5000
    assert not mail.outbox  # nothing is issued before the money is taken

    page = return_from_payment(client, response["Location"], django_capture_on_commit_callbacks)
    order.refresh_from_db()
    # Nothing ships, so the payment is captured at once and the card issued.
    assert order.status == Status.SHIPPED and order.amount_captured == Decimal("50.00")
    intent = payment_sandbox.intents[order.payment_intent_id]
    assert intent["status"] == "succeeded" and intent["amount_received"] == 5000
    card = GiftCard.objects.get()
    assert card.balance == card.initial_amount == Decimal("50.00")
    assert [(e.kind, e.amount) for e in card.entries.all()] == [("issue", Decimal("50.00"))]

    to_recipient = [m for m in mail.outbox if m.to == ["johannes@example.com"]]
    assert len(to_recipient) == 1
    body = to_recipient[0].body
    assert to_recipient[0].subject == "Clara Schumann sent you an Arkiv gift card"
    assert "€50.00" in body and "For the Requiem." in body
    code = CODE.search(body).group()
    assert giftcards.find(code) == card and code[-4:] == card.last4
    card.refresh_from_db()
    assert card.code_to_send == ""  # from now on only its hash is kept
    order_page = client.get(f"/orders/{order.number}/").content.decode()
    assert f"Thank you! Order {order.number} is paid." in order_page and "Sent by email on" in order_page
    assert client.session["cart_count"] == 0


def test_a_gift_card_pays_part_the_card_pays_the_rest_and_a_refund_goes_to_the_card_payment_first(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks, admin_user
):
    card, code = card_with("30.00")
    client.post("/cart/add/", {"offer": offers[1].pk, "quantity": 2})  # 44.00 + 4.95 shipping
    response = checkout_page(client, gift_card_code=code.lower().replace("-", " "))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.total == Decimal("48.95") and order.gift_card_amount == Decimal("30.00")
    assert payment_sandbox.sessions[order.payment_session_id]["amount_total"] == 1895
    card.refresh_from_db()
    assert card.balance == 0

    page = return_from_payment(client, response["Location"], django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and order.amount_authorised == Decimal("18.95")
    body = page.content.decode()
    assert f"Paid by gift card …{card.last4}" in body and "€30.00" in body and "€18.95" in body
    confirmation = mail.outbox[-1].body
    assert f"Paid by gift card …{card.last4}: €30.00" in confirmation and "To pay by card: €18.95" in confirmation

    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order, carrier="DHL", tracking_number="123", by=admin_user)
    assert payment_sandbox.intents[order.payment_intent_id]["amount_received"] == 1895
    invoice = order.invoices.get()
    assert invoice.total == Decimal("48.95") and invoice.gift_card_paid == Decimal("30.00")
    assert "Paid by gift card" in client.get(f"/orders/{order.number}/invoices/{invoice.number}/").content.decode()

    # 25.00 back: 18.95 to the card that paid, the other 6.05 onto the gift card.
    order_refund(order, amount=Decimal("25.00"), by=admin_user)
    order.refresh_from_db()
    card.refresh_from_db()
    assert payment_sandbox.intents[order.payment_intent_id]["amount_refunded"] == 1895
    assert order.amount_refunded == Decimal("18.95") and order.gift_card_refunded == Decimal("6.05")
    assert card.balance == Decimal("6.05") and order.status == Status.PARTIALLY_REFUNDED
    credit_note = order.invoices.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert credit_note.total == Decimal("25.00") and credit_note.gift_card_paid == Decimal("6.05")
    assert [(e.kind, e.amount, e.balance_after) for e in card.entries.all()] == [
        ("redeem", Decimal("-30.00"), Decimal("0.00")),
        ("refund", Decimal("6.05"), Decimal("6.05")),
    ]
    # The accountant's order export says what the gift card paid and got back.
    out = io.StringIO()
    today = timezone.localdate().isoformat()
    call_command("export_accounts", "orders", "--from", today, "--to", today, stdout=out)
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    exported = dict(zip(header, row, strict=True))
    assert [exported[k] for k in ("total", "paid_by_gift_card", "captured", "refunded", "refunded_onto_gift_card")] == [
        "48.95",
        "30.00",
        "18.95",
        "18.95",
        "6.05",
    ]
    # The rest of the order, all of it gift card money, goes back onto the card.
    order_refund(order, amount=order.refundable, by=admin_user)
    order.refresh_from_db()
    card.refresh_from_db()
    assert order.status == Status.REFUNDED and card.balance == Decimal("30.00")
    assert payment_sandbox.intents[order.payment_intent_id]["amount_refunded"] == 1895


def test_a_gift_card_covering_the_whole_order_pays_it_at_once_without_the_processor(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks, admin_user
):
    card, code = card_with("100.00")
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})  # 15.00 + 4.95
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout_page(client, gift_card_code=code)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.number}/"
    assert order.status == Status.AUTHORISED and not order.payment_session_id and not payment_sandbox.sessions
    assert order.gift_card_amount == Decimal("19.95") and order.amount_due == 0
    card.refresh_from_db()
    assert card.balance == Decimal("80.05")
    assert "paid in full by gift card" in mail.outbox[0].body
    assert client.session["cart_count"] == 0

    # Staff ship it like any other; nothing is captured at the processor.
    order_ship(order, carrier="DHL", tracking_number="1", by=admin_user)
    order.refresh_from_db()
    assert order.status == Status.SHIPPED and order.amount_captured == 0
    assert order.invoices.get().gift_card_paid == Decimal("19.95")


def test_a_voucher_and_a_gift_card_together_discount_the_goods_then_pay_and_leave_the_cart_empty(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks
):
    VoucherFactory(code="BACH10", value=Decimal("10"))
    card, code = card_with("100.00")
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})  # 15.00
    client.post("/cart/voucher/", {"code": "bach10"})
    with django_capture_on_commit_callbacks(execute=True):
        checkout_page(client, gift_card_code=code)

    order = Order.objects.get()
    assert (order.subtotal, order.discount, order.shipping_cost, order.total) == (
        Decimal("15.00"),
        Decimal("1.50"),
        Decimal("4.95"),
        Decimal("18.45"),
    )
    assert order.status == Status.AUTHORISED and order.gift_card_amount == Decimal("18.45")
    card.refresh_from_db()
    assert card.balance == Decimal("81.55")
    # Paid: the next cart starts without the voucher as well as without the record.
    assert "voucher" not in client.session and client.session["cart_count"] == 0
    assert "Voucher BACH10" not in client.get("/cart/").content.decode()


def test_an_unpaid_order_that_expires_gives_the_gift_card_its_balance_back(offers):
    card, code = card_with("10.00")
    order = order_place(
        cart_lines=[CartLine(offers[0], 1, offers[0].price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_card_code=code,
    )
    card.refresh_from_db()
    assert card.balance == 0 and order.amount_due == Decimal("9.95")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert orders_expire_unpaid() == 1
    card.refresh_from_db()
    assert card.balance == Decimal("10.00")
    assert [e.kind for e in card.entries.all()] == ["redeem", "release"]


def test_a_cancelled_order_paid_by_gift_card_gives_the_balance_back(offers, admin_user):
    card, code = card_with("50.00")
    order = order_place(
        cart_lines=[CartLine(offers[0], 1, offers[0].price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_card_code=code,
    )
    assert order.status == Status.AUTHORISED
    order_cancel(order, by=admin_user)
    card.refresh_from_db()
    assert card.balance == Decimal("50.00") and order.status == Status.CANCELLED
    # Cancelling never gives it back twice.
    assert card.entries.filter(kind=GiftCardEntry.Kind.RELEASE).count() == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: (None, "ABCD-EFGH-JKMN-PQRS"), "We do not know that gift card code."),
        (lambda: card_with("10.00", expires_in_days=-1), "This gift card expired on"),
        (lambda: card_with("10.00", disabled=True), "This gift card can no longer be used."),
        (lambda: _spent_card(), "This gift card has no balance left."),
    ],
    ids=["unknown", "expired", "disabled", "empty"],
)
def test_a_code_that_cannot_pay_gets_a_clear_message_and_the_form_keeps_what_was_typed(client, offers, make, message):
    _card, code = make()
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    response = checkout_page(client, gift_card_code=code, billing_line2="Hinterhaus")
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'value="{code}"' in body and 'value="Hinterhaus"' in body
    assert not Order.objects.exists()


def _spent_card():
    card, code = card_with("10.00")
    GiftCard.objects.filter(pk=card.pk).update(balance=0)
    return card, code


def test_guessing_gift_card_codes_is_throttled(client, offers, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "gift_card_code": "3/h"}
    _card, code = card_with("10.00")
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    for guess in ["2222-2222-2222-2222", "3333-3333-3333-3333", "4444-4444-4444-4444", "5555-5555-5555-5555"]:
        assert checkout_page(client, gift_card_code=guess).status_code == 400
    # Even the right code is not looked at any more from this address for now.
    response = checkout_page(client, gift_card_code=code)
    assert response.status_code == 429
    assert "Too many unknown gift card codes" in response.content.decode()
    assert not Order.objects.exists()


def test_the_gift_card_email_is_sent_once_whatever_retries(client, payment_sandbox, django_capture_on_commit_callbacks):
    client.post(
        "/gift-cards/",
        {"amount": "other", "other_amount": "35", "recipient_name": "Robert", "recipient_email": "robert@example.com"},
    )
    response = checkout_page(client)
    return_from_payment(client, response["Location"], django_capture_on_commit_callbacks)
    email = OrderEmail.objects.get(kind=OrderEmail.Kind.GIFT_CARD)
    assert email.state == OrderEmail.State.SENT
    assert emails.retry_unsent() == 0 and emails.send(email) is False
    assert emails.send_order_email.call(email.pk) is True
    assert len([m for m in mail.outbox if m.to == ["robert@example.com"]]) == 1
    # Issuing again (a replayed capture) makes no second card and no second email.
    order = Order.objects.get()
    assert giftcards.gift_cards_issue(order) == []
    assert GiftCard.objects.count() == 1 and OrderEmail.objects.filter(kind="gift_card").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEmail.objects.create(order=order, kind="gift_card", to="x@example.com", gift_card=GiftCard.objects.get())


def test_a_gift_card_is_invoiced_at_no_vat_and_the_goods_keep_theirs(client, payment_sandbox, offers, admin_user):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    client.post("/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "r@example.com"})
    response = checkout_page(client)
    order = Order.objects.get()
    # Goods 15.00 + a gift card 25.00; shipping on the goods alone.
    assert order.subtotal == Decimal("40.00") and order.shipping_cost == Decimal("4.95")
    pay(response["Location"])
    client.get(f"/orders/{order.number}/paid/")
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED  # goods to ship: staff ship, which captures and issues
    assert not GiftCard.objects.exists()
    order_ship(order, carrier="DHL", tracking_number="1", by=admin_user)
    lines = {line.description: line for line in order.invoices.get().lines.all()}
    gift = lines["Gift card (multi-purpose voucher, no VAT)"]
    assert gift.vat_rate == 0 and gift.vat_amount == 0 and gift.total == Decimal("25.00")
    goods = next(line for name, line in lines.items() if name.startswith(order.lines.get().title))
    assert goods.vat_rate == Decimal("19.00") and goods.vat_amount == Decimal("2.39")
    assert GiftCard.objects.get().balance == Decimal("25.00")


def test_the_gift_card_page_refuses_an_amount_out_of_range_with_a_message(client, settings):
    response = client.post(
        "/gift-cards/",
        {"amount": "other", "other_amount": "5000", "recipient_name": "R", "recipient_email": "r@example.com"},
    )
    assert response.status_code == 400 and "Between €10.00 and €500.00." in response.content.decode()
    response = client.post("/gift-cards/", {"amount": "50", "recipient_name": "R", "recipient_email": "not-an-email"})
    assert response.status_code == 400
    assert client.session.get("cart_count", 0) == 0


def test_the_recipient_gets_the_gift_card_email_in_the_language_the_order_was_placed_in(
    client, payment_sandbox, django_capture_on_commit_callbacks
):
    client.post(
        "/de/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "robert@example.com"}
    )
    page = client.get("/de/checkout/")
    token = page.context["form"].initial["checkout_token"]
    response = client.post("/de/checkout/", {**CHECKOUT, "checkout_token": token})
    return_from_payment(client, response["Location"], django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == ["robert@example.com"])
    assert message.subject == "Clara Schumann hat Ihnen einen Arkiv-Geschenkgutschein geschickt"
    assert "Ihr Geschenkgutscheincode:" in message.body and CODE.search(message.body)


def test_a_balance_below_zero_is_refused_by_the_database():
    card, _code = card_with("5.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        GiftCard.objects.filter(pk=card.pk).update(balance=Decimal("-0.01"))


def test_staff_see_balance_and_ledger_never_the_code_and_can_disable_a_card(admin_client, offers):
    card, code = card_with("40.00")
    order_place(
        cart_lines=[CartLine(offers[0], 1, offers[0].price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_card_code=code,
    )
    page = admin_client.get(f"/admin/orders/giftcard/{card.pk}/change/").content.decode()
    assert "20.05" in page and "Spent on an order" in page
    assert code not in page and giftcards.normalise_code(code) not in page
    listing = admin_client.get("/admin/orders/giftcard/", {"q": card.last4}).content.decode()
    assert f"…{card.last4}" in listing
    admin_client.post("/admin/orders/giftcard/", {"action": "disable", "_selected_action": [card.pk]}, follow=True)
    card.refresh_from_db()
    assert card.disabled
    with pytest.raises(giftcards.GiftCardRefused, match="can no longer be used"):
        giftcards.check(code)


def test_erasing_the_buyer_removes_whom_they_sent_gift_cards_to_and_their_message_but_not_the_card(offers):
    from orders import privacy_data

    order = order_place(
        cart_lines=[],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_cards=[_gift("Robert", "robert@example.com", "Alles Gute")],
    )
    exported = privacy_data.personal_data("clara@example.com", None)["orders"][0]["gift_cards_bought"]
    assert exported == [
        {
            "amount": "30.00",
            "recipient_name": "Robert",
            "recipient_email": "robert@example.com",
            "message": "Alles Gute",
        }
    ]
    Order.objects.filter(pk=order.pk).update(status=Status.SHIPPED)
    privacy_data.erase("clara@example.com", None)
    line = order.gift_card_lines.get()
    assert (line.recipient_name, line.recipient_email, line.message) == ("", "erased@invalid", "")
    assert line.amount == Decimal("30.00")


def _gift(name, email, message=""):
    from orders.cart import GiftCardItem

    return GiftCardItem(key="k", amount=Decimal("30.00"), recipient_name=name, recipient_email=email, message=message)


def test_a_paid_gift_card_order_left_uncaptured_is_settled_by_the_next_word_from_the_processor(
    client, payment_sandbox, django_capture_on_commit_callbacks
):
    client.post("/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "r@example.com"})
    response = checkout_page(client)
    pay(response["Location"])
    order = Order.objects.get()
    intent = next(iter(payment_sandbox.intents))
    # As a first sync leaves it when the processor fails it between authorising and capturing.
    Order.objects.filter(pk=order.pk).update(
        status=Status.AUTHORISED, payment_intent_id=intent, amount_authorised=Decimal("25.00")
    )
    event = next(e for e in payment_sandbox.events if e["type"] == "checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    order.refresh_from_db()
    assert order.status == Status.SHIPPED and payment_sandbox.intents[intent]["amount_received"] == 2500
    assert [m.to for m in mail.outbox] == [["r@example.com"]]


def test_the_checkout_summary_adds_gift_cards_to_every_shipping_total_without_making_shipping_free(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})  # 15.00: standard shipping 4.95
    client.post("/gift-cards/", {"amount": "100", "recipient_name": "Robert", "recipient_email": "r@example.com"})
    page = client.get("/checkout/")
    body = page.content.decode()
    assert page.context["total"] == Decimal("119.95") and page.context["shipping"] == Decimal("4.95")
    assert 'data-total="€119.95"' in body and "Gift card for Robert" in body


def test_a_checkout_of_gift_cards_alone_asks_for_no_delivery(client, payment_sandbox):
    client.post("/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "r@example.com"})
    page = client.get("/checkout/")
    assert (
        page.context["total"] == Decimal("25.00") and "No shipping: gift cards come by email" in page.content.decode()
    )
    body = page.content.decode()
    assert 'id="shipping-options"' not in body
    # Nothing ships: no delivery address or shipping method is asked for.
    assert "Gift cards come by email: there is nothing to ship." in body
    assert 'name="shipping_method"' not in body and 'name="same_address"' not in body
    token = page.context["form"].initial["checkout_token"]
    form = {k: v for k, v in CHECKOUT.items() if k not in ("shipping_method", "same_address")}
    assert client.post("/checkout/", {**form, "checkout_token": token}).status_code == 302
    order = Order.objects.get()
    assert (order.shipping_line1, order.shipping_country, order.shipping_cost) == ("1 Wieck Street", "DE", 0)


def test_a_holder_checks_the_balance_and_sees_only_the_last_four_of_the_code(client):
    card, code = card_with("17.50")
    assert client.get("/gift-cards/balance/").status_code == 200

    response = client.post("/gift-cards/balance/", {"code": code.lower().replace("-", " ")})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = response.content.decode()
    assert f"Gift card …{card.last4} has €17.50 left." in shown
    assert code not in shown and giftcards.normalise_code(code) not in shown
    german = client.post("/de/gift-cards/balance/", {"code": code}).content.decode()
    assert f"Geschenkgutschein …{card.last4}" in german and "17,50\xa0€" in german


def test_the_balance_page_says_why_a_card_cannot_be_spent(client):
    _, expired = card_with("5.00", expires_in_days=-1)
    _, disabled = card_with("5.00", disabled=True)

    assert "expired on" in client.post("/gift-cards/balance/", {"code": expired}).content.decode()
    assert "can no longer be used" in client.post("/gift-cards/balance/", {"code": disabled}).content.decode()
    unknown = client.post("/gift-cards/balance/", {"code": "2222-2222-2222-2222"})
    assert unknown.status_code == 400 and "We do not know that gift card code" in unknown.content.decode()
    assert client.post("/gift-cards/balance/", {"code": ""}).status_code == 400


def test_guessing_on_the_balance_page_counts_with_the_checkout_and_is_throttled(client, offers, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "gift_card_code": "3/h"}
    _card, code = card_with("10.00")
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    assert checkout_page(client, gift_card_code="2222-2222-2222-2222").status_code == 400
    for guess in ["3333-3333-3333-3333", "4444-4444-4444-4444", "5555-5555-5555-5555"]:
        assert client.post("/gift-cards/balance/", {"code": guess}).status_code == 400

    response = client.post("/gift-cards/balance/", {"code": code})

    assert response.status_code == 429 and "Too many unknown gift card codes" in response.content.decode()
    assert "€10.00" not in response.content.decode()


def test_a_voucher_entered_for_a_cart_of_gift_cards_alone_is_refused_saying_why(client):
    VoucherFactory(code="BACH10")
    client.post("/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "r@example.com"})

    response = client.post("/cart/voucher/", {"code": "BACH10"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "Vouchers take money off recordings, not gift cards" in body and "Your cart is empty" not in body
    assert "Gift card for Robert" in body  # the cart is as it was


def _issued_card(capture, recipient_email="robert@example.com"):
    """A €30 card bought for Robert and issued: the card and the code his email carried."""
    order = order_place(
        cart_lines=[],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_cards=[_gift("Robert", recipient_email, "Alles Gute")],
    )
    with capture(execute=True):
        (card,) = giftcards.gift_cards_issue(order)
    (email,) = [m for m in mail.outbox if m.to == [recipient_email]]
    return card, CODE.search(email.body).group()


def test_staff_replace_a_lost_code_the_old_stops_working_and_the_new_one_with_the_balance_goes_to_the_corrected_address(
    admin_client, offers, django_capture_on_commit_callbacks
):
    card, old_code = _issued_card(django_capture_on_commit_callbacks, recipient_email="robert@exmaple.com")
    order_place(  # Robert spent part of it before the email was lost
        cart_lines=[CartLine(offers[0], 1, Decimal("15.00"))],
        customer=None,
        checkout=checkout_details(email="robert@example.com"),
        checkout_token=uuid.uuid4(),
        gift_card_code=old_code,
    )
    card.refresh_from_db()
    assert card.balance == Decimal("10.05")
    desk = admin_client
    page = desk.get(f"/admin/orders/giftcard/{card.pk}/change/").content.decode()
    replace = f"/admin/orders/giftcard/{card.pk}/replace/"
    assert f'href="{replace}"' in page
    form = desk.get(replace).content.decode()
    assert "10.05 EUR" in form and 'value="robert@exmaple.com"' in form
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        done = desk.post(replace, {"send_to": "robert@example.com"}, follow=True)

    new = GiftCard.objects.get(replaces=card)
    assert done.redirect_chain[-1][0] == f"/admin/orders/giftcard/{new.pk}/change/"
    assert "whose code is on its way to robert@example.com" in done.content.decode()
    (sent,) = mail.outbox
    assert sent.to == ["robert@example.com"] and sent.subject == "A new code for your Arkiv gift card"
    assert "new code for your Arkiv gift card, with its balance of €10.05" in sent.body
    new_code = CODE.search(sent.body).group()
    assert new_code != old_code and giftcards.find(new_code) == new
    assert new.balance == Decimal("10.05") and new.expires_at == card.expires_at
    with pytest.raises(giftcards.GiftCardRefused, match="can no longer be used"):
        giftcards.check(old_code)
    card.refresh_from_db()
    assert card.disabled and card.balance == 0
    assert [(e.kind, e.amount) for e in card.entries.all()][-1] == ("moved_out", Decimal("-10.05"))
    assert [(e.kind, e.amount) for e in new.entries.all()] == [("moved_in", Decimal("10.05"))]
    assert new_code not in desk.get(f"/admin/orders/giftcard/{new.pk}/change/").content.decode()
    old_page = desk.get(f"/admin/orders/giftcard/{card.pk}/change/").content.decode()
    assert "Replaced by" in old_page and f"…{new.last4}" in old_page
    # The new code pays.
    paid = order_place(
        cart_lines=[CartLine(offers[1], 1, offers[1].price)],
        customer=None,
        checkout=checkout_details(email="robert@example.com"),
        checkout_token=uuid.uuid4(),
        gift_card_code=new_code,
    )
    assert paid.gift_card == new and paid.gift_card_amount == Decimal("10.05")


def test_a_second_click_on_replace_sends_no_second_code(admin_client, django_capture_on_commit_callbacks):
    card, _ = _issued_card(django_capture_on_commit_callbacks)
    replace = f"/admin/orders/giftcard/{card.pk}/replace/"
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(replace, {"send_to": "robert@example.com"})
        again = admin_client.post(replace, {"send_to": "robert@example.com"}, follow=True)

    assert "already replaced" in again.content.decode()
    assert len(mail.outbox) == 1 and GiftCard.objects.count() == 2


def test_a_card_with_nothing_to_move_cannot_be_replaced_and_a_bad_address_is_refused(
    admin_client, django_capture_on_commit_callbacks
):
    card, _ = _issued_card(django_capture_on_commit_callbacks)
    replace = f"/admin/orders/giftcard/{card.pk}/replace/"

    bad = admin_client.post(replace, {"send_to": "robert at example"})
    assert bad.status_code == 400 and "Enter a valid email address." in bad.content.decode()

    GiftCard.objects.filter(pk=card.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    refused = admin_client.get(replace, follow=True).content.decode()
    assert "This card has expired; its balance cannot be moved to a new code." in refused
    assert GiftCard.objects.count() == 1


def test_a_recipient_reading_german_gets_the_new_code_in_german(admin_client, django_capture_on_commit_callbacks):
    card, _ = _issued_card(django_capture_on_commit_callbacks)
    card.purchase.order.__class__.objects.filter(pk=card.purchase.order_id).update(language="de")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/orders/giftcard/{card.pk}/replace/", {"send_to": "robert@example.com"})

    (sent,) = mail.outbox
    assert sent.subject == "Ein neuer Code für Ihren Arkiv-Geschenkgutschein"
    assert "Hier ist ein neuer Code für Ihren Arkiv-Geschenkgutschein" in sent.body and "30,00" in sent.body


def test_staff_who_may_only_view_gift_cards_cannot_replace_a_code(
    django_user_model, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from tests.orders.helpers import staff_client

    card, _ = _issued_card(django_capture_on_commit_callbacks)
    user = django_user_model.objects.create_user(
        email="desk@arkiv.example", password="a-long-passphrase", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Fulfilment"))
    desk = staff_client(user)

    assert desk.get(f"/admin/orders/giftcard/{card.pk}/change/").status_code == 200
    assert desk.post(f"/admin/orders/giftcard/{card.pk}/replace/", {"send_to": "robert@example.com"}).status_code == 403
    assert GiftCard.objects.count() == 1

"""Discount vouchers: entered in the cart, checked again when the order is placed, spread
over the lines they apply to, and shown in the totals, the order, the email, the invoice,
the processor's amount and the refunds."""

import csv
import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Format, Genre, Offer
from orders import returns, vat
from orders.models import Invoice, Order, Status, Voucher, VoucherRedemption
from orders.services import OrderError, order_place, order_refund, order_ship, orders_expire_unpaid, payment_abandon
from tests.factories import (
    ComposerFactory,
    LabelFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    VoucherFactory,
    checkout_details,
)
from tests.orders.helpers import CHECKOUT, pay

pytestmark = pytest.mark.django_db


def fill_cart(client, offers, quantities=(2, 1)):
    for offer, quantity in zip(offers, quantities, strict=True):
        client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity})


def place(lines, *, code="", email="clara@example.com"):
    from orders.cart import CartLine

    cart_lines = [CartLine(offer, quantity, offer.price) for offer, quantity in lines]
    return order_place(
        cart_lines=cart_lines,
        customer=None,
        checkout=checkout_details(email=email),
        checkout_token=uuid.uuid4(),
        voucher_code=code,
    )


# -- the cart ------------------------------------------------------------------------------


def test_a_voucher_typed_in_any_case_shows_its_discount_and_the_new_total_in_the_cart(client, offers):
    VoucherFactory(code="BACH10", value=Decimal("10"))
    fill_cart(client, offers)  # 2 x 15.00 + 22.00 = 52.00

    response = client.post("/cart/voucher/", {"code": " bach10 "}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Voucher BACH10 applied: €5.20 off." in page
    assert response.context["discount"] == Decimal("5.20")
    assert 'id="cart-discount-amount">−€5.20</td>' in page and 'id="cart-total">€51.75</td>' in page
    # 46.80 of goods is under the 60.00 free-shipping threshold: 4.95 shipping.
    assert response.context["total"] == Decimal("51.75")
    assert client.session["voucher"] == "BACH10"


def test_the_remove_button_takes_the_voucher_off_the_cart(client, offers):
    VoucherFactory(code="BACH10")
    fill_cart(client, offers)
    client.post("/cart/voucher/", {"code": "BACH10"})

    response = client.post("/cart/voucher/remove/", follow=True)

    assert "voucher" not in client.session
    assert response.context["discount"] == Decimal("0.00") and response.context["total"] == Decimal("56.95")
    assert "The voucher was removed from your cart." in response.content.decode()


def _yesterday():
    return timezone.now() - datetime.timedelta(days=1)


def _tomorrow():
    return timezone.now() + datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("voucher", "code", "reason"),
    [
        ({}, "NOSUCH", "We do not know the voucher code NOSUCH. Please check it."),
        ({}, "", "Enter a voucher code."),
        ({"code": "LATER", "valid_from": _tomorrow}, "LATER", "The voucher LATER is valid from"),
        ({"code": "GONE", "valid_until": _yesterday}, "GONE", "The voucher GONE expired on"),
        ({"code": "OFF", "active": False}, "OFF", "The voucher OFF is no longer valid."),
        (
            {"code": "BIG", "minimum_order": Decimal("80.00")},
            "BIG",
            "The voucher BIG is for orders of €80.00 or more: add €28.00 to use it.",
        ),
        ({"code": "LP", "formats": [Format.LP]}, "LP", "The voucher LP does not apply to anything in your cart."),
    ],
)
def test_a_code_that_cannot_be_used_is_refused_with_the_reason_and_a_400(client, offers, voucher, code, reason):
    if voucher:
        VoucherFactory(**{k: v() if callable(v) else v for k, v in voucher.items()})
    fill_cart(client, offers)

    response = client.post("/cart/voucher/", {"code": code})

    assert response.status_code == 400
    assert reason in response.content.decode().replace("&#x27;", "'")
    assert "voucher" not in client.session
    assert response.context["total"] == Decimal("56.95")


def test_a_used_up_voucher_is_refused_and_says_so(client, offers):
    voucher = VoucherFactory(code="ONCE", max_uses=1)
    place([(OfferFactory(price=Decimal("10.00"), stock=5), 1)], code="ONCE", email="first@example.com")
    assert voucher.redemptions.count() == 1
    fill_cart(client, offers)

    response = client.post("/cart/voucher/", {"code": "once"})

    assert response.status_code == 400
    assert "The voucher ONCE has been used up." in response.content.decode()


def test_a_signed_in_customer_who_used_the_voucher_is_told_so_in_the_cart(client, offers, django_user_model):
    VoucherFactory(code="WELCOME", max_uses_per_customer=1)
    user = django_user_model.objects.create_user(email="clara@example.com", password="x" * 20)
    place([(OfferFactory(price=Decimal("10.00"), stock=5), 1)], code="WELCOME", email="Clara@Example.com")
    client.force_login(user)
    fill_cart(client, offers)

    response = client.post("/cart/voucher/", {"code": "WELCOME"})

    assert response.status_code == 400
    assert "You have already used the voucher WELCOME." in response.content.decode()


def test_an_empty_cart_takes_no_voucher(client):
    VoucherFactory(code="BACH10")
    response = client.post("/cart/voucher/", {"code": "BACH10"})
    assert response.status_code == 400
    assert "Your cart is empty" in response.content.decode()


def test_a_voucher_that_stops_applying_is_flagged_in_the_cart_and_checkout_waits(client, offers):
    VoucherFactory(code="BIG", minimum_order=Decimal("50.00"))
    fill_cart(client, offers)
    client.post("/cart/voucher/", {"code": "BIG"})
    client.post("/cart/update/", {"offer": offers[0].pk, "quantity": 1})  # 37.00 now

    cart = client.get("/cart/")
    checkout = client.get("/checkout/")

    assert "add €13.00 to use it" in cart.content.decode()
    assert cart.context["discount"] == Decimal("0.00")
    assert 'href="/checkout/"' not in cart.content.decode()
    assert checkout.status_code == 302 and checkout["Location"] == "/cart/"


def test_a_german_shopper_is_told_why_in_german(client, offers):
    fill_cart(client, offers)
    response = client.post("/de/cart/voucher/", {"code": "NOSUCH"})
    assert response.status_code == 400
    assert "Den Gutscheincode NOSUCH kennen wir nicht." in response.content.decode()


def test_codes_are_unique_whatever_their_case():
    Voucher.objects.create(code="BRAHMS", kind="fixed", value=Decimal("5"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(code="brahms", kind="fixed", value=Decimal("5"))


# -- which lines a voucher applies to ------------------------------------------------------


def _record(price, *, composer=None, label=None, genre=Genre.CHAMBER, format=Format.CD):
    release = ReleaseFactory(label=label or LabelFactory(), format=format)
    RecordingFactory(release=release, work__composer=composer or ComposerFactory(), work__genre=genre)
    return OfferFactory(release=release, price=Decimal(price), stock=10)


def test_a_restricted_voucher_discounts_only_lines_matching_any_value_of_each_kind():
    brahms, schumann = ComposerFactory(name="Brahms"), ComposerFactory(name="Schumann")
    label = LabelFactory()
    brahms_cd = _record("20.00", composer=brahms, label=label)
    schumann_lp = _record("30.00", composer=schumann, label=label, format=Format.LP)
    brahms_other_label = _record("10.00", composer=brahms)
    mozart_cd = _record("40.00", label=label)
    voucher = VoucherFactory(code="ROMANTIC", value=Decimal("50"), formats=[Format.CD, Format.LP])
    voucher.composers.set([brahms, schumann])
    voucher.labels.set([label])

    order = place([(brahms_cd, 1), (schumann_lp, 1), (brahms_other_label, 1), (mozart_cd, 1)], code="ROMANTIC")

    discounts = {line.offer_id: line.discount for line in order.lines.all()}
    assert discounts == {
        brahms_cd.pk: Decimal("10.00"),
        schumann_lp.pk: Decimal("15.00"),
        brahms_other_label.pk: Decimal("0.00"),
        mozart_cd.pk: Decimal("0.00"),
    }
    assert order.discount == Decimal("25.00")


def test_a_genre_voucher_applies_to_releases_with_a_work_of_that_genre():
    opera = _record("30.00", genre=Genre.STAGE)
    chamber = _record("30.00", genre=Genre.CHAMBER)
    VoucherFactory(code="OPERA", kind="fixed", value=Decimal("5.00"), genres=[Genre.STAGE])

    order = place([(opera, 1), (chamber, 1)], code="OPERA")

    assert {line.offer_id: line.discount for line in order.lines.all()} == {
        opera.pk: Decimal("5.00"),
        chamber.pk: Decimal("0.00"),
    }


# -- the order: discount per line, VAT, totals, limits -------------------------------------


def test_a_fixed_amount_is_spread_by_line_totals_with_leftover_cents_to_the_largest_remainders():
    a, b, c = (OfferFactory(price=Decimal("10.00"), stock=5) for _ in range(3))
    VoucherFactory(code="TEN", kind="fixed", value=Decimal("10.00"))

    order = place([(a, 1), (b, 1), (c, 1)], code="TEN")

    shares = sorted(line.discount for line in order.lines.all())
    assert shares == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    assert order.discount == Decimal("10.00")


def test_a_fixed_amount_never_takes_off_more_than_the_lines_it_applies_to():
    offer = OfferFactory(price=Decimal("12.00"), stock=5)
    VoucherFactory(code="HUNDRED", kind="fixed", value=Decimal("100.00"))

    order = place([(offer, 1)], code="HUNDRED")

    assert order.discount == Decimal("12.00")
    assert order.total == order.shipping_cost  # only shipping is left to pay


def test_the_order_stores_each_lines_discount_its_vat_on_what_was_paid_and_a_total_that_adds_up(offers):
    VoucherFactory(code="BACH10", value=Decimal("10"))

    order = place([(offers[0], 2), (offers[1], 1)], code="BACH10")

    rate = vat.vat_rate_for("DE")
    lines = {line.offer_id: line for line in order.lines.all()}
    assert lines[offers[0].pk].discount == Decimal("3.00") and lines[offers[1].pk].discount == Decimal("2.20")
    assert lines[offers[0].pk].vat_amount == vat.vat_in(Decimal("27.00"), rate) == Decimal("4.31")
    assert lines[offers[1].pk].vat_amount == vat.vat_in(Decimal("19.80"), rate)
    assert (order.subtotal, order.discount, order.shipping_cost, order.total) == (
        Decimal("52.00"),
        Decimal("5.20"),
        Decimal("4.95"),
        Decimal("51.75"),
    )
    redemption = VoucherRedemption.objects.get()
    assert (redemption.order, redemption.email, redemption.amount) == (order, "clara@example.com", Decimal("5.20"))


def test_free_shipping_looks_at_the_goods_after_the_discount():
    offer = OfferFactory(price=Decimal("15.00"), stock=10)
    VoucherFactory(code="BACH10", value=Decimal("10"))

    without = place([(offer, 4)])  # 60.00: free shipping
    with_voucher = place([(offer, 4)], code="BACH10")  # 54.00 after the discount

    assert without.shipping_cost == Decimal("0.00")
    assert with_voucher.shipping_cost == Decimal("4.95") and with_voucher.total == Decimal("58.95")


def test_the_per_customer_limit_counts_a_guest_by_their_normalised_email():
    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    VoucherFactory(code="WELCOME", max_uses_per_customer=1)
    place([(offer, 1)], code="WELCOME", email="Clara@Example.com")

    with pytest.raises(OrderError, match="You have already used the voucher WELCOME"):
        place([(offer, 1)], code="WELCOME", email="clara@example.com ")
    place([(offer, 1)], code="WELCOME", email="robert@example.com")  # someone else may


def test_a_voucher_used_up_before_the_order_is_placed_refuses_the_order_and_places_nothing():
    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    VoucherFactory(code="ONCE", max_uses=1)
    place([(offer, 1)], code="ONCE", email="first@example.com")

    with pytest.raises(OrderError, match="The voucher ONCE has been used up. Nothing was ordered"):
        place([(offer, 1)], code="ONCE", email="second@example.com")

    assert Order.objects.count() == 1
    assert Offer.objects.get(pk=offer.pk).stock == 9


def test_an_order_that_expires_unpaid_gives_its_use_back():
    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    voucher = VoucherFactory(code="ONCE", max_uses=1, max_uses_per_customer=1)
    place([(offer, 1)], code="ONCE")

    assert orders_expire_unpaid(now=timezone.now() + datetime.timedelta(days=1)) == 1

    assert voucher.redemptions.get().released_at is not None
    again = place([(offer, 1)], code="ONCE")  # the same customer, as the use came back
    assert again.discount == Decimal("2.00")


def test_an_order_whose_payment_fails_gives_its_use_back():
    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    voucher = VoucherFactory(code="ONCE", max_uses=1)
    order = place([(offer, 1)], code="ONCE")

    payment_abandon(order, reason="Card declined")

    assert voucher.redemptions.get().released_at is not None
    assert place([(offer, 1)], code="ONCE", email="robert@example.com").discount == Decimal("2.00")


def test_checkout_with_a_voucher_used_up_meanwhile_is_refused_with_a_message_and_the_cart_kept(client, offers):
    VoucherFactory(code="ONCE", max_uses=1)
    fill_cart(client, offers)
    client.post("/cart/voucher/", {"code": "ONCE"})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    place([(OfferFactory(price=Decimal("10.00"), stock=5), 1)], code="ONCE", email="quicker@example.com")

    response = client.post("/checkout/", {**CHECKOUT, "checkout_token": token}, follow=True)

    assert response.redirect_chain[-1][0] == "/cart/"
    page = response.content.decode()
    assert "The voucher ONCE has been used up." in page
    assert not Order.objects.filter(email="clara@example.com").exists()
    assert len(response.context["lines"]) == 2  # the cart as it was


# -- the whole purchase: processor, email, order page, invoice, refunds --------------------


def test_a_purchase_with_a_voucher_is_charged_invoiced_and_refunded_at_what_was_paid(
    client, payment_sandbox, offers, admin_user, django_capture_on_commit_callbacks
):
    VoucherFactory(code="BACH10", value=Decimal("10"))
    fill_cart(client, offers)
    client.post("/cart/voucher/", {"code": "bach10"})
    page = client.get("/checkout/")
    assert page.context["discount"] == Decimal("5.20") and page.context["total"] == Decimal("51.75")
    assert "Voucher BACH10" in page.content.decode()

    response = client.post("/checkout/", {**CHECKOUT, "checkout_token": page.context["form"].initial["checkout_token"]})
    order = Order.objects.get()
    assert payment_sandbox.sessions[order.payment_session_id]["amount_total"] == 5175

    pay(response["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/orders/{order.number}/paid/")
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and order.amount_authorised == Decimal("51.75")
    assert "voucher" not in client.session
    confirmation = mail.outbox[-1]
    assert "Voucher discount: −€5.20" in confirmation.body and "Total: €51.75" in confirmation.body
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "Voucher BACH10" in detail and "−€5.20" in detail

    order_ship(order, carrier="DHL", tracking_number="JD1", by=admin_user)
    assert payment_sandbox.intents[order.payment_intent_id]["amount_received"] == 5175
    invoice = Invoice.objects.get(order=order, kind=Invoice.Kind.INVOICE)
    goods = {line.description.split(" (")[0]: line for line in invoice.lines.all()}
    fifteen = goods[offers[0].release.title]
    assert (fifteen.quantity, fifteen.unit_price, fifteen.discount, fifteen.total) == (
        2,
        Decimal("15.00"),
        Decimal("3.00"),
        Decimal("27.00"),
    )
    assert invoice.total == Decimal("51.75")
    rate = vat.vat_rate_for("DE")
    assert invoice.total_vat == vat.vat_in(Decimal("27.00"), rate) + vat.vat_in(Decimal("19.80"), rate) + vat.vat_in(
        Decimal("4.95"), rate
    )
    html = client.get(f"/orders/{order.number}/invoices/{invoice.number}/").content.decode()
    assert "Voucher discount" in html and "−€3.00" in html
    # The accountant's order export shows the discount, so its columns add up to the total.
    out = io.StringIO()
    today = timezone.localdate().isoformat()
    call_command("export_accounts", "orders", "--from", today, "--to", today, stdout=out)
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    exported = dict(zip(header, row, strict=True))
    assert (exported["subtotal"], exported["discount"], exported["shipping"], exported["total"]) == (
        "52.00",
        "5.20",
        "4.95",
        "51.75",
    )

    # A return of one of the two 15.00 copies gives back what it was paid: 13.50.
    line = order.lines.get(offer=offers[0])
    assert returns.returnable_quantities(order)[line.pk] == 2
    ret = returns.return_open(order=order, quantities={line.pk: 1}, reason="faulty", token=uuid.uuid4())
    assert ret.amount == Decimal("13.50")
    # Staff refund the other line (22.00 less its 2.20 share) from the order.
    other = order.lines.get(offer=offers[1])
    order_refund(order, amount=other.paid_for(1), lines=[(other, 1)], by=admin_user)
    assert payment_sandbox.intents[order.payment_intent_id]["amount_refunded"] == 1980
    note = Invoice.objects.get(order=order, kind=Invoice.Kind.CREDIT_NOTE)
    credited = note.lines.get()
    assert (credited.discount, credited.total) == (Decimal("2.20"), Decimal("19.80"))
    assert credited.vat_amount == vat.vat_in(Decimal("19.80"), rate)


def test_copies_of_a_discounted_line_refund_to_exactly_what_the_line_was_paid():
    a, b = OfferFactory(price=Decimal("10.00"), stock=5), OfferFactory(price=Decimal("10.00"), stock=5)
    VoucherFactory(code="FIVE", kind="fixed", value=Decimal("5.00"))
    order = place([(a, 3), (b, 1)], code="FIVE")
    line = order.lines.get(offer=a)  # 30.00 less 3.75 = 26.25 for three copies

    shares = [line.paid_for(1, already=n) for n in range(3)]

    assert line.discount == Decimal("3.75")
    assert sum(shares) == Decimal("26.25") and set(shares) <= {Decimal("8.75")}


# -- staff ---------------------------------------------------------------------------------


def test_staff_see_each_vouchers_uses_against_its_limit_and_find_it_by_code(admin_client):
    voucher = VoucherFactory(code="SPRING", max_uses=5)
    VoucherFactory(code="AUTUMN")
    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    place([(offer, 1)], code="SPRING", email="a@example.com")
    place([(offer, 1)], code="SPRING", email="b@example.com")

    listing = admin_client.get("/admin/orders/voucher/", {"q": "spring"})
    page = admin_client.get(f"/admin/orders/voucher/{voucher.pk}/change/").content.decode()

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [voucher]
    assert "2 / 5" in listing.content.decode()
    assert "a@example.com" in page and "b@example.com" in page


def test_staff_create_a_voucher_with_a_generated_code_and_see_its_use_on_the_order(admin_client):
    response = admin_client.post(
        "/admin/orders/voucher/add/",
        {
            "code": "",
            "description": "Newsletter",
            "active": "on",
            "kind": "fixed",
            "value": "5.00",
            "minimum_order": "30.00",
            "max_uses_per_customer": "1",
            "genres": [Genre.STAGE],
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    voucher = Voucher.objects.get(description="Newsletter")
    assert len(voucher.code) == 10 and voucher.code.isupper() and voucher.genres == [Genre.STAGE]

    opera = _record("40.00", genre=Genre.STAGE)
    order = place([(opera, 1)], code=voucher.code.lower())
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert voucher.code in page and "5.00" in page


def test_a_percentage_over_100_is_refused_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/orders/voucher/add/",
        {
            "code": "TOOMUCH",
            "kind": "percentage",
            "value": "150",
            "minimum_order": "0",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A percentage cannot be more than 100." in response.content.decode()
    assert not Voucher.objects.exists()


def test_catalog_editors_manage_vouchers_and_fulfilment_sees_their_use():
    editors, fulfilment = Group.objects.get(name="Catalog editors"), Group.objects.get(name="Fulfilment")
    assert {"add_voucher", "change_voucher", "delete_voucher", "view_voucher"} <= set(
        editors.permissions.values_list("codename", flat=True)
    )
    assert "view_voucherredemption" not in set(editors.permissions.values_list("codename", flat=True))
    assert {"view_voucher", "view_voucherredemption"} <= set(fulfilment.permissions.values_list("codename", flat=True))


def test_the_voucher_list_takes_the_same_queries_however_many_vouchers_and_uses(admin_client):
    """Guards the uses column: counted in the list's query, not once per voucher."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    offer = OfferFactory(price=Decimal("20.00"), stock=50)

    def queries_with(count):
        for n in range(count):
            VoucherFactory()
            place([(offer, 1)], code=Voucher.objects.first().code, email=f"q{count}-{n}@example.com")
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get("/admin/orders/voucher/").status_code == 200
        return len(queries)

    assert queries_with(2) == queries_with(4)


def test_a_restricted_voucher_in_the_cart_takes_the_same_queries_however_many_lines(client):
    """Guards the eligibility check: one query for the cart's recordings, not one per line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    brahms = ComposerFactory()
    voucher = VoucherFactory(code="BRAHMS")
    voucher.composers.set([brahms])

    def queries_with(count):
        client.post("/cart/voucher/remove/")
        for _ in range(count):
            client.post("/cart/add/", {"offer": _record("20.00", composer=brahms).pk, "quantity": 1})
        client.post("/cart/voucher/", {"code": "BRAHMS"})
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/cart/").context["discount"] > 0
        return len(queries)

    assert queries_with(1) == queries_with(3)


def test_erasing_a_customer_removes_their_address_from_the_vouchers_uses():
    from orders import privacy_data

    offer = OfferFactory(price=Decimal("20.00"), stock=10)
    voucher = VoucherFactory(code="ONCE", max_uses=1)
    place([(offer, 1)], code="ONCE")

    privacy_data.erase("clara@example.com", None)

    assert not VoucherRedemption.objects.filter(email="clara@example.com").exists()
    assert voucher.redemptions.count() == 1  # still used up

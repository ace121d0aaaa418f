"""The cart page and add to cart take shortcuts and still tell the truth: a page seen
before is reused only while everything it is made from is the same (offers as read, gift
cards, voucher, country, shipping rates), add to cart reads its two numbers without a form
and refuses what the form refuses, the offers query PostgreSQL prepares once per
connection still reads today's prices, and a session written without waiting for the
disk flush leaves every other transaction fully durable."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Offer
from orders.models import ShippingRate, Voucher
from privacy.models import AccountSession
from tests.factories import OfferFactory, VoucherFactory

pytestmark = pytest.mark.django_db


def add(client, offer, quantity=1, **extra):
    return client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity, **extra})


def page(client, path="/cart/"):
    return client.get(path).content.decode()


def statements(captured):
    return [query["sql"] for query in captured.captured_queries]


# -- add to cart: the numbers it reads -------------------------------------------------


def test_an_offer_number_too_large_for_any_database_row_is_refused_with_a_message(client):
    response = client.post("/cart/add/", {"offer": "9" * 20, "quantity": "1"}, follow=True)

    assert response.status_code == 200
    assert "Choose a quantity between 1 and 99." in response.content.decode()
    assert client.session.get("cart_count", 0) == 0


@pytest.mark.parametrize("quantity", ["0", "100", "-1", "two", "", "1.5"])
def test_a_quantity_the_form_refuses_is_refused_and_the_cart_is_left_as_it_was(client, quantity):
    offer = OfferFactory(stock=200)
    add(client, offer, 2)

    response = client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity}, follow=True)

    assert "Choose a quantity between 1 and 99." in response.content.decode()
    assert client.session["cart_count"] == 2


@pytest.mark.parametrize(("quantity", "count"), [("3", 3), (" 3 ", 3), ("03", 3), ("99", 99), ("３", 3)])
def test_a_quantity_written_as_a_browser_may_send_it_is_added(client, quantity, count):
    offer = OfferFactory(stock=200)

    response = client.post("/cart/add/", {"offer": str(offer.pk), "quantity": quantity})

    assert response.status_code == 302
    assert client.session["cart_count"] == count


def test_an_add_goes_back_to_the_page_it_came_from_else_to_the_release(client):
    offer = OfferFactory(stock=5)

    assert add(client, offer, next="/composers/")["Location"] == "/composers/"
    assert add(client, offer, next="https://elsewhere.example/")["Location"] == offer.release.get_absolute_url()
    assert client.post("/cart/add/", {"offer": "x", "quantity": 1})["Location"] == "/cart/"


# -- the cart page: reused only for what it is made from ----------------------------------


def test_a_gift_card_added_or_removed_shows_on_the_cart_page_seen_before(client):
    add(client, OfferFactory(stock=5, price=Decimal("20.00")))
    before = page(client)
    client.post("/gift-cards/", {"amount": "25", "recipient_name": "Robert", "recipient_email": "r@example.com"})

    with_card = page(client)

    assert "Robert" not in before and "Robert" in with_card
    key = client.session["cart_gift_cards"][0]["k"]
    client.post("/cart/gift-cards/remove/", {"key": key})
    assert "Robert" not in page(client)


def test_a_voucher_applied_or_ended_by_staff_shows_on_the_cart_page_seen_before(client):
    VoucherFactory(code="BACH10", value=Decimal("10"))
    add(client, OfferFactory(stock=5, price=Decimal("20.00")), 2)
    assert "−€4.00" not in page(client)

    client.post("/cart/voucher/", {"code": "BACH10"})
    assert "−€4.00" in page(client)
    assert "−€4.00" in page(client)  # seen again, still with its discount

    Voucher.objects.filter(code="BACH10").update(valid_until=timezone.now() - timedelta(minutes=1))
    assert "−€4.00" not in page(client)


def test_a_shipping_rate_changed_by_staff_shows_on_the_cart_page_seen_before(client):
    add(client, OfferFactory(stock=5, price=Decimal("10.00")))
    assert "€7.77" not in page(client, "/cart/?country=GB")

    rate = ShippingRate.objects.get(zone__name="Domestic", method="standard")
    rate.price, rate.free_from = Decimal("7.77"), None
    rate.save()

    assert "€7.77" in page(client, "/cart/?country=GB")


def test_the_same_cart_with_another_delivery_country_or_a_refused_one_is_its_own_page(client):
    add(client, OfferFactory(stock=5, price=Decimal("10.00")))
    domestic = page(client, "/cart/?country=DE")
    abroad = page(client, "/cart/?country=US")
    refused = client.get("/cart/?country=XX")

    assert "to Germany" in domestic and "to United States" in abroad
    assert refused.status_code == 400
    assert "Choose a country from the list to see its shipping costs." in refused.content.decode()
    assert "Choose a country from the list" not in page(client, "/cart/?country=DE")


def test_the_same_delivery_country_asked_again_is_remembered_without_writing_the_session(client):
    add(client, OfferFactory(stock=5, price=Decimal("10.00")))
    page(client, "/cart/?country=US")

    with CaptureQueriesContext(connection) as captured:
        again = page(client, "/cart/?country=US")

    assert "to United States" in again
    assert not [sql for sql in statements(captured) if "UPDATE" in sql or "INSERT" in sql]
    assert "to United States" in page(client)  # remembered for the plain cart page
    page(client, "/cart/?country=DE")
    assert "to Germany" in page(client)


def test_a_second_offer_in_the_same_cart_shows_on_the_cart_page_seen_before(client):
    first, second = OfferFactory(stock=5), OfferFactory(stock=5)
    add(client, first)
    assert second.release.title not in page(client)

    add(client, second, 2)

    shown = page(client)
    assert second.release.title in shown and first.release.title in shown


# -- PostgreSQL: the prepared offers query, the session written without the flush -------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_cart_reads_todays_price_through_the_prepared_query_even_after_the_server_forgot_it(postgres, client):
    offer = OfferFactory(stock=5, price=Decimal("12.00"))
    add(client, offer, 2)
    with CaptureQueriesContext(connection) as captured:
        assert "€24.00" in page(client)
    assert any(sql.startswith("EXECUTE arkiv_cart_offers_1") for sql in statements(captured))

    Offer.objects.filter(pk=offer.pk).update(price=Decimal("14.00"))
    assert "€28.00" in page(client)

    # As a pooler handing the connection to another session would leave it.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    Offer.objects.filter(pk=offer.pk).update(price=Decimal("15.00"))
    assert "€30.00" in page(client)
    assert "€30.00" in page(client)  # prepared again on the same connection

    connection.close()  # a new connection has nothing prepared
    Offer.objects.filter(pk=offer.pk).update(stock=1)
    assert "Only 1 left." in page(client)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_behind_a_pooler_the_deployer_can_turn_prepared_statements_off(postgres, client, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    offer = OfferFactory(stock=5, price=Decimal("12.00"))
    add(client, offer)

    with CaptureQueriesContext(connection) as captured:
        assert "€12.00" in page(client)

    assert not [sql for sql in statements(captured) if "PREPARE" in sql or "EXECUTE" in sql]


def _synchronous_commit():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_written_without_waiting_for_the_flush_is_kept_and_other_writes_stay_durable(postgres, client):
    offer = OfferFactory(stock=5)
    add(client, offer)

    with CaptureQueriesContext(connection) as captured:
        add(client, offer)

    writes = [sql for sql in statements(captured) if "UPDATE" in sql]
    assert len(writes) == 1 and writes[0].startswith("SET LOCAL synchronous_commit TO OFF;")
    stored = AccountSession.objects.get(session_key=client.session.session_key)
    assert stored.get_decoded()["cart"][str(offer.pk)]["q"] == 2
    # The same connection, next: a plain statement and an order's transaction wait for
    # the flush as the server is set to.
    assert _synchronous_commit() == "on"
    with transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(stock=4)
        assert _synchronous_commit() == "on"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sessions_can_be_written_with_full_durability(postgres, client, settings):
    settings.SESSION_WRITES_UNFLUSHED = False
    offer = OfferFactory(stock=5)
    add(client, offer)

    with CaptureQueriesContext(connection) as captured:
        add(client, offer)

    assert not [sql for sql in statements(captured) if "synchronous_commit" in sql]
    stored = AccountSession.objects.get(session_key=client.session.session_key)
    assert stored.get_decoded()["cart"][str(offer.pk)]["q"] == 2

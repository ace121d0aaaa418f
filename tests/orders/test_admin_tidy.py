"""The order screens read as staff talk: status moves in words, no expiry notice on a
paid order, no Save button where nothing can be changed, a search box that says what
it searches."""

import re
from decimal import Decimal

import pytest

from orders.services import payment_sync
from tests.factories import OfferFactory
from tests.orders.helpers import pay, staff_client
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers():
    return OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)


@pytest.fixture
def unpaid_order(client, payment_sandbox, offers):
    _url, order = checkout(client, offers)
    client.logout()
    return order


@pytest.fixture
def paid_order(client, payment_sandbox, offers):
    url, order = checkout(client, offers)
    pay(url)
    client.logout()
    return payment_sync(order)


def order_page(admin_user, order):
    return staff_client(admin_user).get(f"/admin/orders/order/{order.pk}/change/").content.decode()


def test_status_history_says_each_move_in_words_never_in_codes(admin_user, paid_order):
    page = order_page(admin_user, paid_order)
    assert "Awaiting payment → Paid (authorised)" in page
    assert "pending_payment" not in page
    assert not re.search(r">\s*authorised\s*<", page)


def test_a_paid_order_shows_no_notice_that_unpaid_orders_expire(admin_user, paid_order):
    page = order_page(admin_user, paid_order)
    assert "Unpaid orders expire" not in page and "Expires at" not in page


def test_an_order_awaiting_payment_still_says_when_it_expires(admin_user, unpaid_order):
    assert "Unpaid orders expire" in order_page(admin_user, unpaid_order)


def test_an_order_page_where_nothing_can_be_changed_offers_no_save_button(admin_user, paid_order):
    page = order_page(admin_user, paid_order)
    assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page
    # The actions that do move the order stay.
    assert "Mark shipped" in page


def test_a_page_with_fields_to_edit_keeps_its_save_button(admin_user):
    offer = OfferFactory()
    page = staff_client(admin_user).get(f"/admin/catalog/offer/{offer.pk}/change/").content.decode()
    assert 'name="_save"' in page


def test_the_order_lists_search_box_has_a_visible_label(admin_user, paid_order):
    page = staff_client(admin_user).get("/admin/orders/order/").content.decode()
    label = re.search(r'<label for="searchbar">(.*?)</label>', page, re.S).group(1)
    assert label.strip() == "Find an order by number, email or name:"


def test_a_payment_event_page_is_for_reading_and_offers_no_save_button(admin_user):
    from orders.models import PaymentEvent

    event = PaymentEvent.objects.create(event_id="evt_1", type="checkout.session.completed")
    page = staff_client(admin_user).get(f"/admin/orders/paymentevent/{event.pk}/change/").content.decode()
    assert "checkout.session.completed" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page

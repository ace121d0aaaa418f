"""Many buyers at once for the last copies: row locks decide, stock never goes negative."""

import threading
import uuid

import pytest
from django.db import connection

from catalog.models import Offer
from orders.cart import CartLine
from orders.models import Order
from orders.services import OutOfStock, order_place
from tests.factories import OfferFactory, checkout_details

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_exactly_as_many_orders_succeed_as_there_were_copies(postgres):
    last_copies = OfferFactory(stock=3)
    other = OfferFactory(stock=100)
    buyers = 10
    barrier = threading.Barrier(buyers)
    outcomes = []

    def buy(i):
        try:
            offer = Offer.objects.get(pk=last_copies.pk)
            # Half the buyers also take another item, in the opposite cart order: locks
            # are taken in id order, so this cannot deadlock.
            lines = [CartLine(offer, 1, offer.price)]
            if i % 2:
                lines.insert(0, CartLine(Offer.objects.get(pk=other.pk), 1, other.price))
            barrier.wait()
            order_place(
                cart_lines=lines,
                customer=None,
                checkout=checkout_details(email=f"b{i}@example.com"),
                checkout_token=uuid.uuid4(),
            )
            outcomes.append("ok")
        except OutOfStock:
            outcomes.append("sold out")
        except Exception as exc:  # noqa: BLE001 - any other failure is the test's finding
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 3 + ["sold out"] * 7
    assert Offer.objects.get(pk=last_copies.pk).stock == 0
    assert Order.objects.count() == 3
    assert Offer.objects.get(pk=other.pk).stock == 100 - sum(
        1 for o in Order.objects.all() if o.lines.filter(offer=other).exists()
    )

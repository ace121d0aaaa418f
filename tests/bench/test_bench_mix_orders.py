"""The realistic mix's shoppers buy from the popular offers and never find them sold out:
earlier runs keep the copies they bought, so the benchmark stocks each offer it buys from
for every order of the run (one run chose four nearly sold-out offers, and 37 of its 121
buyers were rightly sent back to their cart)."""

from django.test import Client

from bench.catalog_pages import offers_for_orders
from catalog.models import Offer
from tests.factories import OfferFactory


def test_the_mix_buys_from_the_popular_offers_with_stock_for_every_order_of_the_run(db):
    popular = [OfferFactory(stock=stock) for stock in (2, 0, 25)]
    OfferFactory(stock=500)  # on a page the mix does not show
    urls = [offer.release.get_absolute_url() for offer in popular] + ["/composers/"]
    page = popular[0].release.get_absolute_url()
    assert "Only 2 left" in Client().get(page).content.decode()

    chosen = offers_for_orders(urls, orders=140)

    assert sorted(pk for _, pk in chosen) == sorted(offer.pk for offer in popular)
    assert all(
        stock >= 140 for stock in Offer.objects.filter(pk__in=[pk for _, pk in chosen]).values_list("stock", flat=True)
    )
    assert "Only 2 left" not in Client().get(page).content.decode()  # its cached page shows the new stock

"""The wish list: "Save for later" from release pages and the cart, kept in the session
for visitors and in the account once signed in, never shown to anyone else."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from catalog.models import Offer
from orders.models import WishlistItem
from privacy import services as privacy
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"


@pytest.fixture
def brahms():
    return OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("16.99"), stock=4)


@pytest.fixture
def bach():
    return OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("21.50"), stock=1)


def save(client, offer):
    return client.post("/wishlist/save/", {"offer": offer.pk, "next": offer.release.get_absolute_url()}, follow=True)


def wishlist_page(client):
    return client.get("/wishlist/").content.decode()


def customer(email="clara@example.com"):
    return User.objects.create_user(email=email, password=PASSWORD, email_verified_at=timezone.now())


def test_visitor_saves_an_offer_from_its_release_page_and_the_list_shows_todays_price_and_stock(client, brahms):
    release_page = client.get(brahms.release.get_absolute_url()).content.decode()
    assert 'action="/wishlist/save/"' in release_page and f'name="offer" value="{brahms.pk}"' in release_page

    response = save(client, brahms)
    assert response.redirect_chain[-1][0] == brahms.release.get_absolute_url()
    assert "Saved Brahms: Symphony no. 4 to your wish list." in response.content.decode()

    Offer.objects.filter(pk=brahms.pk).update(price=Decimal("14.50"), stock=0)
    page = wishlist_page(client)
    assert "Brahms: Symphony no. 4" in page and "14.50" in page and "16.99" not in page
    assert "Out of stock" in page
    assert "Move to cart" not in page  # it cannot be bought now, so it stays saved


def test_an_out_of_stock_offer_can_be_saved_for_later_from_its_release_page(client, brahms):
    Offer.objects.filter(pk=brahms.pk).update(stock=0)
    page = client.get(brahms.release.get_absolute_url()).content.decode()
    assert "Add to cart" not in page and "Save for later" in page
    save(client, brahms)
    assert "Brahms: Symphony no. 4" in wishlist_page(client)


def test_saving_twice_keeps_one_item_for_a_visitor_and_for_a_customer(client, brahms):
    save(client, brahms)
    save(client, brahms)
    assert client.session["wishlist"] == [brahms.pk]

    client.force_login(customer())
    save(client, brahms)
    save(client, brahms)
    assert WishlistItem.objects.filter(offer=brahms).count() == 1
    assert wishlist_page(client).count('class="wishlist-item"') == 1


def test_save_for_later_moves_a_cart_line_to_the_list_and_move_to_cart_brings_it_back(client, brahms, bach):
    client.post("/cart/add/", {"offer": brahms.pk, "quantity": 1})
    client.post("/cart/add/", {"offer": bach.pk, "quantity": 1})
    assert "Save for later" in client.get("/cart/").content.decode()

    moved = client.post("/wishlist/save-from-cart/", {"offer": brahms.pk}, follow=True).content.decode()
    assert "Moved Brahms: Symphony no. 4 to your wish list." in moved
    assert client.session["cart_count"] == 1 and "Brahms: Symphony no. 4" in wishlist_page(client)

    back = client.post("/wishlist/move-to-cart/", {"offer": brahms.pk}, follow=True).content.decode()
    assert "Moved Brahms: Symphony no. 4 to your cart." in back
    assert client.session["cart_count"] == 2
    assert "Your wish list is empty" in wishlist_page(client)


def test_move_to_cart_keeps_an_item_that_sold_out_on_the_list_and_says_why(client, bach):
    save(client, bach)
    Offer.objects.filter(pk=bach.pk).update(stock=0)
    page = client.post("/wishlist/move-to-cart/", {"offer": bach.pk}, follow=True).content.decode()
    assert "Bach: Cello Suites: Sorry, this item is sold out. It stays on your wish list." in page
    assert client.session.get("cart_count", 0) == 0
    assert client.session["wishlist"] == [bach.pk]


def test_an_unknown_offer_gets_a_clear_message_and_a_400(client):
    for url in ("/wishlist/save/", "/wishlist/save-from-cart/", "/wishlist/move-to-cart/"):
        for offer in ("999999", "abc", ""):
            response = client.post(url, {"offer": offer})
            assert response.status_code == 400, (url, offer)
            assert "That item is not in our catalog." in response.content.decode()


def test_signing_in_merges_the_visitors_list_into_the_account_and_signing_out_leaves_none_behind(client, brahms, bach):
    clara = customer()
    WishlistItem.objects.create(user=clara, offer=bach)
    save(client, brahms)
    save(client, bach)  # saved on both sides: kept once

    response = client.post("/account/sign-in/", {"username": clara.email, "password": PASSWORD})
    assert response.status_code == 302
    assert sorted(WishlistItem.objects.filter(user=clara).values_list("offer_id", flat=True)) == sorted(
        [brahms.pk, bach.pk]
    )
    assert "wishlist" not in client.session
    page = wishlist_page(client)
    assert page.count('class="wishlist-item"') == 2
    assert "Brahms: Symphony no. 4" in page and "Bach: Cello Suites" in page

    client.post("/account/sign-out/")
    assert "Your wish list is empty" in wishlist_page(client)  # the next person at this computer sees nothing

    again = Client()
    again.post("/account/sign-in/", {"username": clara.email, "password": PASSWORD})
    assert "Brahms: Symphony no. 4" in wishlist_page(again)  # the account keeps it on any device


def test_one_visitors_list_never_shows_on_another_visitors_cached_release_page(brahms):
    clara, robert = Client(), Client()
    saved = save(clara, brahms).content.decode()
    assert "Saved Brahms: Symphony no. 4 to your wish list." in saved

    # Clara's visit rendered the page into the shared cache; Robert is served that body.
    for _ in range(2):
        page = robert.get(brahms.release.get_absolute_url()).content.decode()
        assert "Saved Brahms" not in page and "to your wish list" not in page
        assert 'action="/wishlist/save/"' in page
    assert "Your wish list is empty" in wishlist_page(robert)
    assert "Brahms: Symphony no. 4" in wishlist_page(clara)

    # And the other way round: a signed-in customer's list is theirs alone.
    signed_in = Client()
    signed_in.force_login(customer())
    save(signed_in, brahms)
    assert "Your wish list is empty" in wishlist_page(robert)
    assert "Your wish list is empty" in wishlist_page(Client())


def test_the_wish_list_page_reads_the_same_number_of_queries_however_many_items(client, django_assert_max_num_queries):
    clara = customer()
    client.force_login(clara)
    for _ in range(2):
        WishlistItem.objects.create(user=clara, offer=OfferFactory())
    with django_assert_max_num_queries(20) as few:
        client.get("/wishlist/")
    for _ in range(8):
        WishlistItem.objects.create(user=clara, offer=OfferFactory())
    # Guards against a query per item for its release or label.
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/wishlist/").content.decode()
    assert page.count('class="wishlist-item"') == 10


def test_the_data_download_lists_the_wish_list_and_deleting_the_account_removes_it(client, brahms):
    clara = customer()
    client.force_login(clara)
    save(client, brahms)

    data = json.loads(client.get("/account/privacy/my-data.json").content)
    assert [(i["item"], i["sku"]) for i in data["wish_list"]] == [("Brahms: Symphony no. 4", brahms.sku)]

    privacy.account_erase(user=clara)
    assert not WishlistItem.objects.filter(offer=brahms).exists()

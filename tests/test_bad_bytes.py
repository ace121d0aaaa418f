"""Bad bytes never make a 500: a NUL anywhere in a URL, a cookie or a form is a 400 that
says why (PostgreSQL text cannot hold NUL, so it must never reach a query), and a line
break in a field that ends up in an email header (a name, the contact subject) is a
clear form error. Proven by walking every URL the shop routes and every form it shows,
on SQLite and, where marked, on PostgreSQL."""

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from arkiv.middleware import BAD_BYTES_MESSAGE
from arkiv.validators import SingleLineValidator
from catalog.models import Offer
from orders.cart import CartLine
from orders.models import Order
from orders.services import order_place
from tests.conftest import staff_login
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
NUL = "a\x00b"
LINE_BREAKS = ["Clara\r\nBcc: everyone@example.com", "Clara\nSchumann", "Clara\rSchumann", "Clara\u2028Schumann"]
SINGLE_LINE = SingleLineValidator.message
# Every query parameter a view of ours reads, and the admin's own.
QUERY_KEYS = ["q", "page", "format", "genre", "kind", "letter", "sort", "role", "next", "session_id", "o", "p", "e"]
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _route(pattern):
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    # The admin's few regular expressions: a named group becomes an argument.
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)\??", r"<\1>", pattern.regex.pattern)
    return text.lstrip("^").replace("\\Z", "").rstrip("$").replace("\\", "")


def every_route():
    """Every URL pattern of the shop (catalog, cart, checkout, accounts, privacy, admin)."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + _route(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            else:
                yield route

    return sorted(set(walk(get_resolver().url_patterns, "")))


def url_of(route, value):
    """The route with each argument set to value (integers stay integers)."""
    path = ARGUMENT.sub(lambda m: "1" if m["converter"] == "int" else quote(value, safe=""), route)
    return "/" + path


def post_form(client, url, data):
    """POST as a browser sends our forms: urlencoded."""
    return client.post(url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")


def nul_in_path(route):
    """The route with NUL in its text arguments, or in a segment of its own."""
    if any(m["converter"] != "int" for m in ARGUMENT.finditer(route)):
        return url_of(route, NUL)
    return url_of(route, "x") + quote(NUL) + "/"


@pytest.fixture
def visitors(django_user_model):
    """An anonymous visitor, a signed-in customer with an order, and a superuser, each
    with something in the cart."""
    offer = OfferFactory(stock=5)
    customer = django_user_model.objects.create_user(email="clara@example.com", password=PASSWORD)
    order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    staff = django_user_model.objects.create_superuser(email="ops@arkiv.example", password=PASSWORD)
    made = {}
    for who, user in [("anonymous", None), ("customer", customer), ("staff", staff)]:
        made[who] = Client(raise_request_exception=False)
        made[who].post("/cart/add/", {"offer": offer.pk, "quantity": 1})
        if user is staff:
            staff_login(made[who], user)
        elif user:
            made[who].force_login(user)
    return made


def walk_with_nul(visitors):
    """Every route, with NUL in the path, the query and the form: all 400 with the reason."""
    wrong = []
    for who, client in visitors.items():
        for route in every_route():
            attempts = [
                ("GET path", client.get(nul_in_path(route))),
                ("GET query", client.get(url_of(route, "x"), {key: NUL for key in QUERY_KEYS})),
                ("POST form", post_form(client, url_of(route, "x"), {"name": NUL, "email": NUL, "q": NUL})),
            ]
            for how, response in attempts:
                if response.status_code != 400 or BAD_BYTES_MESSAGE not in response.content.decode():
                    wrong.append((who, how, route, response.status_code))
    return wrong


def walk_with_line_breaks(visitors):
    """Every route with line breaks in the path, the query and a form: never a 500."""
    wrong = []
    for who, client in visitors.items():
        for route in every_route():
            for payload in LINE_BREAKS[:2]:
                responses = [
                    client.get(url_of(route, payload)),
                    client.get(url_of(route, "1"), {key: payload for key in QUERY_KEYS}),
                    post_form(client, url_of(route, "1"), {"name": payload, "full_name": payload, "next": payload}),
                ]
                wrong += [(who, route, r.status_code) for r in responses if r.status_code >= 500]
    return wrong


class Forms(HTMLParser):
    """The POST forms of a page, as a browser would submit them: hidden values kept,
    the first choice of each select and radio group taken, boxes ticked."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.forms.append({"action": attrs.get("action") or "", "text": [], "data": {}})
        if not self.forms:
            return
        form, name = self.forms[-1], attrs.get("name")
        if tag == "textarea" and name:
            form["text"].append(name)
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and self._select not in form["data"]:
            form["data"][self._select] = attrs.get("value", "")
        elif tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"hidden", "submit"}:
                form["data"].setdefault(name, attrs.get("value", ""))
            elif kind in {"checkbox", "radio"}:
                form["data"].setdefault(name, attrs.get("value", "on"))
            elif kind != "file":
                form["text"].append(name)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


FORM_PAGES = [
    "/contact/",
    "/account/sign-in/",
    "/account/sign-up/",
    "/account/password-reset/",
    "/search/?q=bach",
    "/cart/",
    "/checkout/",
    "/account/name/",
    "/account/email/",
    "/account/password/",
    "/account/addresses/new/",
    "/account/verify-again/",
    "/account/privacy/",
    "/account/privacy/delete/",
    "/admin/login/",
]


def form_pages():
    """The pages with forms: the shop's, a release's, and every admin add and change form."""
    admin_forms = [url_of(route, "1") for route in every_route() if re.fullmatch(r"admin/\w+/\w+/add/", route)]
    order = Order.objects.first()
    return [
        *FORM_PAGES,
        Offer.objects.first().release.get_absolute_url(),
        *admin_forms,
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/accounts/user/{order.customer_id}/change/",
    ]


def every_form(client, page):
    response = client.get(page)
    if response.status_code != 200:
        return []
    parser = Forms()
    parser.feed(response.content.decode())
    return [(form["action"] or page, form) for form in parser.forms if form["text"]]


def submit_every_form(visitors, payload):
    """Each form on each page, each of its text fields set to payload; the responses."""
    sent = []
    for who, client in visitors.items():
        for page in form_pages():
            for action, form in every_form(client, page):
                data = {**form["data"], **{name: payload for name in form["text"]}}
                sent.append((who, page, action, post_form(client, action, data)))
    return sent


def test_a_nul_anywhere_in_any_url_or_form_is_a_400_that_says_why(visitors):
    assert walk_with_nul(visitors) == []


def test_every_form_answers_a_nul_with_a_400_that_says_why(visitors):
    sent = submit_every_form(visitors, NUL)
    walked = {action for _, _, action, _ in sent}
    assert {"/contact/", "/checkout/", "/account/sign-up/", "/account/name/", "/admin/catalog/release/add/"} <= walked
    assert [(w, p, a, r.status_code) for w, p, a, r in sent if r.status_code != 400] == []
    assert all(BAD_BYTES_MESSAGE in r.content.decode() for *_, r in sent)


def test_a_catalog_filter_or_search_with_a_nul_is_a_400_that_says_why(client):
    offer = OfferFactory(stock=5)
    response = client.get(offer.release.get_absolute_url() + "?label=%00")
    assert response.status_code == 400 and BAD_BYTES_MESSAGE in response.content.decode()
    assert 'href="/"' in response.content.decode()  # the page still leads back into the shop
    for query in ["%00", "bach%00"]:
        response = client.get("/search/?q=" + query)
        assert response.status_code == 400 and BAD_BYTES_MESSAGE in response.content.decode()


def test_a_nul_in_a_multipart_post_to_any_url_is_refused_without_a_500(visitors):
    # Multipart bodies stream to their views (uploads, inbound mail); their forms refuse NUL.
    wrong = []
    for who, client in visitors.items():
        for route in every_route():
            response = client.post(url_of(route, "1"), {"name": NUL, "full_name": NUL, "email": NUL, "q": NUL})
            if response.status_code >= 500:
                wrong.append((who, route, response.status_code))
    assert wrong == []
    response = visitors["anonymous"].post("/contact/", {"name": NUL, "email": "c@example.com", "message": "Hi"})
    assert "Null characters are not allowed." in response.content.decode()


def test_a_nul_in_the_session_cookie_is_a_400(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/cart/")
    assert response.status_code == 400 and BAD_BYTES_MESSAGE in response.content.decode()


def test_line_breaks_in_any_url_or_form_never_make_a_500(visitors):
    assert walk_with_line_breaks(visitors) == []
    sent = submit_every_form(visitors, LINE_BREAKS[0])
    assert [(w, p, a, r.status_code) for w, p, a, r in sent if r.status_code >= 500] == []


@pytest.mark.parametrize("name", LINE_BREAKS)
def test_contact_form_refuses_a_name_with_a_line_break_instead_of_sending_a_forged_header(client, name):
    response = client.post("/contact/", {"name": name, "email": "clara@example.com", "message": "Hello"})
    assert response.status_code == 200 and SINGLE_LINE in response.content.decode()
    assert mail.outbox == []


def test_checkout_refuses_names_with_line_breaks(client):
    from tests.orders.test_payments import CHECKOUT

    offer = OfferFactory(stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    response = client.post(
        "/checkout/",
        {
            **CHECKOUT,
            "checkout_token": token,
            "billing_name": LINE_BREAKS[0],
            "same_address": "",
            "shipping_name": "Robert\nSchumann",
            "shipping_line1": "1 Wieck Street",
            "shipping_city": "Leipzig",
            "shipping_postcode": "04109",
            "shipping_country": "DE",
            "age": "minor",
            "guardian_name": "Friedrich\r\nWieck",
            "guardian_email": "friedrich@example.com",
            "guardian_confirms": "on",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"billing_name", "shipping_name", "guardian_name"} <= set(errors)
    assert all(SINGLE_LINE in errors[field] for field in ["billing_name", "shipping_name", "guardian_name"])


def test_account_names_refuse_line_breaks(client, django_user_model):
    response = client.post(
        "/account/sign-up/",
        {"email": "clara@example.com", "full_name": LINE_BREAKS[0], "password1": PASSWORD, "password2": PASSWORD},
    )
    assert SINGLE_LINE in response.content.decode()
    assert not django_user_model.objects.filter(email="clara@example.com").exists()

    user = django_user_model.objects.create_user(email="clara@example.com", password=PASSWORD, full_name="Clara")
    client.force_login(user)
    response = client.post("/account/name/", {"full_name": "Clara\nSchumann"})
    assert SINGLE_LINE in response.content.decode()
    response = client.post(
        "/account/addresses/new/",
        {
            "name": "Clara\r\nSchumann",
            "line1": "1 Wieck Street",
            "city": "Leipzig",
            "postcode": "04109",
            "country": "DE",
        },
    )
    assert SINGLE_LINE in response.content.decode()
    user.refresh_from_db()
    assert user.full_name == "Clara" and not user.addresses.exists()


def test_staff_cannot_save_a_customer_name_with_a_line_break(client, django_user_model):
    customer = django_user_model.objects.create_user(email="clara@example.com", password=PASSWORD, full_name="Clara")
    staff_login(client, django_user_model.objects.create_superuser(email="ops@arkiv.example", password=PASSWORD))
    page = client.get(f"/admin/accounts/user/{customer.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data["full_name"] = "Clara\r\nBcc: everyone@example.com"
    response = client.post(f"/admin/accounts/user/{customer.pk}/change/", data)
    assert SINGLE_LINE in response.content.decode()
    customer.refresh_from_db()
    assert customer.full_name == "Clara"


def test_ordinary_names_are_still_welcome(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/contact/", {"name": "Ólafur Arnalds-Ørsted", "email": "o@example.com", "message": "Hi"}, follow=True
        )
    assert "We have your message" in response.content.decode()
    assert mail.outbox[-1].subject == "Question from Ólafur Arnalds-Ørsted"


def test_on_postgresql_a_nul_anywhere_is_a_400_not_a_500(postgres, visitors):
    assert walk_with_nul(visitors) == []
    sent = submit_every_form(visitors, NUL)
    assert [(w, p, a, r.status_code) for w, p, a, r in sent if r.status_code != 400] == []


def test_on_postgresql_a_nul_in_the_session_cookie_is_a_400(postgres, client):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    assert client.get("/account/").status_code == 400


def test_on_postgresql_line_breaks_never_make_a_500(postgres, visitors):
    assert walk_with_line_breaks(visitors) == []
    sent = submit_every_form(visitors, LINE_BREAKS[0])
    assert [(w, p, a, r.status_code) for w, p, a, r in sent if r.status_code >= 500] == []

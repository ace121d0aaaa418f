"""P8: under-18s may order only accompanied by a parent or legal guardian, who gets a
copy of the confirmation; minors never receive offers."""

import pytest
from django.core import mail

from orders.models import Order
from orders.services import payment_sync
from privacy.models import AgeDeclaration, Consent, Purpose
from privacy.services import GUARDIAN_STATEMENT, is_minor
from tests.factories import OfferFactory
from tests.orders.helpers import pay
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.django_db
GUARDIAN = {"guardian_name": "Robert Schumann", "guardian_email": "robert@example.com", "guardian_confirms": "on"}


def submit(client, **fields):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    return client.post("/checkout/", {**CHECKOUT, "checkout_token": token, **fields})


def test_the_age_question_has_no_default_answer(client):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    body = client.get("/checkout/").content.decode()
    assert "I am 18 or over" in body and "I am under 18" in body
    assert 'name="age" value="adult" class="form-check-input" id="id_age_0" required checked' not in body
    assert "checked" not in body.split('name="age"')[1].split(">")[0]
    no_answer = submit(client, age="")
    assert no_answer.status_code == 200 and not Order.objects.exists()


@pytest.mark.parametrize("missing", ["guardian_name", "guardian_email", "guardian_confirms"])
def test_a_minor_without_a_full_guardian_statement_is_refused_clearly(client, missing):
    response = submit(client, age="minor", **{**GUARDIAN, missing: ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Under-18s can order only with a parent or legal guardian" in body
    assert not Order.objects.exists()


def test_the_guardian_must_be_someone_else(client):
    body = submit(client, age="minor", **{**GUARDIAN, "guardian_email": "clara@example.com"}).content.decode()
    assert "parent&#x27;s or guardian&#x27;s own address" in body and not Order.objects.exists()


def test_a_minor_with_a_guardian_orders_and_the_guardian_gets_a_copy(
    client, payment_sandbox, django_capture_on_commit_callbacks
):
    response = submit(client, age="minor", promo_email="on", **GUARDIAN)
    order = Order.objects.get()
    declaration = AgeDeclaration.objects.get(order_number=order.number)
    assert not declaration.is_adult and declaration.guardian_email == "robert@example.com"
    assert declaration.statement == GUARDIAN_STATEMENT and declaration.wording_version == 1
    assert declaration.declared_at and declaration.policy_version == 1
    pay(response["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(order)
    assert sorted(m.to[0] for m in mail.outbox) == ["clara@example.com", "robert@example.com"]
    # The ticked offers box does nothing for a minor: no confirmation email, no consent.
    assert is_minor("clara@example.com")
    assert not Consent.objects.filter(email="clara@example.com", granted=True).exists()
    assert not any("confirm: offers" in m.subject for m in mail.outbox)


def test_an_adult_order_records_the_statement_and_the_postal_default(client, payment_sandbox):
    submit(client, age="adult")
    order = Order.objects.get()
    assert AgeDeclaration.objects.get(order_number=order.number).is_adult
    assert Consent.objects.get(email="clara@example.com", purpose=Purpose.POSTAL).granted
    assert not Consent.objects.filter(email="clara@example.com", purpose=Purpose.PROMO_EMAIL).exists()


def test_no_date_of_birth_is_collected(client):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    body = client.get("/checkout/").content.decode().lower()
    assert "birth" not in body and 'type="date"' not in body

"""The audit trail: staff changes in the admin are kept with who, when and old -> new,
on each object's History page; the shop's own writes (checkout, payments) add none."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from tests.factories import OfferFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db


def change_form_data(client, url, **changes):
    """What the admin's change form sends when saved as shown, with some fields changed."""
    response = client.get(url)
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return {**data, **changes}


def test_a_staff_price_change_shows_who_when_and_old_to_new_on_the_offers_history_page(django_user_model):
    clara = django_user_model.objects.create_superuser(email="clara@arkiv.example", password="a-long-passphrase")
    offer = OfferFactory(price=Decimal("18.50"), stock=4)
    client = staff_client(clara)
    url = f"/admin/catalog/offer/{offer.pk}/change/"

    response = client.post(url, change_form_data(client, url, price="16.90"))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.price == Decimal("16.90")
    page = client.get(f"/admin/catalog/offer/{offer.pk}/history/").content.decode()
    trail = page.split('id="audit-trail"')[1].split("</table>")[0]
    assert "clara@arkiv.example" in trail
    assert "18.50 → 16.90" in trail
    entry = LogEntry.objects.get_for_object(offer).get()
    assert entry.actor == clara and entry.timestamp is not None
    # The stock was not changed, so the entry does not claim it was.
    assert set(entry.changes_dict) == {"price"}


def test_shipping_in_the_admin_shows_the_status_move_in_words_without_the_customers_address(
    client, payment_sandbox, admin_user
):
    from orders.services import payment_sync

    offers = OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)
    url, order = checkout(client, offers)
    pay(url)
    client.logout()
    order = payment_sync(order)
    staff = staff_client(admin_user)
    ship = f"/admin/orders/order/{order.pk}/ship/"
    staff.post(ship, action_form(staff, ship, tracking_number="JD014600003"))

    page = staff.get(f"/admin/orders/order/{order.pk}/history/").content.decode()
    trail = page.split('id="audit-trail"')[1].split("</table>")[0]
    assert admin_user.email in trail
    assert "Paid (authorised) → Shipped" in trail and "JD014600003" in trail
    assert "1 Wieck Street" not in trail and order.email not in trail


def test_placing_and_paying_an_order_writes_no_audit_rows(client, payment_sandbox):
    """A busy checkout pays nothing for the audit trail: stock reserved, order placed and
    paid, and not one audit row (the order's status history has every move)."""
    from orders.services import payment_sync

    offers = OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)
    url, order = checkout(client, offers)
    pay(url)
    order = payment_sync(order)

    assert order.history.count() == 2
    offers[0].refresh_from_db()
    assert offers[0].stock < 5
    assert LogEntry.objects.count() == 0


def test_a_shoppers_request_records_nothing_even_for_a_signed_in_staff_member(client, django_user_model):
    """Staff browsing the shop are shoppers there: only the admin records changes."""
    clara = django_user_model.objects.create_superuser(email="clara@arkiv.example", password="a-long-passphrase")
    offer = OfferFactory(price=Decimal("18.50"), stock=4)
    client = staff_client(clara)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    assert LogEntry.objects.count() == 0


def test_a_staff_applied_opt_out_shows_on_the_consents_history_without_the_address(admin_user):
    """Consent records changed by staff are on record with who and what, named by number:
    the customer's address never enters the audit trail (erasure need not chase it), and
    the consent log's own rows stay untouched (they are append-only)."""
    from privacy.models import Consent, ConsentEvent, OptOutRequest, Purpose

    consent = Consent.objects.create(email="clara@example.com", purpose=Purpose.POSTAL, granted=True)
    request = OptOutRequest.objects.create(
        message_id="<1@example.com>",
        sender="clara@example.com",
        subject="Catalogues",
        body="Hmm, maybe fewer catalogues?",
        state=OptOutRequest.State.QUEUED,
        reason="unclear",
    )
    client = staff_client(admin_user)

    client.post(
        "/admin/privacy/optoutrequest/", {"action": "apply_postal", "_selected_action": [request.pk]}, follow=True
    )

    consent.refresh_from_db()
    assert consent.granted is False
    page = client.get(f"/admin/privacy/consent/{consent.pk}/history/").content.decode()
    trail = page.split('id="audit-trail"')[1].split("</table>")[0]
    assert admin_user.email in trail and "True → False" in trail
    entries = LogEntry.objects.filter(content_type__app_label="privacy")
    assert entries.filter(content_type__model="consentevent", action=LogEntry.Action.CREATE).count() == 1
    assert not any("clara@example.com" in f"{entry.object_repr} {entry.changes}" for entry in entries)
    assert ConsentEvent.objects.filter(email="clara@example.com", action="withdrawn").count() == 1


def test_staff_changes_to_a_voucher_and_disabling_a_gift_card_are_on_their_history_pages(django_user_model):
    import datetime

    from django.utils import timezone

    from orders.models import GiftCard
    from tests.factories import VoucherFactory

    clara = django_user_model.objects.create_superuser(email="clara@arkiv.example", password="a-long-passphrase")
    client = staff_client(clara)
    voucher = VoucherFactory(code="BACH10", value=Decimal("10"))
    url = f"/admin/orders/voucher/{voucher.pk}/change/"
    assert client.post(url, change_form_data(client, url, value="15")).status_code == 302
    trail = client.get(f"/admin/orders/voucher/{voucher.pk}/history/").content.decode()
    trail = trail.split('id="audit-trail"')[1].split("</table>")[0]
    assert "clara@arkiv.example" in trail and "10.00 → 15" in trail

    card = GiftCard.objects.create(
        code_hash="0" * 64,
        last4="3HJN",
        initial_amount=Decimal("20.00"),
        balance=Decimal("20.00"),
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    response = client.post("/admin/orders/giftcard/", {"action": "disable", "_selected_action": [card.pk]}, follow=True)
    assert "1 gift card(s) disabled." in response.content.decode()
    entry = LogEntry.objects.get_for_object(card).get()
    assert entry.actor == clara and entry.changes_dict == {"disabled": ["False", "True"]}

"""Download my data holds everything kept about the person, with the text of what was
sent to them and what they wrote, not only summaries."""

import json
import uuid

import pytest
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Status
from orders.services import order_place, order_transition
from privacy import services
from privacy.models import CampaignDelivery, EmailCampaign, OptOutRequest
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
EMAIL = "clara@example.com"


def test_the_download_has_order_emails_campaigns_and_service_mail_with_their_text(client):
    user = User.objects.create_user(email=EMAIL, password="a-long-passphrase", email_verified_at=timezone.now())
    offer = OfferFactory()
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=user,
        checkout=checkout_details(email=EMAIL),
        checkout_token=uuid.uuid4(),
        statement=services.CheckoutStatement(is_adult=True),
    )
    order_transition(order, Status.AUTHORISED)
    campaign = EmailCampaign.objects.create(subject="New Brahms recordings", body_text="Three new Brahms cycles.")
    CampaignDelivery.objects.create(campaign=campaign, email=EMAIL)
    OptOutRequest.objects.create(
        message_id="<2@example.com>",
        sender=EMAIL,
        subject="Catalogues",
        body="Please send no more catalogues to my house.",
        raw="Subject: Catalogues\n\nPlease send no more catalogues to my house.",
        state=OptOutRequest.State.APPLIED,
        reason="postal opt-out",
    )
    client.force_login(user)

    data = json.loads(client.get("/account/privacy/my-data.json").content)

    sent = data["orders"][0]["emails_sent"]
    assert [(e["kind"], e["to"]) for e in sent] == [("Order confirmation", EMAIL)]
    assert sent[0]["subject"] == f"Your Arkiv order {order.number} is confirmed"
    assert order.number in sent[0]["text"] and offer.release.title in sent[0]["text"]
    assert data["campaigns_received"] == [
        {
            "sent": data["campaigns_received"][0]["sent"],
            "to": EMAIL,
            "subject": "New Brahms recordings",
            "text": "Three new Brahms cycles.",
        }
    ]
    request = data["opt_out_requests"][0]
    assert request["text"] == "Please send no more catalogues to my house."
    assert "Subject: Catalogues" in request["original_message"]

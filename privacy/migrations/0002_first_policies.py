"""The first published privacy policy and terms of sale."""

import datetime

from django.db import migrations
from django.utils import timezone

PRIVACY = """Arkiv sells classical music recordings. This policy says what we do with your personal data. Every promise in it is kept by the shop's software and checked by its tests.

1. What we collect. Only what an order needs: your card details (typed into our payment processor's page and never seen or stored by us), your billing and shipping addresses, a phone number we use only if a parcel cannot be delivered, and an email address for news about your order.

2. Who else sees it. Nobody outside Arkiv, except to process your order: the payment processor (the amount, the items and your email address) and the carrier (your shipping address and phone number), or where the law requires it.

3. Offers by email. We send them only if you specifically ask: the box is never ticked for you, and your request counts only after you confirm it through the link we email you. Every offer email has a one-click unsubscribe link. Emails about your orders are not offers and never contain any.

4. Offers by post. We may post our own offers, and offers we make on behalf of partners, to the address of your orders. We print and post them ourselves: partners never receive your name or address. To stop them, email service@ (a plain sentence is enough) or change it in your account.

5. News about your order. We email you when we confirm, ship, cancel or refund it.

6. Security. Everything travels encrypted. Your card is authorised by a regulated payment processor when you order and charged when your order ships.

7. Cookies. We set one cookie to keep your session and cart together and one that protects our forms. We read nothing that did not come from us, and there are no advertising or tracking cookies, scripts or pixels.

8. Children. We do not sell to children: a customer under 18 may order only accompanied by a parent or legal guardian, who receives a copy of the confirmation. We never send offers to customers under 18.

9. Changes and questions. When this policy changes we publish a new version with its date here and keep the earlier ones; the version in force is linked from every page. Questions: feedback@.

Your rights. From your account you can download your data, correct it, or delete your account. We then keep only what tax law requires for past orders, for as long as it requires, and a one-way fingerprint of your address so you are never sent offers again."""

TERMS = """Prices include VAT. Your card is authorised when you order and charged when we ship.

Items in stock ship in 1-2 working days. Made-to-order discs are manufactured for you and ship after the lead time shown on the release page.

You may return an item within 14 days of delivery for a refund. Questions about an order: service@."""


def forward(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    now = timezone.now()
    effective = datetime.date(2026, 11, 1)
    for kind, title, body in (("privacy", "Privacy policy", PRIVACY), ("terms", "Terms of sale", TERMS)):
        PolicyDocument.objects.get_or_create(
            kind=kind, version=1, defaults={"title": title, "body": body, "effective_date": effective,
                                            "published_at": now},
        )


def backward(apps, schema_editor):
    apps.get_model("privacy", "PolicyDocument").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

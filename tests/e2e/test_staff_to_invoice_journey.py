"""The whole of running the shop in a real browser: staff import a label's file in the
admin (preview, then confirm) and make a voucher; a customer buys the imported record
with the voucher and a gift card, paying the rest by card on the sandbox; staff ship the
order; the customer downloads the invoice, which shows the discount and how it was paid."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from catalog import services
from catalog.models import Composer, Genre, Offer, Release, Work
from orders import giftcards
from orders.models import GiftCard, GiftCardEntry, Invoice, Order, Status, Voucher
from tests.accounts.test_staff_2fa import code_for
from tests.e2e.test_purchase_journey import pay_on_sandbox, sandbox  # noqa: F401
from tests.factories import ArtistFactory, ComposerFactory, LabelFactory, WorkFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"
GIFT_CODE = "K7QM-4XRT-9WPB-3HJN"

COLUMNS = (
    "label,catalog_number,barcode,release_title,release_date,format,discs,composer,work,recording_year,"
    "performers,disc,track,track_title,duration,sku,price,stock,made_to_order,lead_time_days"
)
BRAHMS = (
    'Leipzig Records,LR001,,Brahms: Symphony No. 4,2026-10-01,CD,1,Brahms,"Symphony No. 4 in E minor, op. 98",2025,'
)
FEED = "\n".join(
    [
        COLUMNS,
        BRAHMS + "conductor: Kurt Example,1,1,I. Allegro non troppo,12:40,LR001-CD,40.00,5,no,",
        BRAHMS + "conductor: Kurt Example,1,2,II. Andante moderato,11:55,,,,,",
        # A composer the shop does not know: rejected with its reason, the rest imported.
        "Leipzig Records,LR002,,Salieri: Overtures,2026-10-01,CD,1,Salieriwski,Overture,2025,,1,1,Overture,6:00,"
        "LR002-CD,15.00,5,no,",
    ]
)


@pytest.fixture
def shop(django_user_model):
    """What the label's file refers to, a staff member with a second factor, a customer,
    and the gift card the customer was given (20.00 left on it)."""
    # Open Opus's Brahms and his fourth symphony, where the database has them already.
    brahms = Composer.objects.filter(name="Brahms").first() or ComposerFactory(
        name="Brahms", full_name="Johannes Brahms", sort_name="Brahms, Johannes", slug="brahms"
    )
    if not Work.objects.filter(composer=brahms, title__startswith="Symphony no. 4 in E minor").exists():
        work = WorkFactory(
            composer=brahms, title="Symphony no. 4 in E minor, op. 98", slug="symphony-4", genre=Genre.ORCHESTRAL
        )
        # As the admin leaves a work staff add: its number, key and search text read from the title.
        services.composer_refresh_search_text(composer=brahms)
        services.work_refresh_search_text(work=work)
    LabelFactory(name="Leipzig Records", slug="leipzig-records")
    ArtistFactory(name="Kurt Example", slug="kurt-example")
    ops = django_user_model.objects.create_superuser(email="ops@arkiv.example", password=PASSWORD)
    TOTPDevice.objects.create(user=ops, name="Authenticator app", confirmed=True)
    django_user_model.objects.create_user(
        email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now()
    )
    card = GiftCard.objects.create(
        code_hash=giftcards.code_hash(GIFT_CODE),
        last4=giftcards.normalise_code(GIFT_CODE)[-4:],
        initial_amount=Decimal("20.00"),
        balance=Decimal("20.00"),
        expires_at=timezone.now() + datetime.timedelta(days=365),
    )
    GiftCardEntry.objects.create(
        gift_card=card, kind=GiftCardEntry.Kind.ISSUE, amount=Decimal("20.00"), balance_after=Decimal("20.00")
    )
    return card


def staff_sign_in(page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", "ops@arkiv.example")
    page.fill("input[name=password]", PASSWORD)
    if not page.locator("input[name=otp_token]").count():  # the code is asked for after the password
        with page.expect_navigation():
            page.locator("input[name=password]").press("Enter")
        page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", code_for(TOTPDevice.objects.get()))
    with page.expect_navigation():
        page.locator("input[name=otp_token]").press("Enter")


def test_staff_import_a_record_a_customer_buys_it_with_a_voucher_and_a_gift_card_and_downloads_the_invoice(
    browser,
    live_server,
    shop,
    sandbox,  # noqa: F811
    tmp_path,
):
    staff = browser.new_context(base_url=live_server.url).new_page()
    customer = browser.new_context(base_url=live_server.url).new_page()
    for page in (staff, customer):
        page.set_default_timeout(15000)

    # Staff: the label's file, previewed, then confirmed.
    staff_sign_in(staff)
    feed = tmp_path / "leipzig-records.csv"
    feed.write_text(FEED)
    staff.goto("/admin/catalog/importrun/import/")
    staff.set_input_files("input[type=file]", str(feed))
    staff.get_by_role("button", name="Preview").click()
    staff.get_by_role("button", name="Confirm and import").wait_for()
    preview = staff.locator("#content").inner_text()
    assert "1 to create" in preview and "1 rejected" in preview
    assert "composer \u201cSalieriwski\u201d is not in the catalog" in preview
    assert not Release.objects.exists(), "a preview saves nothing"
    staff.get_by_role("button", name="Confirm and import").click()
    staff.wait_for_selector("text=Applied")
    release = Release.objects.get()
    assert release.title == "Brahms: Symphony No. 4" and release.tracks.count() == 2

    # Staff: a voucher for a tenth off.
    staff.goto("/admin/orders/voucher/add/")
    staff.get_by_label("Code").fill("autumn10")
    staff.get_by_label("Value").fill("10")
    staff.get_by_role("button", name="Save", exact=True).click()
    staff.wait_for_selector(".messagelist")
    assert Voucher.objects.get().code == "AUTUMN10"

    # The customer finds the imported record, adds it with the voucher, and pays with the
    # gift card and the rest by card.
    customer.goto("/account/sign-in/")
    customer.fill("#id_username", "clara@example.com")
    customer.fill("#id_password", PASSWORD)
    customer.get_by_role("button", name="Sign in").click()
    customer.wait_for_url(lambda url: "/sign-in/" not in url)
    customer.goto("/search/?q=brahms+symphony+4")
    customer.locator(f"a[href='{release.get_absolute_url()}']").first.click()
    customer.wait_for_url(f"**{release.get_absolute_url()}")
    customer.get_by_role("button", name="Add to cart").click()
    customer.wait_for_selector(".alert-success")
    customer.goto("/cart/")
    customer.get_by_label("Voucher code").fill("autumn10")
    customer.get_by_role("button", name="Apply voucher").click()
    customer.wait_for_selector("#cart-discount")
    assert customer.locator("#cart-total").inner_text() == "€40.95"  # 40.00 - 4.00 + 4.95 shipping
    customer.get_by_role("link", name="Check out").click()
    customer.fill("#id_phone", "+49 341 000000")
    customer.fill("#id_billing_name", "Clara Schumann")
    customer.fill("#id_billing_line1", "1 Wieck Street")
    customer.fill("#id_billing_city", "Leipzig")
    customer.fill("#id_billing_postcode", "04109")
    customer.select_option("#id_billing_country", "DE")
    customer.get_by_label("I am 18 or over").check()
    customer.get_by_label("Gift card code").fill(GIFT_CODE.lower())
    customer.get_by_role("button", name="Continue to payment").click()
    pay_on_sandbox(customer, "4242 4242 4242 4242")
    customer.wait_for_selector("#order-confirmed")
    order = Order.objects.get()
    assert (order.subtotal, order.discount, order.shipping_cost, order.total) == (
        Decimal("40.00"),
        Decimal("4.00"),
        Decimal("4.95"),
        Decimal("40.95"),
    )
    assert order.gift_card_amount == Decimal("20.00") and order.amount_authorised == Decimal("20.95")
    assert sandbox.sessions[order.payment_session_id]["amount_total"] == 2095
    shop.refresh_from_db()
    assert shop.balance == 0
    assert Offer.objects.get(sku="LR001-CD").stock == 4

    # Staff ship it from the order's admin page: the card payment is captured.
    staff.goto(f"/admin/orders/order/{order.pk}/change/")
    staff.get_by_role("link", name="Mark shipped").click()
    staff.get_by_label("Tracking number").fill("JD014600003")
    staff.get_by_role("button", name="Mark shipped and capture payment").click()
    staff.wait_for_selector("text=shipped; payment captured and customer emailed")
    order.refresh_from_db()
    assert order.status == Status.SHIPPED and order.amount_captured == Decimal("20.95")
    assert sandbox.intents[order.payment_intent_id]["amount_received"] == 2095
    assert any("JD014600003" in m.body for m in mail.outbox if m.to == ["clara@example.com"])

    # The customer downloads the invoice from the order page.
    invoice = Invoice.objects.get(order=order, kind=Invoice.Kind.INVOICE)
    customer.goto(order.get_absolute_url())
    with customer.expect_download() as download:
        customer.locator("#invoices").get_by_role("link", name="Download PDF").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5000
    assert re.search(rf"{invoice.number}", download.value.suggested_filename)
    customer.locator("#invoices").get_by_role("link", name="Printable page").click()
    printable = customer.locator("body").inner_text()
    assert invoice.number in printable and "Clara Schumann" in printable
    assert "Voucher discount" in printable and "−€4.00" in printable
    assert "€40.95" in printable
    assert customer.locator("#gift-card-payment").inner_text().split()[-1] == "€20.00"

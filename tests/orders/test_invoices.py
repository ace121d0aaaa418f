"""Invoices and credit notes: every captured order gets an invoice numbered without gaps
per year, every refund (of an order or of a return) a credit note referring to it; they
never change, outlive the customer's erasure for the retention period, and the customer
(their own orders only) and staff download them as PDF or as a printable page, in the
order's language. The accountant's CSV exports come from the admin and a command."""

import csv
import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from orders import returns
from orders.cart import CartLine
from orders.invoices import invoice_issue
from orders.models import DocumentCounter, FinalDocumentError, Invoice, InvoiceLine, Order, OrderLine, VatRate
from orders.privacy_data import purge
from orders.services import OrderError, order_place, order_refund, order_ship, order_start_payment, payment_sync
from privacy import services as privacy
from tests.factories import OfferFactory, ReleaseFactory, checkout_details
from tests.orders.helpers import pay, staff_client

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
YEAR = timezone.localdate().year


@pytest.fixture
def packer(django_user_model):
    user = django_user_model.objects.create_user(email="packer@arkiv.example", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="orders",
            codename__in=["view_order", "change_order", "ship_order", "refund_order", "view_invoice"],
        )
    )
    return user


@pytest.fixture
def clara(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    client.force_login(user)
    return user


def paid(customer=None, **address):
    """Two Brahms at 15.00 and one Bach at 22.00 to Leipzig (or `address`), paid on the sandbox."""
    offers = (
        OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("15.00"), stock=5),
        OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("22.00"), stock=2),
    )
    details = checkout_details()
    if address:
        details = checkout_details(billing={**details.billing, **address}, shipping={**details.shipping, **address})
    order = order_place(
        cart_lines=[
            CartLine(offer=o, quantity=q, price_when_added=o.price) for o, q in zip(offers, (2, 1), strict=True)
        ],
        customer=customer,
        checkout=details,
        checkout_token=uuid.uuid4(),
    )
    pay(order_start_payment(order, success_url="http://testserver/paid/", cancel_url="http://testserver/cancelled/"))
    return payment_sync(order)


def shipped(packer, customer=None, **address):
    return order_ship(paid(customer, **address), carrier="DHL", tracking_number="JD1", by=packer)


def test_shipping_an_order_captures_it_and_issues_its_invoice_with_seller_buyer_lines_and_vat(
    payment_sandbox, packer, settings
):
    settings.ARKIV_SELLER_VAT_NUMBER = "GB123456789"
    order = shipped(packer)
    invoice = Invoice.objects.get()
    assert invoice.number == f"{YEAR}-000001" and invoice.kind == "invoice" and invoice.order == order
    assert invoice.supplied_on == timezone.localdate(order.shipped_at)
    assert (invoice.seller_name, invoice.seller_vat_number) == ("Arkiv Music Ltd", "GB123456789")
    assert invoice.buyer_name == "Clara Schumann" and "04109 Leipzig" in invoice.buyer_address
    assert [(li.description, li.quantity, li.total, li.vat_rate, li.vat_amount) for li in invoice.lines.all()] == [
        ("Brahms: Symphony no. 4 (CD)", 2, Decimal("30.00"), Decimal("19.00"), Decimal("4.79")),
        ("Bach: Cello Suites (CD)", 1, Decimal("22.00"), Decimal("19.00"), Decimal("3.51")),
        ("Standard (3-5 working days)", 1, Decimal("4.95"), Decimal("19.00"), Decimal("0.79")),
    ]
    assert invoice.total == order.total == order.amount_captured == Decimal("56.95")
    assert invoice.total_vat == Decimal("9.09") and invoice.total_net == Decimal("47.86")
    assert invoice.retain_until >= timezone.localdate() + datetime.timedelta(days=365 * 10)


def test_invoice_numbers_run_on_without_gaps_and_start_again_each_year(payment_sandbox, packer):
    DocumentCounter.objects.create(kind="invoice", year=YEAR - 1, last=4711)
    numbers = [shipped(packer).invoices.get().number for _ in range(3)]
    assert numbers == [f"{YEAR}-000001", f"{YEAR}-000002", f"{YEAR}-000003"]


def test_a_capture_that_fails_at_the_processor_leaves_no_invoice_and_no_gap(payment_sandbox, packer):
    order = paid()
    payment_sandbox.intents[order.payment_intent_id]["status"] = "canceled"  # voided at the processor meanwhile
    with pytest.raises(Exception):  # noqa: B017, PT011 - the processor refuses; what matters is what is left
        order_ship(order, carrier="DHL", tracking_number="JD1", by=packer)
    assert not Invoice.objects.exists()
    assert shipped(packer).invoices.get().number == f"{YEAR}-000001"


def test_a_refund_gets_a_credit_note_referring_to_the_invoice(payment_sandbox, packer):
    order = shipped(packer)
    brahms = OrderLine.objects.get(order=order, unit_price=Decimal("15.00"))
    order_refund(order, amount=Decimal("15.00"), lines=[(brahms, 1)], by=packer)
    order_refund(order, amount=Decimal("4.95"), by=packer, note="Shipping back")
    invoice = Invoice.objects.get(kind="invoice")
    first, second = Invoice.objects.filter(kind="credit_note").order_by("number")
    assert (first.number, second.number) == (f"CN-{YEAR}-000001", f"CN-{YEAR}-000002")
    assert first.corrects == second.corrects == invoice
    assert [(li.description, li.quantity, li.total, li.vat_amount) for li in first.lines.all()] == [
        ("Brahms: Symphony no. 4 (CD)", 1, Decimal("15.00"), Decimal("2.39"))
    ]
    assert [(li.description, li.total, li.vat_rate, li.vat_amount) for li in second.lines.all()] == [
        (f"Refund on order {order.number}", Decimal("4.95"), Decimal("19.00"), Decimal("0.79"))
    ]
    assert first.total + second.total == Order.objects.get().amount_refunded


def test_a_refunded_return_gets_a_credit_note_for_the_returned_lines(client, clara, payment_sandbox, packer):
    order = shipped(packer, customer=clara)
    bach = OrderLine.objects.get(order=order, unit_price=Decimal("22.00"))
    ret = returns.return_open(order=order, quantities={bach.pk: 1}, reason="damaged", token=uuid.uuid4())
    returns.return_mark_received(ret=ret, by=packer)
    returns.return_refund(ret=ret, by=packer, token=uuid.uuid4())
    note = Invoice.objects.get(kind="credit_note")
    assert note.refund.return_request == ret and note.corrects.number == f"{YEAR}-000001"
    assert (note.total, note.total_vat) == (Decimal("22.00"), Decimal("3.51"))


def test_an_issued_invoice_is_refused_any_change_by_the_model_and_by_the_database(payment_sandbox, packer):
    invoice = shipped(packer).invoices.get()
    invoice.buyer_name = "Someone Else"
    with pytest.raises(FinalDocumentError):
        invoice.save()
    with pytest.raises(FinalDocumentError):
        invoice.delete()
    line = invoice.lines.first()
    line.total = Decimal("0.01")
    with pytest.raises(FinalDocumentError):
        line.save()
    for change in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1.00")),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(vat_amount=Decimal("0.00")),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    invoice.refresh_from_db()
    assert invoice.buyer_name == "Clara Schumann" and invoice.total == Decimal("56.95")


def test_erasure_keeps_invoices_and_credit_notes_until_their_retention_date(client, clara, payment_sandbox, packer):
    order = shipped(packer, customer=clara)
    order_refund(order, amount=Decimal("10.00"), by=packer)
    privacy.account_erase(user=clara)
    order.refresh_from_db()
    assert order.erased_at and order.shipping_line1 == ""
    assert Invoice.objects.count() == 2
    assert Invoice.objects.get(kind="invoice").buyer_name == "Clara Schumann"

    # The order's own retention date passing is not enough: its documents are kept for theirs.
    Order.objects.filter(pk=order.pk).update(retain_until=datetime.date(2000, 1, 1))
    purge(timezone.localdate())
    assert Order.objects.filter(pk=order.pk).exists() and Invoice.objects.count() == 2
    purge(timezone.localdate() + datetime.timedelta(days=365 * 11))
    assert not Order.objects.exists() and not Invoice.objects.exists()


def test_the_customer_downloads_their_invoice_as_pdf_and_printable_page_from_the_order_page(
    client, clara, payment_sandbox, packer
):
    order = shipped(packer, customer=clara)
    page = client.get(f"/orders/{order.number}/").content.decode()
    pdf_url = f"/orders/{order.number}/invoices/{YEAR}-000001/pdf/"
    html_url = f"/orders/{order.number}/invoices/{YEAR}-000001/"
    assert f'href="{pdf_url}"' in page and f'href="{html_url}"' in page

    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and f'filename="Invoice-{YEAR}-000001.pdf"' in pdf["Content-Disposition"]
    assert "no-store" in pdf["Cache-Control"]
    html = client.get(html_url).content.decode()
    assert f"Invoice {YEAR}-000001" in html and "Clara Schumann" in html and "Arkiv Music Ltd" in html
    assert "€56.95" in html and "19 %" in html and "€9.09" in html


def test_nobody_else_sees_an_invoice_and_a_number_from_another_order_is_not_found(
    client, clara, payment_sandbox, packer
):
    order = shipped(packer, customer=clara)
    url = f"/orders/{order.number}/invoices/{YEAR}-000001/pdf/"
    assert Client().get(url).status_code == 404  # a stranger
    other = User.objects.create_user(email="robert@example.com", password=PASSWORD, email_verified_at=timezone.now())
    someone = Client()
    someone.force_login(other)
    assert someone.get(url).status_code == 404
    theirs = shipped(packer, customer=other)
    # Their own order, with the number of Clara's invoice: not theirs, not found.
    assert someone.get(f"/orders/{theirs.number}/invoices/{YEAR}-000001/").status_code == 404
    assert someone.get(f"/orders/{theirs.number}/invoices/{YEAR}-000002/").status_code == 200


def test_an_order_placed_in_german_has_a_german_invoice(client, clara, payment_sandbox, packer):
    order = paid(customer=clara)
    Order.objects.filter(pk=order.pk).update(language="de")
    order = order_ship(Order.objects.get(pk=order.pk), carrier="DHL", tracking_number="JD1", by=packer)
    html = client.get(f"/orders/{order.number}/invoices/{YEAR}-000001/").content.decode()
    assert f"Rechnung {YEAR}-000001" in html and "Rechnungsempfänger" in html and "Standard (3–5 Werktage)" in html
    assert "56,95\xa0€" in html and "USt." in html and "Leistungsdatum" in html
    pdf = client.get(f"/orders/{order.number}/invoices/{YEAR}-000001/pdf/")
    assert f'filename="Rechnung-{YEAR}-000001.pdf"' in pdf["Content-Disposition"]
    note = order_refund(order, amount=Decimal("5.00"), by=packer).invoices.get(kind="credit_note")
    html = client.get(f"/orders/{order.number}/invoices/{note.number}/").content.decode()
    assert f"Rechnungskorrektur {note.number}" in html and "Korrigiert Rechnung" in html


def test_a_delivery_outside_the_eu_is_invoiced_as_an_export_without_vat(client, clara, payment_sandbox, packer):
    order = shipped(packer, customer=clara, country="US", region="NY", city="New York", postcode="10001")
    invoice = order.invoices.get()
    assert invoice.total_vat == 0 and {li.vat_rate for li in invoice.lines.all()} == {0}
    html = client.get(f"/orders/{order.number}/invoices/{invoice.number}/").content.decode()
    assert "Delivery outside the EU: an export, no VAT charged." in html


def test_staff_download_invoices_from_the_order_and_the_invoice_list(payment_sandbox, packer):
    order = shipped(packer)
    staff = staff_client(packer)
    invoice = order.invoices.get()
    assert invoice.number in staff.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    pdf = staff.get(f"/admin/orders/invoice/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert "Clara Schumann" in staff.get(f"/admin/orders/invoice/{invoice.pk}/page/").content.decode()
    listing = staff.get("/admin/orders/invoice/").content.decode()
    assert invoice.number in listing and "Exports for the accountant" in listing

    packer.user_permissions.remove(Permission.objects.get(codename="view_invoice"))
    assert (
        staff_client(User.objects.get(pk=packer.pk)).get(f"/admin/orders/invoice/{invoice.pk}/pdf/").status_code == 403
    )


def rows(content):
    return list(csv.reader(io.StringIO(content)))


def test_the_accountant_exports_invoices_credit_notes_orders_and_vat_per_country_and_rate(
    payment_sandbox, packer, admin_client
):
    german = shipped(packer)
    order_refund(german, amount=Decimal("22.00"), lines=[(german.lines.get(unit_price=Decimal("22.00")), 1)], by=packer)
    french = shipped(packer, country="FR", city="Paris", postcode="75001")
    today = timezone.localdate().isoformat()
    url = f"/admin/orders/invoice/exports/?start={today}&end={today}&download=1"

    vat = rows(admin_client.get(url + "&report=vat").content.decode())
    assert vat[0] == [
        "country", "currency", "vat_rate", "invoiced_net", "invoiced_vat", "credited_net", "credited_vat", "net", "vat"
    ]  # fmt: skip
    assert vat[1:] == [
        ["DE", "EUR", "19.00", "47.86", "9.09", "18.49", "3.51", "29.37", "5.58"],
        # 5.00 + 3.67 + 0.83: shipping's 4.95 x 20 / 120 is exactly 0.825, rounded half-up.
        ["FR", "EUR", "20.00", "47.45", "9.50", "0.00", "0.00", "47.45", "9.50"],
    ]
    invoices = rows(admin_client.get(url + "&report=invoices").content.decode())
    assert [r[0] for r in invoices[1:]] == [f"{YEAR}-000001", f"{YEAR}-000002"]
    notes = rows(admin_client.get(url + "&report=credit_notes").content.decode())
    assert notes[1][0] == f"CN-{YEAR}-000001" and notes[1][-1] == f"{YEAR}-000001" and notes[1][-2] == "22.00"
    orders = rows(admin_client.get(url + "&report=orders").content.decode())
    assert orders[0][6:9] == ["subtotal", "discount", "shipping"]
    assert {(r[0], r[10], r[15]) for r in orders[1:]} == {
        (german.number, "9.09", f"{YEAR}-000001"),
        (french.number, "9.50", f"{YEAR}-000002"),
    }
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    empty = admin_client.get(f"/admin/orders/invoice/exports/?report=vat&start={yesterday}&end={yesterday}&download=1")
    assert rows(empty.content.decode())[1:] == []


def test_an_export_form_that_does_not_hold_says_why_and_the_command_writes_the_same_csv(
    payment_sandbox, packer, admin_client, tmp_path
):
    bad = admin_client.get("/admin/orders/invoice/exports/?report=vat&start=2026-03-31&end=2026-01-01&download=1")
    assert bad.status_code == 400 and "The last day comes before the first." in bad.content.decode()
    assert admin_client.get("/admin/orders/invoice/exports/?report=vat&start=soon&end=&download=1").status_code == 400

    shipped(packer)
    today = timezone.localdate().isoformat()
    target = tmp_path / "vat.csv"
    call_command("export_accounts", "vat", "--from", today, "--to", today, "--output", str(target))
    web = admin_client.get(f"/admin/orders/invoice/exports/?report=vat&start={today}&end={today}&download=1")
    assert rows(target.read_text()) == rows(web.content.decode())
    out = io.StringIO()
    call_command("export_accounts", "invoices", "--from", today, "--to", today, stdout=out)
    assert rows(out.getvalue())[1][0] == f"{YEAR}-000001"


def test_a_buyer_name_that_looks_like_a_formula_stays_text_in_the_export(payment_sandbox, packer, admin_client):
    shipped(packer, name='=HYPERLINK("http://evil.example","x")')
    today = timezone.localdate().isoformat()
    invoices = rows(
        admin_client.get(
            f"/admin/orders/invoice/exports/?report=invoices&start={today}&end={today}&download=1"
        ).content.decode()
    )
    assert invoices[1][3] == '\'=HYPERLINK("http://evil.example","x")'


def remove_documents():
    """As if the orders were shipped before invoices existed: every document's rows removed
    below the models' guard, and below the database's, as the purge passes it (by saying
    which day it purges for)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('arkiv.today', '9999-12-31', true)")
        InvoiceLine.objects.all()._raw_delete(InvoiceLine.objects.db)
        Invoice.objects.all()._raw_delete(Invoice.objects.db)


def test_an_order_shipped_before_invoices_existed_gets_its_invoice_when_refunded(payment_sandbox, packer):
    order = shipped(packer)
    # As if shipped before this release: no invoice yet (rows removed below the models' guard).
    remove_documents()
    order_refund(order, amount=Decimal("5.00"), by=packer)
    assert sorted(Invoice.objects.values_list("kind", flat=True)) == ["credit_note", "invoice"]
    assert invoice_issue(order).number == f"{YEAR}-000002"  # the counter never goes back


def test_orders_captured_before_invoices_existed_are_invoiced_once_by_the_command(payment_sandbox, packer):
    old = shipped(packer)
    remove_documents()
    paid()  # authorised, not captured: nothing to invoice yet
    out = io.StringIO()
    call_command("issue_missing_invoices", stdout=out)
    call_command("issue_missing_invoices", stdout=out)
    assert out.getvalue().splitlines() == ["1 invoice(s) issued.", "0 invoice(s) issued."]
    assert list(Invoice.objects.values_list("order", flat=True)) == [old.pk]


def test_the_data_download_lists_the_customers_invoices(client, clara, payment_sandbox, packer):
    shipped(packer, customer=clara)
    data = client.get("/account/privacy/my-data.json").json()
    assert [(d["number"], d["kind"], d["total"]) for d in data["orders"][0]["invoices"]] == [
        (f"{YEAR}-000001", "Invoice", "56.95")
    ]


def test_the_invoice_list_for_staff_takes_the_same_queries_for_one_invoice_or_five(payment_sandbox, packer):
    """Guards the N+1 of each row's order link."""
    staff = staff_client(packer)
    shipped(packer)
    with CaptureQueriesContext(connection) as one:
        assert staff.get("/admin/orders/invoice/").status_code == 200
    for _ in range(4):
        shipped(packer)
    with CaptureQueriesContext(connection) as five:
        page = staff.get("/admin/orders/invoice/").content.decode()
    assert f"{YEAR}-000005" in page
    assert len(five) == len(one)


def test_an_old_order_whose_vat_cannot_be_worked_out_is_not_captured(payment_sandbox, packer):
    order = paid()
    # Placed before VAT was recorded, and no rate in the table covers its day.
    OrderLine.objects.filter(order=order).update(vat_rate=None, vat_amount=None)
    Order.objects.filter(pk=order.pk).update(shipping_vat_rate=None, shipping_vat=None)
    VatRate.objects.filter(country="DE").update(valid_from=datetime.date(2099, 1, 1))
    with pytest.raises(OrderError, match="No VAT rate for DE .* Nothing was captured."):
        order_ship(Order.objects.get(pk=order.pk), carrier="DHL", tracking_number="JD1", by=packer)
    assert payment_sandbox.intents[order.payment_intent_id]["status"] == "requires_capture"
    assert Order.objects.get(pk=order.pk).status == "authorised" and not Invoice.objects.exists()

"""Cart, checkout, the return from the payment page, and the processor's webhook."""

import contextlib
import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries
from django_ratelimit.core import is_ratelimited

from arkiv.csp import posts_to_payment_page
from arkiv.limits import client_ip_key
from catalog.models import Offer
from catalog.templatetags.catalog_tags import money
from privacy import forms as privacy_forms

from . import addresses, gateway, giftcards, invoices, returns, selectors, services, vouchers
from .cart import Cart, CartError, offers_shown, subtotal
from .cart_page import render_cart
from .forms import (
    ADDRESS_FIELDS,
    CartUpdateForm,
    CheckoutForm,
    GiftCardBalanceForm,
    GiftCardForm,
    VoucherForm,
    cart_add_values,
)
from .models import Order, ShippingMethod, Status, VoucherRedemption
from .selectors import guest_orders_for, orders_of

DELIVERY_COUNTRY_KEY = "delivery_country"

PLACED_KEY = "placed_orders"


def _back(request, fallback):
    """The page the form came from (`next`, a path on this site), else the fallback (a
    URL, or a function that makes it: worked out only when needed)."""
    target = request.POST.get("next", "")
    # Only a path: redirect() would take anything else for a view name and fail with a 500.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback() if callable(fallback) else fallback


@require_POST
def cart_add(request):
    """Put copies of an offer in the cart."""
    values = cart_add_values(request.POST)
    if values is None:
        messages.error(request, _("Choose a quantity between 1 and 99."))
        return HttpResponseRedirect(_back(request, lambda: reverse("orders:cart")))
    offer_id, quantity = values
    offer = offers_shown([offer_id]).get(offer_id)
    if offer is None:
        messages.error(request, _("That item is not in our catalog."))
        return HttpResponseRedirect(_back(request, lambda: reverse("orders:cart")))
    try:
        Cart(request.session).add(offer, quantity)
    except CartError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Added %(title)s to your cart.") % {"title": offer.release.title})
    # A path, not redirect()'s view name: looking a path up as a view name first cost
    # every add a failed URL reversal.
    return HttpResponseRedirect(_back(request, offer.release.get_absolute_url))


@require_POST
def cart_update(request):
    """Change a line's quantity (0 removes it)."""
    form = CartUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a quantity between 0 and 99."))
        return redirect("orders:cart")
    cart = Cart(request.session)
    offer = Offer.objects.filter(pk=form.cleaned_data["offer"]).first()
    if offer is None or not cart.quantity_of(offer.pk):
        messages.error(request, _("That item is not in your cart."))
        return redirect("orders:cart")
    try:
        cart.set(offer, form.cleaned_data["quantity"])
    except CartError as exc:
        messages.error(request, str(exc))
    return redirect("orders:cart")


@require_POST
def cart_accept_prices(request):
    """The buyer has seen the changed prices and goes on with them."""
    Cart(request.session).accept_current_prices()
    return redirect("orders:checkout")


@require_POST
def cart_voucher(request):
    """Apply a voucher code to the cart, or say why it cannot be used (with a 400)."""
    form = VoucherForm(request.POST)
    cart = Cart(request.session)
    lines = cart.lines()
    problem = ""
    if not form.is_valid():
        problem = form.errors["code"][0]
    elif not lines and cart.gift_cards():
        problem = _("Vouchers take money off recordings, not gift cards: add a recording to use this code.")
    elif not lines:
        problem = _("Your cart is empty: add something before entering a voucher code.")
    else:
        try:
            discount = vouchers.for_cart(form.cleaned_data["code"], lines=lines, email=_buyer_email(request))
        except vouchers.VoucherRefused as exc:
            problem = str(exc)
    if problem:
        return _cart_page(request, lines, voucher_form=form, voucher_error=problem, status=400)
    request.session[vouchers.SESSION_KEY] = discount.voucher.code
    messages.success(
        request,
        _("Voucher %(code)s applied: %(amount)s off.")
        % {"code": discount.voucher.code, "amount": money(discount.total)},
    )
    return redirect("orders:cart")


@require_POST
def cart_voucher_remove(request):
    """Take the voucher off the cart."""
    if request.session.pop(vouchers.SESSION_KEY, None):
        messages.info(request, _("The voucher was removed from your cart."))
    return redirect("orders:cart")


def _buyer_email(request):
    """Whose the per-customer voucher limit counts before checkout: the signed-in buyer's."""
    return request.user.email if request.user.is_authenticated else ""


def _voucher(request, lines, *, email=""):
    """The cart's voucher: (Discount or None, why it does not apply or '')."""
    code = request.session.get(vouchers.SESSION_KEY)
    if not code or not lines:
        return None, ""
    try:
        return vouchers.for_cart(code, lines=lines, email=email or _buyer_email(request)), ""
    except vouchers.VoucherRefused as exc:
        return None, str(exc)


@require_GET
def cart_detail(request):
    """The cart, with any price or availability change since items were added, and what
    shipping costs to the destination the buyer picks (a plain GET form)."""
    cart = Cart(request.session)
    lines = cart.lines()
    country, problem = _delivery_country(request), ""
    asked = request.GET.get("country")
    if asked is not None:
        asked = asked.strip().upper()
        if asked in countries:
            country = asked
            # Only a change is stored: the same country asked again leaves the session unwritten.
            if request.session.get(DELIVERY_COUNTRY_KEY) != asked:
                request.session[DELIVERY_COUNTRY_KEY] = asked
        else:
            problem = _("Choose a country from the list to see its shipping costs.")
    return _cart_page(request, lines, country=country, country_problem=problem, status=400 if problem else 200)


def _cart_page(request, lines, *, country=None, country_problem="", voucher_form=None, voucher_error="", status=200):
    country = country or _delivery_country(request)
    cart = Cart(request.session)
    rates = services.shipping_rates_for(country)

    def context():
        discount, voucher_problem = _voucher(request, lines)
        return _summary(lines, gift_cards=cart.gift_cards(), country=country, discount=discount, rates=rates) | {
            "country_options": addresses.country_options(country),
            "country_problem": country_problem,
            # What the buyer typed, as text: the page is reused for the same words (cart_page).
            "voucher_typed": voucher_form["code"].value() or "" if voucher_form else "",
            "voucher_error": voucher_error,
            "voucher_problem": voucher_problem,
        }

    made_from = None
    if voucher_form is None and not request.session.get(vouchers.SESSION_KEY):
        # Without a voucher (whose terms are read from the database and by date), the page
        # follows from these alone: each line's offer as just read, with its quantity and
        # the price when added; the gift cards; the country and what it costs to ship
        # there.
        made_from = (
            [line.shown() for line in lines],
            cart.gift_card_values(),
            country,
            country_problem,
            [(method, rate.pk, rate.price, rate.free_from) for method, rate in rates.items()],
        )
    return render_cart(request, "orders/cart.html", context, status=status, made_from=made_from)


def _delivery_country(request):
    """Where the buyer last said the parcel goes, else the shop's own country."""
    return request.session.get(DELIVERY_COUNTRY_KEY) or settings.ARKIV_SHOP_COUNTRY


def _summary(lines, *, gift_cards=(), country=None, shipping_method=ShippingMethod.STANDARD, discount=None, rates=None):
    country = country or settings.ARKIV_SHOP_COUNTRY
    goods = subtotal(lines)
    off = discount.total if discount else Decimal("0.00")
    gifts = sum((card.amount for card in gift_cards), Decimal("0.00"))
    rates = services.shipping_rates_for(country) if rates is None else rates
    rate = rates.get(shipping_method) or next(iter(rates.values()), None)
    # Free shipping thresholds look at the goods after the discount (orders.vouchers).
    # Gift cards go by email: they neither ship nor count towards free shipping.
    shipping = rate.cost_for(goods - off) if rate and lines else Decimal("0.00")
    return {
        "lines": lines,
        "gift_cards": gift_cards,
        "goods_subtotal": goods,
        "gift_cards_total": gifts,
        "subtotal": goods + gifts,
        "discount": off,
        "voucher": discount.voucher if discount else None,
        "goods_total": goods - off,
        "before_shipping": goods + gifts - off,
        "shipping": shipping,
        "shipping_rate": rate if lines else None,
        "total": goods + gifts - off + shipping,
        "price_changes": [line for line in lines if line.price_changed],
        "problems": [line for line in lines if line.problem],
        "delivery_country": country,
        "delivery_country_name": addresses.country_name(country),
    }


def _shipping_labels(sub, rates, country):
    labels = []
    for method, label in ShippingMethod.choices:
        rate = rates.get(method)
        if rate is None:
            not_offered = _("not offered to %(country)s") % {"country": addresses.country_name(country)}
            labels.append((method, f"{label} – {not_offered}"))
        else:
            cost = rate.cost_for(sub)
            labels.append((method, f"{label} – {money(cost) if cost else pgettext('shipping cost', 'free')}"))
    return labels


def _shipping_summary(sub, rates, country, *, chosen=None, extra=Decimal("0.00")):
    """The checkout summary for the chosen shipping method to the delivery country (the
    first method offered there until the buyer picks another), and every offered method's
    cost and total for the page's script to swap in. `extra` (gift cards) is added to the
    totals but earns no free shipping."""
    options = _shipping_options(sub, rates, extra)
    if not rates:
        label = _("No delivery to %(country)s") % {"country": addresses.country_name(country)}
        return {"shipping": Decimal("0.00"), "total": sub + extra, "shipping_label": label, "shipping_options": options}
    chosen = chosen if chosen in rates else next(iter(rates))
    shipping = rates[chosen].cost_for(sub)
    return {
        "shipping": shipping,
        "total": sub + shipping + extra,
        "shipping_label": str(ShippingMethod(chosen).label),
        "shipping_options": options,
    }


def _shipping_options(sub, rates, extra=Decimal("0.00")):
    options = []
    for method, rate in rates.items():
        cost = rate.cost_for(sub)
        label = str(ShippingMethod(method).label)
        options.append(
            {
                "method": method,
                "label": label,
                "cost": money(cost) if cost else pgettext("shipping cost", "free"),
                "total": money(sub + cost + extra),
            }
        )
    return options


def _shipping_zones(sub, extra=Decimal("0.00")):
    """Every zone's countries and offered methods with cost and total, for the page's
    script to follow a change of delivery country at once."""
    return [
        {
            "countries": ",".join(str(code) for code in zone.countries),
            "rest_of_world": zone.rest_of_world,
            "options": _shipping_options(
                sub,
                {rate.method: rate for rate in sorted(zone.rates.all(), key=lambda r: _METHOD_ORDER[r.method])},
                extra,
            ),
        }
        for zone in selectors.shipping_zones_listed()
    ]


_METHOD_ORDER = {method: n for n, method in enumerate(ShippingMethod.values)}


def _destination(data, initial):
    """The delivery country the checkout page prices: the one sent (the billing
    country while "ship to my billing address" is ticked), else the one it started with."""
    if data is None:
        country = initial.get("billing_country", "")
    else:
        country = data.get("billing_country" if data.get("same_address") else "shipping_country", "")
    country = (country or "").upper()
    return country if country in countries else settings.ARKIV_SHOP_COUNTRY


def _prefill(request):
    initial = {"checkout_token": request.session.setdefault("checkout_token", str(uuid.uuid4()))}
    user = request.user
    if user.is_authenticated:
        initial["email"] = user.email
        address = user.addresses.filter(is_default=True).first() or user.addresses.first()
        if address:
            initial["phone"] = address.phone
            initial |= {f"billing_{f}": getattr(address, f, "") for f in ADDRESS_FIELDS}
    initial.setdefault("billing_country", _delivery_country(request))
    return initial


@require_http_methods(["GET", "POST"])
@posts_to_payment_page
def checkout(request):
    """Collect what the order needs, place it, and hand over to the payment page."""
    cart = Cart(request.session)
    lines, gift_cards = cart.lines(), cart.gift_cards()
    if not lines and not gift_cards:
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    discount, voucher_problem = _voucher(request, lines)
    if voucher_problem:
        return redirect("orders:cart")  # which says why the voucher no longer applies
    summary = _summary(lines, gift_cards=gift_cards, discount=discount)
    if summary["price_changes"] or summary["problems"]:
        messages.warning(request, _("Something in your cart changed since you added it. Please check it first."))
        return redirect("orders:cart")
    initial = _prefill(request)
    data, foreign = request.POST or None, False
    if data is not None and not _checkout_token_is_ours(request, data.get("checkout_token", "")):
        # order_place gives the order of a token to whoever sends it again: a token from
        # another browser would hand over its order. Show the details again, with this
        # browser's own token.
        data, foreign = data.copy(), True
        data["checkout_token"] = initial["checkout_token"]
    country = _destination(data, initial)
    rates = services.shipping_rates_for(country)
    sub = summary["goods_total"]  # goods after any discount: what shipping costs are worked out on
    form = CheckoutForm(data, initial=initial, shipping_labels=_shipping_labels(sub, rates, country), ships=bool(lines))
    gifts = summary["gift_cards_total"]
    summary |= _shipping_summary(sub, rates, country, chosen=(data or {}).get("shipping_method"), extra=gifts)
    summary |= {
        "delivery_country": country,
        "delivery_country_name": addresses.country_name(country),
        "shipping_zones": _shipping_zones(sub, gifts),
        # For the page's script, which names a method the chosen country is not offered.
        "not_offered": _("not offered"),
        "not_offered_to": _("not offered to %(country)s"),
    }
    if not lines:
        no_shipping = _("No shipping: gift cards come by email")
        summary |= {"shipping": Decimal("0.00"), "total": gifts, "shipping_label": no_shipping}
    if foreign:
        form.add_error(None, CheckoutForm.STALE_PAGE)
    status = 200
    if request.method == "POST" and form.is_valid() and lines and not _shipping_offered(form):
        status = 400  # the form comes back as sent, with the method's error on it
    elif request.method == "POST" and form.is_valid() and (status := _gift_card_code_status(request, form)) != 200:
        pass  # the form comes back as sent, with the code's error on it
    elif request.method == "POST" and form.is_valid():
        details = services.CheckoutDetails(
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            billing=form.address("billing"),
            shipping=form.address("shipping"),
            shipping_method=form.cleaned_data["shipping_method"],
            language=request.LANGUAGE_CODE,
        )
        try:
            order = services.order_place(
                cart_lines=lines,
                customer=request.user,
                checkout=details,
                checkout_token=form.cleaned_data["checkout_token"],
                statement=privacy_forms.statement_from(form.cleaned_data),
                voucher_code=discount.voucher.code if discount else "",
                gift_cards=gift_cards,
                gift_card_code=form.cleaned_data["gift_card_code"],
            )
        except giftcards.GiftCardRefused as exc:
            # Spent meanwhile (another checkout took its last balance): say so on the form.
            form.add_error("gift_card_code", str(exc))
            return render(request, "orders/checkout.html", {"form": form, **summary}, status=409)
        except services.OrderError as exc:
            messages.error(request, str(exc))
            return redirect("orders:cart")
        request.session[PLACED_KEY] = [*request.session.get(PLACED_KEY, [])[-19:], order.number]
        request.session.pop("checkout_token", None)
        if order.status in (Status.AUTHORISED, Status.SHIPPED):
            _bought(request)  # paid in full by gift card
        if order.status != Status.PENDING_PAYMENT:
            return redirect("orders:detail", number=order.number)
        # The processor's page sends the buyer back to pages in the order's language.
        with translation.override(order.language):
            success_url = reverse("orders:paid", args=[order.number])
            cancel_url = reverse("orders:payment_cancelled", args=[order.number])
        try:
            url = services.order_start_payment(
                order,
                success_url=request.build_absolute_uri(success_url) + "?session_id={CHECKOUT_SESSION_ID}",
                cancel_url=request.build_absolute_uri(cancel_url),
            )
        except gateway.PaymentError:
            # Refused, timed out or failing: no payment page was handed out, so the
            # stock goes back now (an earlier page that cannot be closed lapses at
            # the order's expiry, which the processor enforces too).
            with contextlib.suppress(gateway.PaymentError):
                services.payment_abandon(order, reason="Payment processor unreachable")
            messages.error(
                request, _("We could not reach our payment processor. Nothing was charged; please try again.")
            )
            return redirect("orders:cart")
        return redirect(url)
    return render(request, "orders/checkout.html", {"form": form, **summary}, status=status)


def _bought(request):
    """The order is paid: the cart and its voucher are done with."""
    Cart(request.session).clear()
    request.session.pop(vouchers.SESSION_KEY, None)


def _gift_card_code_status(request, form):
    """200 if the gift card code typed (if any) can pay now; else the error goes on the
    form and the status says why (400, or 429 after too many unknown codes)."""
    code = form.cleaned_data.get("gift_card_code", "")
    if not code:
        return 200
    card, status = _gift_card_looked_up(request, form, "gift_card_code", code)
    if status != 200:
        return status
    problem = giftcards.refusal(card)
    if problem:
        form.add_error("gift_card_code", problem)
        return 400
    return 200


GIFT_CARD_GUESSES = "arkiv.gift_card_code"


def _gift_card_looked_up(request, form, field, code):
    """(card, 200) for a code the shop knows; else the error goes on the form's field and
    the status says why: 400, or 429 after too many unknown codes from one address (the
    checkout and the balance page count together)."""
    rate = settings.RATE_LIMITS["gift_card_code"]
    if is_ratelimited(request, group=GIFT_CARD_GUESSES, key=client_ip_key, rate=rate, increment=False):
        form.add_error(field, _("Too many unknown gift card codes. Please try again in an hour."))
        return None, 429
    card = giftcards.find(code)
    if card is None:
        # Only unknown codes count towards the limit: that is what guessing looks like.
        is_ratelimited(request, group=GIFT_CARD_GUESSES, key=client_ip_key, rate=rate, increment=True)
        form.add_error(field, giftcards.refusal(None))
        return None, 400
    return card, 200


def _shipping_offered(form):
    """Whether the chosen method is offered to the delivery country; if not, say so on
    the shipping method field."""
    method = form.cleaned_data["shipping_method"]
    country = form.address("shipping")["country"]
    if method in services.shipping_rates_for(country):
        return True
    form.add_error("shipping_method", services.shipping_refusal(method, country))
    return False


@require_GET
def shipping_rates(request):
    """Where we ship and what it costs, zone by zone, before anyone checks out."""
    zones = selectors.shipping_zones_listed()
    listed = [
        {
            "zone": zone,
            "countries": sorted((addresses.country_name(code) for code in zone.countries), key=addresses.sort_key),
            "rates": list(zone.rates.all()),
        }
        for zone in zones
    ]
    return render(request, "orders/shipping.html", {"zones": listed})


def _checkout_token_is_ours(request, token):
    """Whether a submitted checkout token is one this browser was given: its checkout
    page's, or that of an order it placed (the same form sent twice finds that order)."""
    if token == request.session.get("checkout_token"):
        return True
    placed = request.session.get(PLACED_KEY, [])
    if not placed:
        return False
    try:
        token = uuid.UUID(token)
    except ValueError:
        return False
    return Order.objects.filter(number__in=placed, checkout_token=token).exists()


def _own_order(request, number):
    """An order the visitor may see: theirs by account, or placed in this session within
    the last GUEST_ORDER_PAGE_HOURS."""
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise Http404(_("No such order."))
    mine = request.user.is_authenticated and order.customer_id == request.user.pk
    placed_here = number in request.session.get(PLACED_KEY, [])
    recent = order.created_at >= timezone.now() - datetime.timedelta(hours=settings.GUEST_ORDER_PAGE_HOURS)
    if not (mine or (placed_here and recent)):
        raise Http404(_("No such order."))
    return order


@require_GET
def payment_return(request, number):
    """Back from the payment page: ask the processor (never trust the redirect alone)."""
    order = _own_order(request, number)
    # If the processor cannot be asked now, the webhook brings the news later and the
    # order page says the payment is still being confirmed.
    with contextlib.suppress(gateway.PaymentError):
        order = services.payment_sync(order)
    if order.status in (Status.AUTHORISED, Status.SHIPPED):  # a gift-card order is settled at once
        _bought(request)
    return redirect("orders:detail", number=order.number)


@require_GET
def payment_cancelled(request, number):
    """The buyer left the payment page: close it, put the stock back, keep the cart."""
    order = _own_order(request, number)
    try:
        order = services.payment_sync(order)
        if order.status == Status.PENDING_PAYMENT:
            order = services.payment_abandon(order, reason="Buyer left the payment page")
    except gateway.PaymentError:
        # The payment page could not be closed, so it may still be paid: say only that.
        messages.warning(
            request,
            _(
                "We could not reach our payment processor to close the payment page, so we cannot yet tell "
                "whether a payment went through. If it did, you will get a confirmation email; if not, "
                "nothing is charged and order %(number)s lapses at %(time)s. Your cart is as you left it."
            )
            % {"number": order.number, "time": date_format(timezone.localtime(order.expires_at), "H:i")},
        )
        return redirect("orders:detail", number=order.number)
    if order.status == Status.AUTHORISED:
        return redirect("orders:detail", number=order.number)
    messages.warning(request, _("Your payment was not completed and nothing was charged. Your cart is as you left it."))
    return redirect("orders:cart")


@require_GET
def order_detail(request, number):
    """The order's confirmation and status page."""
    order = _own_order(request, number)
    lines = list(order.lines.all())
    gift_card_lines = list(order.gift_card_lines.select_related("gift_card__email"))
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "voucher_code": _voucher_code_of(order),
            "lines": lines,
            "gift_card_lines": gift_card_lines,
            "gift_cards_only": bool(gift_card_lines) and not lines,
            "history": list(order.history.all()),
            "returns": list(order.returns.prefetch_related("lines__order_line")),
            "documents": list(order.invoices.order_by("issued_at", "pk")),
            "return_deadline": None if returns.return_refusal(order) else returns.return_deadline(order),
        },
    )


def _voucher_code_of(order):
    if not order.discount:
        return ""
    return next(iter(VoucherRedemption.objects.filter(order=order).values_list("voucher__code", flat=True)), "")


def _own_document(request, number, document):
    order = _own_order(request, number)
    found = order.invoices.filter(number=document).select_related("order", "corrects").first()
    if found is None:
        raise Http404(_("No such invoice."))
    return found


@never_cache
@require_GET
def invoice_page(request, number, document):
    """An invoice or credit note of the visitor's order as a printable page."""
    found = _own_document(request, number, document)
    return HttpResponse(invoices.document_html(found))


@never_cache
@require_GET
def invoice_pdf(request, number, document):
    """An invoice or credit note of the visitor's order as a PDF download."""
    found = _own_document(request, number, document)
    response = HttpResponse(invoices.document_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoices.document_filename(found, "pdf")}"'
    return response


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Signed events from the payment processor; bad signatures are refused."""
    try:
        event = gateway.parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except gateway.MalformedEvent as exc:
        return HttpResponseBadRequest(f"malformed event: {exc}")
    except ValueError:
        return HttpResponseBadRequest("invalid signature")
    # Not handled yet means not recorded: a 503 makes the processor send it again.
    try:
        outcome = services.webhook_handle(event)
    except gateway.PaymentError:
        return HttpResponse("processor unreachable, retry later", status=503)
    except DatabaseError:
        return HttpResponse("database unavailable, retry later", status=503)
    return HttpResponse(outcome)


@login_required
@require_GET
def order_history(request):
    """A customer's orders, newest first."""
    page = Paginator(orders_of(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_history.html", {"page": page, "cart_count": len(Cart(request.session))})


@login_required
@require_http_methods(["GET", "POST"])
def attach_guest_orders(request):
    """Orders placed as a guest with the account's proven address: the page lists them and
    only its button attaches them, to the signed-in account and no other."""
    orders = list(guest_orders_for(user=request.user))
    if request.method == "POST":
        shown = {order.number for order in orders}
        chosen = [number for number in request.POST.getlist("order") if number in shown]
        attached = services.orders_claim_for(user=request.user, numbers=chosen)
        if attached:
            messages.success(
                request,
                ngettext("%(count)d order added to your account.", "%(count)d orders added to your account.", attached)
                % {"count": attached},
            )
        else:
            messages.info(request, _("No orders were added: they are in your account already or no longer waiting."))
        return redirect("orders:history")
    return render(request, "orders/attach_guest_orders.html", {"orders": orders})


# -- gift cards ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def gift_cards(request):
    """Choose a gift card's amount and recipient, and put it in the cart."""
    form = GiftCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            Cart(request.session).add_gift_card(
                amount=data["value"],
                recipient_name=data["recipient_name"],
                recipient_email=data["recipient_email"],
                message=data["message"],
            )
        except CartError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Added a gift card of %(amount)s for %(name)s to your cart.")
                % {"amount": money(data["value"]), "name": data["recipient_name"]},
            )
        return redirect("orders:cart")
    context = {"form": form, "valid_years": settings.GIFT_CARD_VALID_YEARS}
    return render(request, "orders/gift_cards.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def gift_card_balance(request):
    """What is left on a gift card, and until when. The code is sent by POST, so it never
    lands in an address, a log or a Referer, and the page shows only its last four."""
    form = GiftCardBalanceForm(request.POST or None)
    card, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            card, status = _gift_card_looked_up(request, form, "code", form.cleaned_data["code"])
        if card is not None:
            form = GiftCardBalanceForm()  # the code is not written back into the page
    context = {"form": form, "card": card, "problem": giftcards.refusal(card) if card else ""}
    return render(request, "orders/gift_card_balance.html", context, status=status)


@require_POST
def gift_card_remove(request):
    """Take a gift card out of the cart."""
    if not Cart(request.session).remove_gift_card(request.POST.get("key", "")):
        messages.error(request, _("That gift card is not in your cart."))
    return redirect("orders:cart")

"""Returns: the terms of sale promise "You may return an item within 14 days of delivery
for a refund". The customer opens a return from the order page, choosing lines and a
reason; staff mark the parcel received and refund it once, through order_refund (its
one-time form token and PaymentAction), for the returned lines' value. The customer is
emailed at each step.

Orders record when they shipped, not when they arrived: delivery is taken as the shipping
date plus RETURN_TRANSIT_DAYS, so the window never closes before the promised 14 days."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from arkiv.mail import templated_email

from . import services
from .emails import order_page_url
from .models import Order, PaymentAction, ReturnLine, ReturnReason, ReturnRequest, Status

RETURN_DAYS = 14  # the terms of sale
RETURNABLE = {Status.SHIPPED, Status.PARTIALLY_REFUNDED}
SUBJECTS = {
    ReturnRequest.State.OPENED: _("Your return %(number)s for Arkiv order %(order)s"),
    ReturnRequest.State.RECEIVED: _("We have received your return %(number)s"),
    ReturnRequest.State.REFUNDED: _("Your return %(number)s is refunded"),
}


class ReturnError(services.OrderError):
    """The return cannot be opened or moved on as asked; the message is for people."""


class ReturnClosed(ReturnError):
    """The order cannot be returned (any more): not shipped, or the window has closed."""


def return_deadline(order):
    """The last moment a return can be opened, or None before the order has shipped."""
    if order.shipped_at is None:
        return None
    return order.shipped_at + datetime.timedelta(days=settings.RETURN_TRANSIT_DAYS + RETURN_DAYS)


def return_refusal(order, *, now=None):
    """Why the order cannot be returned now, or ''."""
    deadline = return_deadline(order)
    if order.status not in RETURNABLE or deadline is None:
        if order.status == Status.REFUNDED:
            return gettext("Order %(number)s has been refunded in full; there is nothing left to return.") % {
                "number": order.number
            }
        return gettext("Order %(number)s has not shipped yet, so there is nothing to return.") % {
            "number": order.number
        }
    if (now or timezone.now()) > deadline:
        return gettext(
            "The return period for order %(number)s ended on %(date)s: items can be returned within %(days)s "
            "days of delivery. If something is faulty, write to %(email)s."
        ) % {
            "number": order.number,
            "date": date_format(timezone.localtime(deadline), "d F Y"),
            "days": RETURN_DAYS,
            "email": settings.ARKIV_SERVICE_EMAIL,
        }
    return ""


def returnable_quantities(order):
    """{order line id: copies that may still be returned}: bought, less refunded, less
    what open returns (not yet refunded) already cover."""
    pending = dict(
        ReturnLine.objects.filter(order_line__order=order)
        .exclude(return_request__state=ReturnRequest.State.REFUNDED)
        .values_list("order_line")
        .annotate(total=Sum("quantity"))
    )
    return {
        line.pk: max(0, line.quantity - line.quantity_refunded - pending.get(line.pk, 0)) for line in order.lines.all()
    }


def _email(ret, state):
    """Email the customer about the return, in the language the order was placed in."""
    order = ret.order
    with translation.override(order.language):
        context = {
            "ret": ret,
            "order": order,
            "lines": list(ret.lines.select_related("order_line")),
            "service_email": settings.ARKIV_SERVICE_EMAIL,
            "postal_address": settings.ARKIV_POSTAL_ADDRESS,
            "site_url": settings.ARKIV_SITE_URL,
            "order_url": order_page_url(order),
        }
        # Queued in the outbox within the caller's transaction: a rollback sends nothing.
        templated_email(
            SUBJECTS[state] % {"number": ret.number, "order": order.number},
            f"orders/email/return_{state}.txt",
            context,
            order.email,
            reply_to=[settings.ARKIV_SERVICE_EMAIL],
        ).send()


@transaction.atomic
def return_open(*, order, quantities, reason, details="", token, now=None):
    """Open a return for some copies of an order's lines, within the window and never
    more than can still be returned (checked under the order's row lock); email the
    customer. The same form token always gives the same return."""
    existing = ReturnRequest.objects.filter(form_token=token).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise ReturnError(gettext("This form was already used for another order; open the order again."))
        return existing
    order = Order.objects.select_for_update().get(pk=order.pk)
    # The same form sent twice at once: the first one made the return while this waited.
    existing = ReturnRequest.objects.filter(form_token=token, order=order).first()
    if existing is not None:
        return existing
    refusal = return_refusal(order, now=now)
    if refusal:
        raise ReturnClosed(refusal)
    if reason not in ReturnReason.values:
        raise ReturnError(gettext("Choose a reason from the list."))
    chosen = {int(line_id): int(q) for line_id, q in quantities.items() if q}
    if not chosen:
        raise ReturnError(gettext("Choose how many copies of at least one item you are returning."))
    lines = {line.pk: line for line in order.lines.all()}
    available = returnable_quantities(order)
    for line_id, quantity in chosen.items():
        line = lines.get(line_id)
        if line is None:
            raise ReturnError(gettext("That item is not part of this order."))
        if quantity < 0 or quantity > available[line_id]:
            left = available[line_id]
            raise ReturnError(
                ngettext(
                    "%(title)s: you can return at most %(count)d copy.",
                    "%(title)s: you can return at most %(count)d copies.",
                    left,
                )
                % {"title": line.title, "count": left}
                if left
                else gettext("%(title)s: every copy has already been returned.") % {"title": line.title}
            )
    ret = ReturnRequest.objects.create(
        order=order,
        reason=reason,
        details=details[:1000],
        # What the copies were paid: a voucher's discount on them is not given back.
        amount=sum(
            (lines[i].paid_for(q, already=lines[i].quantity - available[i]) for i, q in chosen.items()),
            Decimal("0.00"),
        ),
        form_token=token,
    )
    ReturnLine.objects.bulk_create(
        [ReturnLine(return_request=ret, order_line_id=i, quantity=q) for i, q in chosen.items()]
    )
    _email(ret, ReturnRequest.State.OPENED)
    return ret


@transaction.atomic
def return_mark_received(*, ret, by):
    """Staff have the parcel: mark the return received (once) and email the customer.
    Returns whether this call marked it."""
    locked = ReturnRequest.objects.select_for_update().select_related("order").get(pk=ret.pk)
    if locked.state != ReturnRequest.State.OPENED:
        return False
    locked.state, locked.received_at, locked.received_by = ReturnRequest.State.RECEIVED, timezone.now(), by
    locked.save(update_fields=["state", "received_at", "received_by"])
    _email(locked, ReturnRequest.State.RECEIVED)
    ret.refresh_from_db()
    return True


def return_refund(*, ret, by, token):
    """Refund a received return once, for its lines' value, through the order's refund
    path under the form's one-time token: the order row and then the return row are
    locked and the return's state re-read, so a double click or two staff at once
    refund it once. The customer gets the return's refund email (not the order's)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=ret.order_id)
        locked = ReturnRequest.objects.select_for_update().get(pk=ret.pk)
        if locked.state == ReturnRequest.State.REFUNDED:
            done = PaymentAction.objects.select_related("by").get(pk=locked.refund_id)
            who = f" by {done.by}" if done.by else ""
            raise services.AlreadyDone(
                f"Already done: return {locked.number} was refunded ({done.amount}) at "
                f"{timezone.localtime(done.at):%H:%M:%S}{who}. Nothing was refunded twice."
            )
        if locked.state != ReturnRequest.State.RECEIVED:
            raise ReturnError(f"Return {locked.number} has not been received yet; mark it received first.")
        returned = [
            (line.order_line, line.quantity) for line in locked.lines.select_related("order_line").order_by("pk")
        ]
        services.order_refund(
            order,
            amount=locked.amount,
            lines=returned,
            by=by,
            token=token,
            note=f"Return {locked.number}",
            email=False,
        )
        locked.refund = PaymentAction.objects.get(token=token)
        locked.state, locked.refunded_at = ReturnRequest.State.REFUNDED, timezone.now()
        locked.save(update_fields=["refund", "state", "refunded_at"])
        locked.order = order
        _email(locked, ReturnRequest.State.REFUNDED)
    ret.refresh_from_db()
    return ret

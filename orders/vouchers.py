"""Discount vouchers: the rules a code must pass, and how its discount is spread.

A voucher takes a percentage or a fixed amount off the goods it applies to. It applies
to a release when, for each kind of restriction staff chose (composers, labels, genres,
formats), the release matches any one of the chosen values; with no restriction it
applies to everything. The minimum order is the goods subtotal of the whole cart.

The discount is worked out per line: a percentage of each eligible line, rounded to the
cent; a fixed amount spread over the eligible lines in proportion to their totals (the
cents left over by rounding go to the lines with the largest remainders), and never more
than those lines come to. Each line keeps its share (OrderLine.discount) and its VAT is
on what is left, so a refund of a line gives back what was paid for it, not its price.

Free shipping thresholds look at the goods subtotal after the discount: a voucher that
takes the cart below the threshold brings shipping back, as the buyer pays less.

Uses are counted by redemptions not released (an order that expired unpaid, failed or
was cancelled gives its use back), in total and per customer, a customer being the
normalised email address, so guests count too. At checkout the voucher row is locked
while it is checked and the redemption written, so limits hold under concurrency."""

import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from arkiv.addresses import normalise_email
from catalog.models import Recording
from catalog.templatetags.catalog_tags import money

from .models import Voucher, VoucherRedemption

CENT = Decimal("0.01")
SESSION_KEY = "voucher"
# Crockford's base32 without look-alikes, as order numbers.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class VoucherRefused(ValueError):
    """The code cannot be used for this cart; the message says why, for the buyer."""


@dataclass
class Discount:
    """A voucher applied to a cart: the discount of each line (by its key) and in all."""

    voucher: Voucher
    lines: dict = field(default_factory=dict)

    @property
    def total(self):
        return sum(self.lines.values(), Decimal("0.00"))


def normalise_code(code):
    """A code as it is stored: capitals, no spaces around or inside."""
    return "".join((code or "").split()).upper()


def generate_code(length=10):
    """A new code no voucher has yet."""
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
        if not Voucher.objects.filter(code=code).exists():
            return code


def uses_of(voucher):
    """Orders the voucher is used on that count against its limits."""
    return VoucherRedemption.objects.filter(voucher=voucher, released_at__isnull=True)


def eligible_keys(voucher, items):
    """The keys of `items` ((key, release, total) triples) whose release the voucher
    applies to. One query per kind of restriction that needs the recordings."""
    composers = {pk for pk in voucher.composers.values_list("pk", flat=True)}
    labels = {pk for pk in voucher.labels.values_list("pk", flat=True)}
    genres, formats = set(voucher.genres or []), set(voucher.formats or [])
    release_ids = {release.pk for _key, release, _total in items}
    composers_of, genres_of = {}, {}
    if composers or genres:
        rows = Recording.objects.filter(release_id__in=release_ids).values_list(
            "release_id", "work__composer_id", "work__genre"
        )
        for release_id, composer_id, genre in rows:
            composers_of.setdefault(release_id, set()).add(composer_id)
            genres_of.setdefault(release_id, set()).add(genre)
    keys = set()
    for key, release, _total in items:
        if composers and not composers & composers_of.get(release.pk, set()):
            continue
        if genres and not genres & genres_of.get(release.pk, set()):
            continue
        if labels and release.label_id not in labels:
            continue
        if formats and release.format not in formats:
            continue
        keys.add(key)
    return keys


def allocate(voucher, eligible):
    """{key: discount} for the eligible line totals {key: total} (see the module's rules)."""
    eligible = {key: total for key, total in eligible.items() if total > 0}
    whole = sum(eligible.values(), Decimal("0.00"))
    if not eligible:
        return {}
    if voucher.kind == Voucher.Kind.PERCENTAGE:
        return {
            key: (total * voucher.value / 100).quantize(CENT, rounding=ROUND_HALF_UP) for key, total in eligible.items()
        }
    amount = min(voucher.value, whole)
    cents = int(amount / CENT)
    shares = {key: cents * total / whole for key, total in eligible.items()}
    floors = {key: int(share) for key, share in shares.items()}
    left = cents - sum(floors.values())
    # Largest remainder first; ties in the order the lines came, so the result is stable.
    order = sorted(eligible, key=lambda key: shares[key] - floors[key], reverse=True)
    for key in order[:left]:
        floors[key] += 1
    return {key: Decimal(n) * CENT for key, n in floors.items()}


def check(voucher, *, items, email="", now=None):
    """The discount the voucher gives on `items` ((key, release, total) triples) for the
    buyer with `email` (per-customer limit checked only when known), or VoucherRefused
    saying why not."""
    now = now or timezone.now()
    code = voucher.code
    if not voucher.active:
        raise VoucherRefused(_("The voucher %(code)s is no longer valid.") % {"code": code})
    if voucher.valid_from and now < voucher.valid_from:
        raise VoucherRefused(
            _("The voucher %(code)s is valid from %(date)s.")
            % {"code": code, "date": date_format(timezone.localtime(voucher.valid_from), "DATETIME_FORMAT")}
        )
    if voucher.valid_until and now >= voucher.valid_until:
        raise VoucherRefused(
            _("The voucher %(code)s expired on %(date)s.")
            % {"code": code, "date": date_format(timezone.localtime(voucher.valid_until), "DATETIME_FORMAT")}
        )
    subtotal = sum((total for _key, _release, total in items), Decimal("0.00"))
    if subtotal < voucher.minimum_order:
        raise VoucherRefused(
            _("The voucher %(code)s is for orders of %(minimum)s or more: add %(missing)s to use it.")
            % {
                "code": code,
                "minimum": money(voucher.minimum_order),
                "missing": money(voucher.minimum_order - subtotal),
            }
        )
    keys = eligible_keys(voucher, items)
    if not keys:
        raise VoucherRefused(_("The voucher %(code)s does not apply to anything in your cart.") % {"code": code})
    uses = uses_of(voucher)
    if voucher.max_uses is not None and uses.count() >= voucher.max_uses:
        raise VoucherRefused(_("The voucher %(code)s has been used up.") % {"code": code})
    email = normalise_email(email) if email else ""
    limit = voucher.max_uses_per_customer
    if email and limit is not None and uses.filter(email=email).count() >= limit:
        raise VoucherRefused(_("You have already used the voucher %(code)s.") % {"code": code})
    return Discount(voucher=voucher, lines=allocate(voucher, {key: total for key, _r, total in items if key in keys}))


def find(code):
    """The voucher with this code, however it was typed, or VoucherRefused."""
    code = normalise_code(code)
    voucher = Voucher.objects.filter(code=code).first() if code else None
    if voucher is None:
        raise VoucherRefused(_("We do not know the voucher code %(code)s. Please check it.") % {"code": code or "–"})
    return voucher


def cart_items(lines):
    """Cart lines as the (key, release, total) triples the rules read; keys are offer ids."""
    return [(line.offer.pk, line.offer.release, line.total) for line in lines]


def for_cart(code, *, lines, email=""):
    """The discount of the code on the cart's lines (no lock: for showing the cart)."""
    return check(find(code), items=cart_items(lines), email=email)


def for_checkout(code, *, offers, quantities, email):
    """At order placement, inside its transaction: lock the voucher row, check it again
    with the buyer's email and the prices read under the stock locks, and return the
    Discount (keys are offer ids). Locks are taken after the stock rows, always."""
    voucher = find(code)
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    items = [(offer.pk, offer.release, offer.price * quantities[offer.pk]) for offer in offers]
    return check(voucher, items=items, email=email)


def redeem(discount, *, order):
    """Record the voucher's use by the order (the row the limits count)."""
    if discount is None or not discount.total:
        return None
    return VoucherRedemption.objects.create(
        voucher=discount.voucher, order=order, email=order.email, amount=discount.total
    )


def release(order):
    """Give back the use of an order that will not be paid (expired, failed, cancelled)."""
    VoucherRedemption.objects.filter(order=order, released_at__isnull=True).update(released_at=timezone.now())

"""The wish list: offers saved for later, from a release page or the cart.

A visitor's list is kept in the session (promise P7: no cookie of its own) as a list of
offer ids, newest first; a signed-in customer's list is WishlistItem rows, and at sign-in
the session's list joins the account's. An item is an offer (one edition of a release at
one price), because that is what goes back into the cart. Saving twice changes nothing."""

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.utils.translation import gettext as _

from catalog.models import Offer

from .models import WishlistItem

SESSION_KEY = "wishlist"
# Sessions are stored server-side but are not a database: a visitor's list stays small.
MAX_SESSION_ITEMS = 100


class WishlistError(ValueError):
    """A wish list change that cannot be made; the message is for the buyer."""


def _session_ids(session):
    return [int(i) for i in session.get(SESSION_KEY, []) if isinstance(i, int) or str(i).isdigit()]


def wishlist_add(*, request, offer):
    """Save an offer for later; already saved is fine and changes nothing."""
    if request.user.is_authenticated:
        WishlistItem.objects.get_or_create(user=request.user, offer=offer)
        return
    ids = _session_ids(request.session)
    if offer.pk in ids:
        return
    if len(ids) >= MAX_SESSION_ITEMS:
        raise WishlistError(
            _("Your wish list holds %(count)s items at most; sign in to keep more, or remove some.")
            % {"count": MAX_SESSION_ITEMS}
        )
    request.session[SESSION_KEY] = [offer.pk, *ids]


def wishlist_remove(*, request, offer_id):
    """Take an offer off the list; not on it is fine. Returns whether it was there."""
    if request.user.is_authenticated:
        return WishlistItem.objects.filter(user=request.user, offer_id=offer_id).delete()[0] > 0
    ids = _session_ids(request.session)
    if offer_id not in ids:
        return False
    request.session[SESSION_KEY] = [i for i in ids if i != offer_id]
    return True


def wishlist_offers(*, request):
    """The saved offers with their releases and labels, newest first, in one query for a
    visitor and two for a customer; offers that left the catalog drop out."""
    if request.user.is_authenticated:
        ids = list(WishlistItem.objects.filter(user=request.user).values_list("offer_id", flat=True))
    else:
        ids = _session_ids(request.session)
    if not ids:
        return []
    offers = Offer.objects.select_related("release", "release__label").in_bulk(ids)
    return [offers[i] for i in ids if i in offers]


@transaction.atomic
def wishlist_merge(*, session, user):
    """Move the session's list into the account's (at sign-in); items saved in both stay once."""
    ids = _session_ids(session)
    if not ids:
        return 0
    existing = set(Offer.objects.filter(pk__in=ids).values_list("pk", flat=True))
    # Oldest first, so the account lists them newest first as the session did.
    created = WishlistItem.objects.bulk_create(
        [WishlistItem(user=user, offer_id=i) for i in reversed(ids) if i in existing], ignore_conflicts=True
    )
    del session[SESSION_KEY]
    return len(created)


@receiver(user_logged_in, dispatch_uid="orders-wishlist-merge")
def _merge_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        wishlist_merge(session=request.session, user=user)

"""The wish list page, and saving for later from release pages and the cart."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Offer

from .cart import Cart, CartError
from .views import _back
from .wishlist import WishlistError, wishlist_add, wishlist_offers, wishlist_remove


class OfferForm(forms.Form):
    offer = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)


def _offer(request):
    form = OfferForm(request.POST)
    if not form.is_valid():
        return None
    return Offer.objects.select_related("release").filter(pk=form.cleaned_data["offer"]).first()


def _not_found(request):
    return render(request, "400.html", {"message": _("That item is not in our catalog.")}, status=400)


@require_GET
def wishlist_detail(request):
    """What the visitor saved for later, with today's price and availability."""
    return render(request, "orders/wishlist.html", {"offers": wishlist_offers(request=request)})


@require_POST
def wishlist_save(request):
    """Save an offer for later from its release page (saving it again changes nothing)."""
    offer = _offer(request)
    if offer is None:
        return _not_found(request)
    try:
        wishlist_add(request=request, offer=offer)
    except WishlistError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved %(title)s to your wish list.") % {"title": offer.release.title})
    return redirect(_back(request, offer.release.get_absolute_url()))


@require_POST
def wishlist_save_from_cart(request):
    """Move a cart line to the wish list."""
    offer = _offer(request)
    if offer is None:
        return _not_found(request)
    try:
        wishlist_add(request=request, offer=offer)
    except WishlistError as exc:
        messages.error(request, str(exc))
    else:
        Cart(request.session).remove(offer.pk)
        messages.success(request, _("Moved %(title)s to your wish list.") % {"title": offer.release.title})
    return redirect("orders:cart")


@require_POST
def wishlist_move_to_cart(request):
    """Put a saved offer in the cart (one copy) and take it off the list; if it cannot be
    sold now it stays on the list and the visitor is told why."""
    offer = _offer(request)
    if offer is None:
        return _not_found(request)
    cart = Cart(request.session)
    try:
        if not cart.quantity_of(offer.pk):
            cart.add(offer, 1)
    except CartError as exc:
        messages.error(
            request,
            _("%(title)s: %(problem)s It stays on your wish list.") % {"title": offer.release.title, "problem": exc},
        )
        return redirect("orders:wishlist")
    wishlist_remove(request=request, offer_id=offer.pk)
    messages.success(request, _("Moved %(title)s to your cart.") % {"title": offer.release.title})
    return redirect("orders:wishlist")


@require_POST
def wishlist_delete(request):
    """Take an offer off the wish list."""
    form = OfferForm(request.POST)
    if form.is_valid() and wishlist_remove(request=request, offer_id=form.cleaned_data["offer"]):
        messages.success(request, _("Removed from your wish list."))
    return redirect("orders:wishlist")

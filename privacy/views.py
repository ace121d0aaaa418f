"""The shop's policy pages. Versioned policy documents come with the privacy work;
until then these pages state the promises as plain text."""

from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def policy(request):
    """The privacy policy."""
    return render(request, "privacy/policy.html")


@require_GET
def terms(request):
    """Terms of sale."""
    return render(request, "privacy/terms.html")


@require_GET
def contact(request):
    """How to reach the shop."""
    return render(request, "privacy/contact.html")

"""Structural promises: one module talks to the payment processor; no card field exists."""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_gateway_imports_stripe():
    importers = {
        str(path.relative_to(ROOT))
        for app in ("arkiv", "catalog", "orders", "accounts", "privacy")
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"^\s*(import stripe|from stripe)", path.read_text(), re.M)
    }
    assert importers == {"orders/gateway.py"}


def test_no_model_has_a_card_field():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            # A gift card (our own voucher, paid for and spent here) is not card data.
            assert not re.search(r"(?<!gift_)card|cvc|cvv|pan\b|expiry", field.name), f"{model.__name__}.{field.name}"

"""The audit trail of staff changes: who changed which catalog row, price, order or
consent record, when, and from what to what, kept by django-auditlog and shown on each
object's History page in the admin.

What is recorded, and why:

- Changes made by a signed-in staff member in the admin, and only those. The shop's
  own writes (orders placed, stock reserved at checkout, payments synced from the
  processor, orders expired by the scheduler) write no audit rows: they are not staff
  changes, each order already keeps every status move in its status history, and a
  busy checkout should not pay for a second log. Stock moves at checkout are
  queryset updates, which no model signal sees anyway.
- Catalog rows (every field but the derived search text), offers with their prices and
  stock, the staff-editable part of an order (status, carrier, tracking, money moved),
  discount vouchers, whether a gift card is disabled, and the state of consents and
  policy documents. Personal data stays out of the
  trail: no addresses, names or phone numbers from orders, and consent rows are named
  by number and purpose, not by address, so erasure has nothing to chase here. The
  consent log itself (ConsentEvent) is append-only and already says who recorded what
  and when; staff-recorded entries are logged as created, which only ever inserts into
  the audit table and never touches the log's rows or their triggers.
"""

from contextvars import ContextVar

from auditlog.context import disable_auditlog, set_actor
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.apps import apps
from django.db.models.signals import pre_save
from django.urls import reverse

# The staff member on whose behalf the current request changes things (None: nobody,
# so nothing is recorded).
_staff_actor = ContextVar("arkiv_audit_staff_actor", default=None)

CATALOG_MODELS = [
    "catalog.Composer",
    "catalog.ComposerAlias",
    "catalog.Work",
    "catalog.CatalogueNumber",
    "catalog.Movement",
    "catalog.Artist",
    "catalog.Label",
    "catalog.Release",
    "catalog.Recording",
    "catalog.Credit",
    "catalog.Track",
    "catalog.Offer",
    "catalog.EditorialPick",
    "catalog.Award",
]
ORDER_FIELDS = [
    "status",
    "carrier",
    "tracking_number",
    "shipped_at",
    "amount_authorised",
    "amount_captured",
    "amount_refunded",
]
# Rows whose text form carries an address: the trail names them by number instead.
NAMED_BY_NUMBER = {"privacy.Consent", "privacy.ConsentEvent"}


def register_models():
    """Tell django-auditlog what to track (called once, from the project's AppConfig)."""
    for label in CATALOG_MODELS:
        auditlog.register(apps.get_model(label), exclude_fields=["search_text"])
    auditlog.register(apps.get_model("orders.Order"), include_fields=ORDER_FIELDS)
    auditlog.register(apps.get_model("orders.Voucher"), m2m_fields={"composers", "labels"})
    # A gift card's code is never kept in clear, and its balance moves in its own ledger:
    # what staff change on it is whether it may be spent.
    auditlog.register(apps.get_model("orders.GiftCard"), include_fields=["disabled"])
    auditlog.register(apps.get_model("privacy.PolicyDocument"))
    auditlog.register(apps.get_model("privacy.PolicyTranslation"))
    auditlog.register(apps.get_model("privacy.Consent"), include_fields=["purpose", "granted", "pending_confirmation"])
    auditlog.register(
        apps.get_model("privacy.ConsentEvent"), include_fields=["purpose", "action", "source", "policy_version"]
    )
    pre_log.connect(_only_staff_changes, dispatch_uid="arkiv_audit_only_staff")
    pre_save.connect(_name_without_address, sender=apps.get_model("auditlog.LogEntry"), dispatch_uid="arkiv_audit_repr")


def _only_staff_changes(sender, **kwargs):
    return _staff_actor.get() is not None


def _name_without_address(sender, instance, **kwargs):
    model = instance.content_type.model_class()
    if model is not None and model._meta.label in NAMED_BY_NUMBER:
        instance.object_repr = f"{model._meta.verbose_name} #{instance.object_pk}"


class StaffChangesMiddleware:
    """Record changes made by staff in the admin against their name; every other request
    (shoppers, the processor's webhooks) records nothing and pays nothing for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: asking for the user reads the session, and a shop page that
        # read it would vary by cookie and stop being shared by the page cache.
        user = getattr(request, "user", None) if request.path.startswith(_admin_prefix()) else None
        if user is None or not user.is_staff:
            with disable_auditlog():
                return self.get_response(request)
        token = _staff_actor.set(user)
        try:
            with set_actor(user):
                return self.get_response(request)
        finally:
            _staff_actor.reset(token)


def _admin_prefix():
    return reverse("admin:index")

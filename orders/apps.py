from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from accounts.signals import email_verified

        from .services import orders_claim_for

        email_verified.connect(orders_claim_for, dispatch_uid="orders-claim-guest-orders")

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from privacy import providers

        from . import privacy_data, wishlist  # noqa: F401 - wishlist joins the account's at sign-in

        providers.register(
            postal_addresses=privacy_data.postal_addresses,
            known_emails=privacy_data.known_emails,
            personal_data=privacy_data.personal_data,
            erase=privacy_data.erase,
            purge=privacy_data.purge,
            blocking_erasure=privacy_data.blocking_erasure,
        )

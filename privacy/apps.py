from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from anymail.signals import inbound

        from .servicemail import receive_inbound

        inbound.connect(receive_inbound, dispatch_uid="privacy-service-mail-inbound")

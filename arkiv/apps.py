from django.apps import AppConfig


class ArkivConfig(AppConfig):
    name = "arkiv"

    def ready(self):
        from . import audit

        audit.register_models()

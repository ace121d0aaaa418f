from django.apps import AppConfig


class ArkivConfig(AppConfig):
    name = "arkiv"

    def ready(self):
        from catalog import imports
        from privacy import providers

        from . import audit

        audit.register_models()
        # Import history is kept IMPORT_HISTORY_DAYS; the nightly purge_expired_records
        # deletes it then. Registered here, above the apps: catalog never imports privacy.
        providers.register(purge=imports.import_history_purge)

from django.apps import AppConfig
from django.core.signals import request_started


class ArkivConfig(AppConfig):
    name = "arkiv"

    def ready(self):
        from catalog import imports
        from privacy import providers

        from . import audit, dbconn

        audit.register_models()
        # A kept-open connection the database dropped is closed before a request uses
        # it, instead of asking the database SELECT 1 every request (arkiv/dbconn.py).
        request_started.connect(dbconn.close_dropped_connections, dispatch_uid="arkiv.close_dropped_connections")
        # Import history is kept IMPORT_HISTORY_DAYS; the nightly purge_expired_records
        # deletes it then. Registered here, above the apps: catalog never imports privacy.
        providers.register(purge=imports.import_history_purge)

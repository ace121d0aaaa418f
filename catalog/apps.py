from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from privacy import providers

        from . import caching, imports, models

        # Import history is kept IMPORT_HISTORY_DAYS; the nightly purge_expired_records deletes it then.
        providers.register(purge=imports.import_history_purge)

        caching.connect_invalidation(
            [
                models.Composer,
                models.ComposerAlias,
                models.Work,
                models.CatalogueNumber,
                models.Movement,
                models.Artist,
                models.Label,
                models.Release,
                models.Recording,
                models.Credit,
                models.Track,
                models.Offer,
                models.EditorialPick,
                models.Award,
            ]
        )

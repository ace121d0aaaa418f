from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from . import caching, models

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

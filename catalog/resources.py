"""The catalog as a supplier file (django-import-export): one row per track, in the
columns catalog.imports reads, so an exported file imports back unchanged."""

from django.db.models import Prefetch
from import_export import fields, resources

from .models import Credit, Format, Offer, Track

EXPORT_COLUMNS = [
    ("label", "release__label__name"),
    ("catalog_number", "release__catalog_number"),
    ("barcode", "release__barcode"),
    ("release_title", "release__title"),
    ("release_date", None),
    ("format", None),
    ("discs", "release__discs"),
    ("composer", "recording__work__composer__full_name"),
    ("work", "recording__work__title"),
    ("recording_year", "recording__year"),
    ("performers", None),
    ("disc", "disc"),
    ("track", "number"),
    ("track_title", "title"),
    ("duration", None),
    ("sku", None),
    ("price", None),
    ("stock", None),
    ("made_to_order", None),
    ("lead_time_days", None),
    ("active", None),
]


class CatalogRowResource(resources.Resource):
    """Tracks of releases with their release, work, performers and (on a release's
    first rows, one each) its offers."""

    for _name, _attribute in EXPORT_COLUMNS:
        locals()[_name] = fields.Field(attribute=_attribute, column_name=_name)
    del _name, _attribute

    class Meta:
        fields = [name for name, _ in EXPORT_COLUMNS]

    @staticmethod
    def rows_of(releases):
        """The tracks to export, with what each row shows in a fixed number of queries."""
        return (
            Track.objects.filter(release__in=releases)
            .select_related("release__label", "recording__work__composer")
            .prefetch_related(
                Prefetch("recording__credits", queryset=Credit.objects.select_related("artist")),
                Prefetch("release__offers", queryset=Offer.objects.order_by("pk")),
            )
            .order_by("release__label__name", "release__catalog_number", "disc", "number")
        )

    def _offer(self, track):
        # The release's offers go on its first rows, one per row.
        release = track.release
        ordinals = self._ordinals.setdefault(release.pk, {})
        ordinals.setdefault(track.pk, len(ordinals))
        offers = list(release.offers.all())
        index = ordinals[track.pk]
        return offers[index] if index < len(offers) else None

    def before_export(self, queryset, **kwargs):
        self._ordinals = {}

    def dehydrate_release_date(self, track):
        return track.release.release_date.isoformat()

    def dehydrate_format(self, track):
        return Format(track.release.format).label

    def dehydrate_performers(self, track):
        parts = []
        for credit in track.recording.credits.all():
            suffix = f" ({credit.instrument})" if credit.instrument else ""
            parts.append(f"{credit.role}: {credit.artist.name}{suffix}")
        return "; ".join(parts)

    def dehydrate_duration(self, track):
        return track.duration

    def dehydrate_sku(self, track):
        offer = self._offer(track)
        return offer.sku if offer else ""

    def dehydrate_price(self, track):
        offer = self._offer(track)
        return str(offer.price) if offer else ""

    def dehydrate_stock(self, track):
        offer = self._offer(track)
        return offer.stock if offer else ""

    def dehydrate_made_to_order(self, track):
        offer = self._offer(track)
        return ("yes" if offer.made_to_order else "no") if offer else ""

    def dehydrate_lead_time_days(self, track):
        offer = self._offer(track)
        return offer.lead_time_days if offer else ""

    def dehydrate_active(self, track):
        offer = self._offer(track)
        return ("yes" if offer.is_active else "no") if offer else ""


def export_releases(releases, file_format):
    """The releases as a supplier file: ("csv" or "xlsx") -> bytes."""
    dataset = CatalogRowResource().export(CatalogRowResource.rows_of(releases))
    data = dataset.export(file_format)
    return data.encode("utf-8") if isinstance(data, str) else data

"""Test data factories. Real composers and works are already in every test database;
these make the generated side of the catalog (and fresh composers where a test needs
full control)."""

import datetime
from decimal import Decimal

import factory

from catalog.models import (
    Artist,
    Award,
    Composer,
    Credit,
    EditorialPick,
    Format,
    Genre,
    Label,
    Offer,
    Period,
    Recording,
    Release,
    Role,
    Track,
    Work,
)


class ComposerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Composer

    name = factory.Sequence(lambda n: f"Testcomposer{n}")
    full_name = factory.LazyAttribute(lambda o: f"Anna {o.name}")
    sort_name = factory.LazyAttribute(lambda o: f"{o.name}, Anna")
    slug = factory.Sequence(lambda n: f"testcomposer-{n}")
    birth_year = 1800
    death_year = 1870
    period = Period.ROMANTIC
    search_text = factory.LazyAttribute(lambda o: f" {o.name.lower()} anna {o.name.lower()} ")


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Work

    composer = factory.SubFactory(ComposerFactory)
    title = factory.Sequence(lambda n: f"Test Sonata no. {n}")
    slug = factory.Sequence(lambda n: f"test-sonata-{n}")
    genre = Genre.CHAMBER
    search_text = factory.LazyAttribute(lambda o: f" {o.title.lower()} ")


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    name = factory.Sequence(lambda n: f"Test Label {n}")
    slug = factory.Sequence(lambda n: f"test-label-{n}")


class ArtistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artist

    name = factory.Sequence(lambda n: f"Performer {n}")
    sort_name = factory.LazyAttribute(lambda o: o.name)
    slug = factory.Sequence(lambda n: f"performer-{n}")
    kind = Artist.Kind.PERSON
    search_text = factory.LazyAttribute(lambda o: f" {o.name.lower()} ")


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    title = factory.Sequence(lambda n: f"Test Release {n}")
    slug = factory.Sequence(lambda n: f"test-release-{n}")
    label = factory.SubFactory(LabelFactory)
    catalog_number = factory.Sequence(lambda n: f"TST{n:05d}")
    release_date = factory.Sequence(lambda n: datetime.date(2000, 1, 1) + datetime.timedelta(days=n))
    format = Format.CD
    min_price = Decimal("12.99")
    search_text = factory.LazyAttribute(lambda o: f" {o.title.lower()} {o.catalog_number.lower()} ")


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    release = factory.SubFactory(ReleaseFactory)
    work = factory.SubFactory(WorkFactory)
    year = 1999
    release_date = factory.LazyAttribute(lambda o: o.release.release_date)


class CreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Credit
        skip_postgeneration_save = True

    recording = factory.SubFactory(RecordingFactory)
    artist = factory.SubFactory(ArtistFactory)
    role = Role.CONDUCTOR
    release_date = factory.LazyAttribute(lambda o: o.recording.release_date)

    @factory.post_generation
    def counted(credit, create, extracted, **kwargs):
        """Credited as the shop's own writes credit: the performer's page counts it."""
        if create:
            from catalog.services import artists_recount

            artists_recount(artist_ids=[credit.artist_id])


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    recording = factory.SubFactory(RecordingFactory)
    release = factory.LazyAttribute(lambda o: o.recording.release)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Movement {n}")
    duration_seconds = 300


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    release = factory.SubFactory(ReleaseFactory)
    sku = factory.Sequence(lambda n: f"SKU{n:06d}")
    price = Decimal("12.99")
    stock = 10


def make_recordings(work, count, *, label=None):
    """count recordings of work, each on its own release with a conductor, an
    orchestra, two tracks and an offer: the shape of a real catalog row."""
    label = label or LabelFactory()
    recordings = []
    for _ in range(count):
        recording = RecordingFactory(work=work, release=ReleaseFactory(label=label))
        CreditFactory(recording=recording, role=Role.CONDUCTOR)
        CreditFactory(recording=recording, role=Role.ORCHESTRA, artist=ArtistFactory(kind=Artist.Kind.GROUP))
        TrackFactory(recording=recording, number=1)
        TrackFactory(recording=recording, number=2)
        OfferFactory(release=recording.release)
        recordings.append(recording)
    return recordings


def checkout_details(**overrides):
    from orders.services import CheckoutDetails

    address = {
        "name": "Clara Schumann",
        "line1": "1 Wieck Street",
        "line2": "",
        "city": "Leipzig",
        "postcode": "04109",
        "country": "DE",
    }
    values = {
        "email": "clara@example.com",
        "phone": "+49 341 000000",
        "billing": address,
        "shipping": address,
        "shipping_method": "standard",
    }
    return CheckoutDetails(**{**values, **overrides})


# Editorial picks and critics' awards.


def _yesterday():
    from django.utils import timezone

    return timezone.localdate() - datetime.timedelta(days=1)


class EditorialPickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EditorialPick

    release = factory.SubFactory(ReleaseFactory)
    kind = EditorialPick.Kind.EDITORS_CHOICE
    starts_on = factory.LazyFunction(_yesterday)


class AwardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Award

    release = factory.SubFactory(ReleaseFactory)
    name = "Gramophone Award"
    year = 2019


# Discount vouchers.


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Voucher"

    code = factory.Sequence(lambda n: f"SAVE{n:04d}")
    kind = "percentage"
    value = Decimal("10.00")
    max_uses_per_customer = None

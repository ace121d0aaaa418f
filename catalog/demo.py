"""The generated half of the demo catalog: labels, performers, releases, tracks and
offers around the real composers and works. Everything made here is marked is_demo.

Release number i is generated from its own seed, so a run can stop and resume, and
loading twice creates nothing twice."""

import bisect
import datetime
import itertools
import random
from decimal import Decimal

from django.db import reset_queries, transaction
from django.db.models import Count, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify

from .models import Artist, Credit, Format, Genre, Label, Movement, Offer, Recording, Release, Role, Track, Work
from .services import artists_recount
from .text import fold, release_search_text

LABELS = [
    ("Arkiv Demo Classics", "ADC"),
    ("Nordlys Records", "NLR"),
    ("Aurora Classics", "AUR"),
    ("Meridian Sound", "MER"),
    ("Collegium Editions", "COL"),
    ("Harmonia Borealis", "HBO"),
    ("Tessitura", "TES"),
    ("Vox Antiqua", "VOX"),
    ("Silver Quill", "SQR"),
    ("Cantus Firmus Records", "CFR"),
    ("Orpheum Archive", "ORA"),
    ("Lindenbaum", "LIN"),
]
FIRST = [
    "Anna",
    "Lars",
    "Ingrid",
    "Tomas",
    "Elena",
    "Mikael",
    "Sofia",
    "Jonas",
    "Marta",
    "Pavel",
    "Clara",
    "Henrik",
    "Yuki",
    "Dmitri",
    "Amelie",
    "Rafael",
    "Ilse",
    "Viktor",
    "Nadia",
    "Oskar",
    "Lucia",
    "Emil",
    "Greta",
    "Ivo",
    "Hanna",
    "Matteo",
    "Signe",
    "Aleksander",
    "Irene",
    "Bruno",
]
LAST = [
    "Lindqvist",
    "Moreau",
    "Kovač",
    "Halvorsen",
    "Brandt",
    "Okafor",
    "Nakamura",
    "Sørensen",
    "Petrov",
    "Ricci",
    "Dvorská",
    "Almeida",
    "Varga",
    "Hoffmann",
    "Castellano",
    "Novak",
    "Bergström",
    "Lefèvre",
    "Janssen",
    "Szabó",
    "Müller",
    "Whitfield",
    "Ferreira",
    "Kowalczyk",
    "Aaltonen",
    "Delacroix",
    "Engel",
    "Rossini-Bell",
    "Takeda",
    "Holm",
]
INSTRUMENTS = ["piano", "violin", "cello", "soprano", "mezzo-soprano", "tenor", "baritone", "harpsichord", "flute"]
ORCHESTRA_PLACES = [
    "Aurora",
    "Northern Lights",
    "Baltic",
    "Danube",
    "Alpine",
    "Atlantic",
    "Hanseatic",
    "Riverside",
    "Highland",
    "Meridian",
    "Lakeside",
    "Old Town",
    "Harbour",
    "Capital",
    "Coastal",
]
ORCHESTRA_KINDS = ["Symphony Orchestra", "Philharmonic", "Chamber Orchestra", "Festival Orchestra"]
ENSEMBLES = [
    "Quartetto Aurora",
    "Lindenbaum Quartet",
    "Ensemble Tessitura",
    "Collegium Borealis",
    "Trio Meridian",
    "Il Giardino Nuovo",
    "Ensemble Vox Antiqua",
    "Kestrel Quartet",
    "Consort of the North",
    "Trio Lumen",
]
CHOIRS = [
    "Aurora Chamber Choir",
    "Cantus Borealis",
    "Riverside Cathedral Choir",
    "Hanseatic Voices",
    "Capella Nova",
    "Old Town Singers",
]
# Instruments a title can name for its soloist ("Violin Concerto", "Cello Sonata").
SOLO_INSTRUMENTS = ("piano", "violin", "cello", "flute", "harpsichord")


def _ean13(seed):
    """A valid EAN-13 in the 200-299 range, which stores use internally: never a real product."""
    digits = f"2{seed % 10**11:011d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def ensure_labels_and_artists():
    """Create the demo labels and performers once; return them keyed for the generator."""
    labels = [Label(name=name, slug=slugify(name), is_demo=True) for name, _ in LABELS]
    Label.objects.bulk_create(labels, ignore_conflicts=True)

    artists = []
    rng = random.Random(7)
    people = list(itertools.product(FIRST, LAST))
    rng.shuffle(people)
    for index, (first, last) in enumerate(people[:240]):
        instrument = INSTRUMENTS[index % len(INSTRUMENTS)] if index >= 60 else ""
        artists.append(
            Artist(
                name=f"{first} {last}",
                sort_name=f"{last}, {first}",
                slug=slugify(fold(f"{first} {last}")),
                kind=Artist.Kind.PERSON,
                instrument=instrument,
                is_demo=True,
                search_text=f" {fold(first)} {fold(last)} ",
            )
        )
    groups = [f"{place} {kind}" for place in ORCHESTRA_PLACES for kind in ORCHESTRA_KINDS][:40] + ENSEMBLES + CHOIRS
    for name in groups:
        artists.append(
            Artist(
                name=name,
                sort_name=name,
                slug=slugify(name),
                kind=Artist.Kind.GROUP,
                is_demo=True,
                search_text=f" {fold(name)} ",
            )
        )
    Artist.objects.bulk_create(artists, ignore_conflicts=True)

    demo = {a.slug: a for a in Artist.objects.filter(is_demo=True)}
    people = [demo[a.slug] for a in artists if a.kind == Artist.Kind.PERSON and a.slug in demo]
    return {
        "labels": list(Label.objects.filter(is_demo=True).order_by("slug")),
        "conductors": [a for a in people if not a.instrument][:60],
        "soloists": {instrument: [a for a in people if a.instrument == instrument] for instrument in INSTRUMENTS},
        "orchestras": [demo[slugify(n)] for n in groups[:40]],
        "ensembles": [demo[slugify(n)] for n in ENSEMBLES],
        "choirs": [demo[slugify(n)] for n in CHOIRS],
    }


def _weighted_works(works):
    weights = [1 + 6 * w.popular + 3 * w.recommended for w in works]
    return list(itertools.accumulate(weights))


def _performers(rng, work, pool):
    """(artist, role, instrument) credits that make sense for the work's genre."""
    title = work.title.lower()
    soloist_instrument = next((i for i in SOLO_INSTRUMENTS if i in title), None)
    credits = []
    if work.genre in (Genre.ORCHESTRAL, Genre.CONCERTO):
        if soloist_instrument:
            credits.append((rng.choice(pool["soloists"][soloist_instrument]), Role.SOLOIST, soloist_instrument))
        credits += [
            (rng.choice(pool["orchestras"]), Role.ORCHESTRA, ""),
            (rng.choice(pool["conductors"]), Role.CONDUCTOR, ""),
        ]
    elif work.genre == Genre.KEYBOARD:
        instrument = "harpsichord" if work.composer.period in ("baroque", "renaissance") else "piano"
        credits.append((rng.choice(pool["soloists"][instrument]), Role.SOLOIST, instrument))
    elif work.genre == Genre.CHAMBER:
        if soloist_instrument and rng.random() < 0.5:
            credits.append((rng.choice(pool["soloists"][soloist_instrument]), Role.SOLOIST, soloist_instrument))
            credits.append((rng.choice(pool["soloists"]["piano"]), Role.SOLOIST, "piano"))
        else:
            credits.append((rng.choice(pool["ensembles"]), Role.ENSEMBLE, ""))
    else:  # vocal and stage
        voice = rng.choice(["soprano", "mezzo-soprano", "tenor", "baritone"])
        credits += [
            (rng.choice(pool["soloists"][voice]), Role.SOLOIST, voice),
            (rng.choice(pool["choirs"]), Role.CHOIR, ""),
            (rng.choice(pool["orchestras"]), Role.ORCHESTRA, ""),
            (rng.choice(pool["conductors"]), Role.CONDUCTOR, ""),
        ]
    return credits


def _format(rng, year, genre):
    roll = rng.random()
    if genre == Genre.STAGE and roll < 0.25:
        return Format.BLURAY if year >= 2008 else Format.DVD
    if year < 1985 or roll < 0.06:
        return Format.LP
    if year >= 2002 and roll < 0.2:
        return Format.SACD
    return Format.CD


def _short_title(work):
    return work.title.split(",")[0] if len(work.title) > 60 else work.title


def build_release(index, *, works, cumulative, pool, today):
    """Generate release number index: its release, recordings with credits, tracks and offers."""
    rng = random.Random(index * 7919 + 17)
    at = bisect.bisect_left(cumulative, rng.random() * cumulative[-1])
    primary = works[at]
    chosen = [primary]
    if primary.genre != Genre.STAGE and rng.random() < 0.35:
        siblings = [
            w for w in works[max(0, at - 25) : at + 25] if w.composer_id == primary.composer_id and w.pk != primary.pk
        ]
        if siblings:
            chosen.append(rng.choice(siblings))
    year = rng.randint(1958, today.year)
    release_date = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))
    if release_date > today:
        release_date = today - datetime.timedelta(days=rng.randint(0, 300))
    fmt = _format(rng, release_date.year, primary.genre)
    label = pool["labels"][index % len(pool["labels"])]
    prefix = dict((slugify(n), p) for n, p in LABELS).get(label.slug, "DEM")
    catalog_number = f"{prefix}{10000 + index}"
    credits = _performers(rng, primary, pool)
    lead = next((a for a, role, _ in credits if role in (Role.SOLOIST, Role.CONDUCTOR, Role.ENSEMBLE)), credits[0][0])
    title = f"{primary.composer.name}: " + " · ".join(_short_title(w) for w in chosen)
    discs = 2 if primary.genre == Genre.STAGE else 1
    release = Release(
        title=title[:300],
        slug=f"{slugify(fold(title))[:150]}-{catalog_number.lower()}",
        label=label,
        catalog_number=catalog_number,
        barcode=_ean13(index * 104729 + 1),
        release_date=release_date,
        format=fmt,
        discs=discs,
        is_demo=True,
        notes=f"{lead.name} in {_short_title(primary)}. Demo data: this release was generated for the demo catalog.",
    )
    recordings = []
    for position, work in enumerate(chosen, start=1):
        performers = credits if position == 1 else _performers(rng, work, pool)
        recordings.append((work, position, max(1950, release_date.year - rng.randint(0, 2)), performers))
    base_price = {Format.CD: 14, Format.SACD: 21, Format.BLURAY: 29, Format.DVD: 24, Format.LP: 27}[fmt]
    price = Decimal(base_price + rng.randint(-3, 6) + 5 * (discs - 1)) + Decimal("0.99")
    offers = []
    if rng.random() < 0.07:
        offers.append(dict(made_to_order=True, stock=0, lead_time_days=rng.randint(3, 10), price=price))
    else:
        stock = 0 if rng.random() < 0.08 else rng.randint(1, 40)
        offers.append(dict(made_to_order=False, stock=stock, lead_time_days=0, price=price))
        if stock == 0 and fmt == Format.CD and rng.random() < 0.5:
            offers.append(dict(made_to_order=True, stock=0, lead_time_days=rng.randint(3, 10), price=price + 2))
    return release, recordings, offers, rng


def generate_releases(*, target, batch_size=2000, progress=None):
    """Make sure at least `target` demo releases exist, creating the missing ones in
    batches (memory stays flat however many are asked for). Returns how many were made."""
    pool = ensure_labels_and_artists()
    works = list(Work.objects.select_related("composer").order_by("composer__slug", "slug"))
    if not works:
        raise ValueError("Load composers and works before generating releases.")
    attach_movements(works)
    cumulative = _weighted_works(works)
    start = Release.objects.filter(is_demo=True).count()
    today = datetime.date.today()
    made = 0
    for batch_start in range(start, target, batch_size):
        batch = range(batch_start, min(target, batch_start + batch_size))
        with transaction.atomic():
            _create_batch(batch, works=works, cumulative=cumulative, pool=pool, today=today)
        # With DEBUG on, Django keeps the last 9,000 statements: bulk inserts are large.
        reset_queries()
        made += len(batch)
        if progress:
            progress(batch_start + len(batch))
    if made:
        refresh_derived_fields()
    return made


def _create_batch(indexes, *, works, cumulative, pool, today):
    built = [build_release(i, works=works, cumulative=cumulative, pool=pool, today=today) for i in indexes]
    for release, recordings, offers, _ in built:
        release.search_text = release_search_text(
            title=release.title,
            label=release.label.name,
            catalog_number=release.catalog_number,
            barcode=release.barcode,
            recordings=[(work, [a.name for a, _, _ in performers]) for work, _, _, performers in recordings],
        )
        release.min_price = min(o["price"] for o in offers)
    Release.objects.bulk_create([b[0] for b in built])

    recording_rows, credits, tracks, offer_rows = [], [], [], []
    for release, recordings, _, _ in built:
        for work, position, year, performers in recordings:
            recording = Recording(
                release=release, work=work, position=position, year=year, release_date=release.release_date
            )
            recording_rows.append(recording)
            credits += [
                Credit(
                    recording=recording,
                    artist=artist,
                    role=role,
                    instrument=instrument,
                    position=n,
                    release_date=release.release_date,
                )
                for n, (artist, role, instrument) in enumerate(performers, start=1)
            ]
    Recording.objects.bulk_create(recording_rows)

    rows = iter(recording_rows)
    for release, recordings, offers, rng in built:
        number = 0
        for work, _, _, _ in recordings:
            recording = next(rows)
            for movement in getattr(work, "_movement_titles", None) or [work.title]:
                number += 1
                title = movement if movement == work.title else f"{_short_title(work)}: {movement}"
                tracks.append(
                    Track(
                        release=release,
                        recording=recording,
                        disc=1,
                        number=number,
                        title=title[:300],
                        duration_seconds=rng.randint(180, 1500),
                    )
                )
        for offer in offers:
            suffix = "MTO" if offer["made_to_order"] else "STK"
            offer_rows.append(Offer(release=release, sku=f"{release.catalog_number}-{suffix}", **offer))
    Credit.objects.bulk_create(credits)
    Track.objects.bulk_create(tracks)
    Offer.objects.bulk_create(offer_rows)


def attach_movements(works):
    """Give works with known movements a _movement_titles list for the track generator."""
    titles = {}
    for movement in Movement.objects.order_by("work_id", "position"):
        titles.setdefault(movement.work_id, []).append(movement.title)
    for work in works:
        work._movement_titles = titles.get(work.pk)


def refresh_derived_fields():
    """Recompute the counts and prices that list pages read without joins."""
    counts = Recording.objects.filter(work=OuterRef("pk")).values("work").annotate(n=Count("pk")).values("n")
    Work.objects.update(recording_count=Coalesce(Subquery(counts), 0))
    artists_recount()
    prices = (
        Offer.objects.filter(release=OuterRef("pk"), is_active=True)
        .values("release")
        .annotate(p=Min("price"))
        .values("p")
    )
    Release.objects.update(min_price=Subquery(prices))

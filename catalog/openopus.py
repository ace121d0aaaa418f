"""Loading the real composers and works (Open Opus, CC0) that the catalog is built on."""

import gzip
import json
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from .models import CatalogueNumber, Composer, ComposerAlias, Genre, Movement, Period, Work, english
from .text import catalogue_token, fold, name_skeleton, parse_title, work_search_text

DATA_FILE = Path(__file__).resolve().parent / "data" / "openopus.json.gz"

EPOCHS = {
    "Medieval": Period.MEDIEVAL,
    "Renaissance": Period.RENAISSANCE,
    "Baroque": Period.BAROQUE,
    "Classical": Period.CLASSICAL,
    "Early Romantic": Period.EARLY_ROMANTIC,
    "Romantic": Period.ROMANTIC,
    "Late Romantic": Period.LATE_ROMANTIC,
    "20th Century": Period.TWENTIETH_CENTURY,
    "Post-War": Period.POST_WAR,
    "21st Century": Period.TWENTY_FIRST_CENTURY,
}
GENRES = {
    "Orchestral": Genre.ORCHESTRAL,
    "Chamber": Genre.CHAMBER,
    "Keyboard": Genre.KEYBOARD,
    "Vocal": Genre.VOCAL,
    "Stage": Genre.STAGE,
}
# Movements of some of the most recorded works, so their releases get real track lists.
MOVEMENTS = {
    ("Beethoven", "Symphony no. 5 in C minor, op. 67"): [
        "Allegro con brio",
        "Andante con moto",
        "Scherzo. Allegro",
        "Allegro",
    ],
    ("Beethoven", 'Symphony no. 9 in D minor, op. 125, "Choral"'): [
        "Allegro ma non troppo, un poco maestoso",
        "Molto vivace",
        "Adagio molto e cantabile",
        "Presto – Allegro assai (Ode to Joy)",
    ],
    ("Beethoven", 'Piano Sonata no. 14 in C sharp minor, op. 27 no. 2, "Moonlight"'): [
        "Adagio sostenuto",
        "Allegretto",
        "Presto agitato",
    ],
    ("Dvořák", 'Symphony no. 9 in E minor, op. 95, "From the New World"'): [
        "Adagio – Allegro molto",
        "Largo",
        "Scherzo. Molto vivace",
        "Allegro con fuoco",
    ],
    ("Mozart", "Symphony no. 40 in G minor, K.550"): [
        "Molto allegro",
        "Andante",
        "Menuetto. Allegretto",
        "Allegro assai",
    ],
    ("Bach", "Cello Suite no. 1 in G major, BWV.1007"): [
        "Prélude",
        "Allemande",
        "Courante",
        "Sarabande",
        "Menuet I & II",
        "Gigue",
    ],
    ("Tchaikovsky", 'Symphony no. 6 in B minor, op. 74, "Pathétique"'): [
        "Adagio – Allegro non troppo",
        "Allegro con grazia",
        "Allegro molto vivace",
        "Finale. Adagio lamentoso",
    ],
}


def read_data():
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as f:
        return json.load(f)


def _year(date):
    return int(date[:4]) if date else None


def _names(entry):
    """Display name, sort name and slug source from Open Opus' 'Bach, C.P.E.' style."""
    short, complete = entry["name"].strip(), entry["complete_name"].strip()
    surname, _, initials = short.partition(", ")
    display = f"{initials} {surname}" if initials else short
    given = complete[: -len(surname)].strip() if complete.endswith(surname) else complete
    sort_name = f"{surname}, {given}" if given and given != surname else surname
    return display, sort_name, slugify(fold(short))


# Famous works that Open Opus does not flag as popular or recommended.
ALSO_NOTABLE = {
    ("Bach", "Goldberg Variations, BWV.988"),
    ("Bach", "Mass in B minor, BWV.232"),
    ("Bach", "St Matthew Passion, BWV.244"),
    ("Beethoven", 'Symphony no. 3 in E flat major, op. 55, "Eroica"'),
    ("Beethoven", "Symphony no. 7 in A major, op. 92"),
    ("Mozart", 'Symphony no. 41 in C major, K.551, "Jupiter"'),
    ("Schubert", 'Symphony no. 8 in B minor, D.759, "Unfinished"'),
}


def _is_notable(composer_name, work):
    return bool(work["popular"] or work["recommended"]) or (composer_name, work["title"].strip()) in ALSO_NOTABLE


def _genre(work):
    genre = GENRES.get(work["genre"], Genre.ORCHESTRAL)
    if genre == Genre.ORCHESTRAL and "concerto" in work["title"].lower():
        return Genre.CONCERTO
    return genre


@transaction.atomic
def load_composers_and_works(*, all_works=False, min_works_per_composer=5):
    """Create or update every composer, their name variants and their works.

    By default a composer's notable works are loaded (popular or recommended in Open
    Opus), or their first few where none is marked; all_works loads all ~25,000.
    Re-running changes nothing that is already there."""
    data = read_data()
    variants = data["name_variants"]
    existing = {c.slug: c for c in Composer.objects.all()}
    composers = []
    for entry in data["composers"]:
        display, sort_name, slug = _names(entry)
        composer = existing.get(slug) or Composer(slug=slug)
        composer.name = display
        composer.full_name = entry["complete_name"]
        composer.sort_name = sort_name
        composer.birth_year = _year(entry["birth"])
        composer.death_year = _year(entry["death"])
        composer.period = EPOCHS.get(entry["epoch"], Period.TWENTIETH_CENTURY)
        composer.popular = bool(entry["popular"])
        composer.recommended = bool(entry["recommended"])
        names = {display, entry["complete_name"], sort_name, entry["name"], *variants.get(entry["complete_name"], [])}
        composer.search_text = " " + " ".join(sorted({fold(n) for n in names if fold(n)})) + " "
        composers.append((composer, entry, names))
    Composer.objects.bulk_create(
        [c for c, _, _ in composers if c.pk is None],
    )
    Composer.objects.bulk_update(
        [c for c, _, _ in composers],
        [
            "name",
            "full_name",
            "sort_name",
            "birth_year",
            "death_year",
            "period",
            "popular",
            "recommended",
            "search_text",
        ],
        batch_size=500,
    )

    aliases = []
    for composer, entry, names in composers:
        surname = entry["name"].split(",")[0].strip()
        folded = {fold(n) for n in names} | {fold(surname)}
        # A variant's last word alone ("Tschaikowski") is how most people type a name.
        folded |= {f.split()[-1] for f in list(folded) if f and len(f.split()[-1]) >= 4}
        aliases += [
            ComposerAlias(composer=composer, name=f, folded=f, skeleton=name_skeleton(f)) for f in sorted(folded) if f
        ]
    ComposerAlias.objects.bulk_create(aliases, ignore_conflicts=True, batch_size=1000)

    existing_works = set(Work.objects.values_list("composer_id", "slug"))
    new_works, catalogue, movements = [], [], []
    for composer, entry, _ in composers:
        chosen = [w for w in entry["works"] if all_works or _is_notable(entry["name"], w)]
        if len(chosen) < min_works_per_composer:
            chosen += [w for w in entry["works"] if w not in chosen][: min_works_per_composer - len(chosen)]
        used_slugs = set()
        for w in chosen:
            title = w["title"].strip()
            slug = base = slugify(fold(title))[:190] or "work"
            n = 2
            while slug in used_slugs:
                slug, n = f"{base}-{n}", n + 1
            used_slugs.add(slug)
            if (composer.pk, slug) in existing_works:
                continue
            parts = parse_title(title)
            genre = _genre(w)
            work = Work(
                composer=composer,
                title=title,
                slug=slug,
                subtitle=w["subtitle"].strip(),
                genre=genre,
                form=parts.form,
                number=parts.number,
                key=parts.key,
                nickname=parts.nickname,
                popular=bool(w["popular"]),
                recommended=bool(w["recommended"]),
                search_text=work_search_text(
                    composer_names=[composer.name, composer.full_name],
                    title=title,
                    subtitle=w["subtitle"] + " " + w.get("searchterms", ""),
                    parts=parts,
                    genre_label=english(Genre(genre).label),
                ),
            )
            new_works.append(work)
            catalogue += [(work, system, number) for system, number in parts.catalogue]
            for position, movement in enumerate(MOVEMENTS.get((entry["name"], title), []), start=1):
                movements.append((work, position, movement))
    Work.objects.bulk_create(new_works, batch_size=1000)
    CatalogueNumber.objects.bulk_create(
        [CatalogueNumber(work=w, system=s, number=n, token=catalogue_token(s, n)) for w, s, n in catalogue],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Movement.objects.bulk_create(
        [Movement(work=w, position=p, title=t) for w, p, t in movements], ignore_conflicts=True
    )
    return len(composers), len(new_works)

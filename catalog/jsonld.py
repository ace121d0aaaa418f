"""schema.org descriptions of catalog pages, for search engines."""


def _url(request, obj):
    return request.build_absolute_uri(obj.get_absolute_url())


def composer(request, composer):
    data = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": composer.full_name,
        "url": _url(request, composer),
        "jobTitle": "Composer",
    }
    if composer.birth_year:
        data["birthDate"] = str(composer.birth_year)
    if composer.death_year:
        data["deathDate"] = str(composer.death_year)
    return data


def work(request, work):
    data = {
        "@context": "https://schema.org",
        "@type": "MusicComposition",
        "name": work.shown_title,
        "url": _url(request, work),
        "composer": {"@type": "Person", "name": work.composer.full_name, "url": _url(request, work.composer)},
        "genre": str(work.get_genre_display()),
    }
    if work.key:
        data["musicalKey"] = work.key
    if work.nickname:
        data["alternateName"] = work.nickname
    return data


def release(request, release, recordings, offers):
    data = {
        "@context": "https://schema.org",
        "@type": "MusicAlbum",
        "name": release.title,
        "url": _url(request, release),
        "image": request.build_absolute_uri(release.get_cover_url()),
        "recordLabel": {"@type": "Organization", "name": release.label.name},
        "datePublished": release.release_date.isoformat(),
        "catalogNumber": release.catalog_number,
        "numTracks": sum(len(r.tracks.all()) for r in recordings),
        "byArtist": [
            {"@type": "MusicGroup" if c.artist.kind == "group" else "Person", "name": c.artist.name}
            for r in recordings[:1]
            for c in r.credits.all()
        ],
        "track": [
            {
                "@type": "MusicRecording",
                "name": t.title,
                "position": t.number,
                "recordingOf": {"@type": "MusicComposition", "name": r.work.shown_title},
            }
            for r in recordings
            for t in r.tracks.all()
        ],
        "offers": [
            {
                "@type": "Offer",
                "price": str(o.price),
                "priceCurrency": o.currency,
                "sku": o.sku,
                "availability": "https://schema.org/InStock"
                if o.available and not o.made_to_order
                else "https://schema.org/MadeToOrder"
                if o.made_to_order
                else "https://schema.org/OutOfStock",
            }
            for o in offers
        ],
    }
    if release.barcode:
        data["gtin13"] = release.barcode
    return data

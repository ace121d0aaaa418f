"""Catalog feeds from suppliers and labels: read a CSV or XLSX file a row at a time,
match its composers, works, performers and labels to the catalog's own (never creating
them), and create or change releases with their recordings, credits, tracks and offers.

Two kinds of file share one set of columns (catalog/import_examples/):

- a release feed, one row per track, the release's columns repeated on each of its
  rows (label, catalog_number, release_title, release_date, format, composer, work,
  track, track_title, ...); offer columns (sku, price, stock, ...) on any of its rows;
- a price and stock feed: sku and any of price, stock, made_to_order,
  lead_time_days, active.

A release is applied whole or not at all: a bad row rejects its release, with the
reason, and nothing of it is written. Applying the same file twice changes nothing the
second time. Every applied import keeps what each release and offer was before it, so
the last import can be undone (import_undo): undo puts back only the values that are
still what the import set, and lists what someone changed since.

A full feed (full_feed=True) lists every offer of its labels: offers of those labels
that the file leaves out are deactivated, as changes undo brings back. A file that
would deactivate more than IMPORT_FULL_FEED_MAX_SHARE of them is taken as cut short:
its rows are applied, nothing is deactivated, and the report says why (unless forced).
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, ProtectedError, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from . import services
from .feed_files import (  # noqa: F401 - FileRejected: callers catch it as imports.FileRejected
    BadValue,
    FileRejected,
    as_bool,
    as_date,
    as_format,
    as_int,
    as_performers,
    as_price,
    as_seconds,
    as_text,
    read_rows,
)
from .feed_matching import Matcher
from .models import (
    Credit,
    ImportChange,
    ImportRun,
    Offer,
    Recording,
    Release,
    Track,
    Work,
)
from .text import fold, release_search_text

# Releases read, matched and written together; memory stays flat however long the file.
BATCH_RELEASES = 500
BATCH_OFFERS = 2000
# The preview lists this many releases or offers per outcome (the counts are all of them).
PREVIEW_LIMIT = 200
UNMATCHED_LIMIT = 500

# -- what a file asks for ---------------------------------------------------------------


@dataclass
class OfferSpec:
    line: int
    sku: str
    values: dict  # only the columns the file gives


@dataclass
class ReleaseSpec:
    line: int  # first row
    key: tuple  # (folded label, catalogue number)
    label: str
    catalog_number: str
    fields: dict = field(default_factory=dict)
    recordings: list = field(default_factory=list)  # [dict(work, year, performers, tracks)]
    offers: dict = field(default_factory=dict)  # sku -> OfferSpec
    errors: list = field(default_factory=list)


@dataclass
class Outcome:
    line: int
    name: str
    action: str  # created, changed, unchanged, rejected
    reasons: list = field(default_factory=list)


@dataclass
class ImportReport:
    file_name: str
    kind: str = ""
    dry_run: bool = True
    rows: int = 0
    counts: Counter = field(default_factory=Counter)
    outcomes: dict = field(default_factory=dict)  # action -> [Outcome], the first PREVIEW_LIMIT
    unmatched: dict = field(default_factory=dict)  # what -> {name: first line}
    run: ImportRun = None
    full_feed: bool = False
    force: bool = False
    # For a full feed: every SKU the file names (rejected rows too) and its labels.
    seen_skus: set = field(default_factory=set)
    label_ids: set = field(default_factory=set)
    notes: list = field(default_factory=list)

    def add(self, outcome):
        self.counts[outcome.action] += 1
        shown = self.outcomes.setdefault(outcome.action, [])
        if len(shown) < PREVIEW_LIMIT:
            shown.append(outcome)

    def note_unmatched(self, what, name, line):
        names = self.unmatched.setdefault(what, {})
        if name not in names and len(names) < UNMATCHED_LIMIT:
            names[name] = line

    @property
    def applied_anything(self):
        return bool(self.counts["created"] or self.counts["changed"] or self.counts["deactivated"])

    def as_preview(self):
        """What the preview page shows, as JSON to keep with the run."""
        return {
            "kind": self.kind,
            "rows": self.rows,
            "counts": dict(self.counts),
            "outcomes": {
                action: [{"line": o.line, "name": o.name, "reasons": o.reasons} for o in shown]
                for action, shown in self.outcomes.items()
            },
            "unmatched": self.unmatched,
            "notes": self.notes,
            "applied_anything": self.applied_anything,
        }


def _offer_values(line, row, errors):
    values = {}
    try:
        if row.get("price"):
            values["price"] = as_price(row["price"])
        if row.get("stock"):
            values["stock"] = as_int("stock", row["stock"], high=2_000_000_000)
        if row.get("made_to_order"):
            values["made_to_order"] = as_bool("made_to_order", row["made_to_order"])
        if row.get("lead_time_days"):
            values["lead_time_days"] = as_int("lead_time_days", row["lead_time_days"])
        if row.get("active"):
            values["is_active"] = as_bool("active", row["active"])
        as_text("sku", row.get("sku", ""), 40, required=True)
    except BadValue as error:
        errors.append(f"line {line}: {error}")
    return values


def _release_spec(rows):
    """A release's rows -> ReleaseSpec, with every row's errors."""
    first_line, first = rows[0]
    spec = ReleaseSpec(
        line=first_line,
        key=_release_key(first),
        label=first.get("label", ""),
        catalog_number=first.get("catalog_number", "").strip(),
    )
    recordings = {}
    seen_tracks = set()
    for line, row in rows:
        try:
            fields = {
                "title": as_text("release_title", row.get("release_title", ""), 300, required=True),
                "barcode": as_text("barcode", row.get("barcode", ""), 14),
                "release_date": as_date(row.get("release_date", "")),
                "format": as_format(row.get("format", "")),
                "discs": as_int("discs", row["discs"], low=1, high=99) if row.get("discs") else 1,
            }
            as_text("catalog_number", spec.catalog_number, 40, required=True)
            if spec.fields and fields != spec.fields:
                changed = sorted(k for k in fields if fields[k] != spec.fields[k])
                raise BadValue("release columns differ from the release's first row: " + ", ".join(changed))
            spec.fields = spec.fields or fields
            disc = as_int("disc", row["disc"], low=1, high=99) if row.get("disc") else 1
            number = as_int("track", row.get("track", ""), low=1)
            if (disc, number) in seen_tracks:
                raise BadValue(f"track {number} of disc {disc} appears twice")
            seen_tracks.add((disc, number))
            track = (disc, number, as_text("track_title", row.get("track_title", ""), 300, required=True))
            track += (as_seconds(row.get("duration", "")),)
            composer, work = row.get("composer", ""), row.get("work", "")
            if not composer or not work:
                raise BadValue("composer and work are needed on every track")
            year = (
                as_int("recording_year", row["recording_year"], low=1890, high=2100)
                if row.get("recording_year")
                else None
            )
            performers = as_performers(row.get("performers", ""))
            key = (fold(composer), fold(work))
            recording = recordings.get(key)
            if recording is None:
                recording = recordings[key] = {
                    "composer": composer,
                    "work": work,
                    "year": year,
                    "performers": performers,
                    "tracks": [],
                    "line": line,
                }
            elif performers and performers != recording["performers"]:
                raise BadValue("performers differ between tracks of the same work")
            elif year and year != recording["year"]:
                raise BadValue("recording_year differs between tracks of the same work")
            recording["tracks"].append(track)
        except BadValue as error:
            spec.errors.append(f"line {line}: {error}")
        if row.get("sku"):
            errors = []
            values = _offer_values(line, row, errors)
            spec.errors += errors
            sku = row["sku"]
            if sku in spec.offers and spec.offers[sku].values != values and values:
                spec.errors.append(f"line {line}: offer {sku} differs from an earlier row")
            elif sku not in spec.offers or values:
                spec.offers[sku] = OfferSpec(line, sku, values)
    spec.recordings = list(recordings.values())
    return spec


def _release_key(row):
    return (fold(row.get("label", "")), row.get("catalog_number", "").strip().upper())


def _grouped(records):
    """Consecutive rows of one release, as lists; a release whose rows are not together
    comes back as a list of its stray rows, marked."""
    seen = set()
    group, key = [], None
    for line, row in records:
        row_key = _release_key(row)
        if group and row_key != key:
            yield key in seen, group
            seen.add(key)
            group = []
        key = row_key
        group.append((line, row))
    if group:
        yield key in seen, group


# -- current state ----------------------------------------------------------------------


def _release_snapshot(release):
    """Everything an import may change in a release, as JSON: to compare and to restore."""
    recordings = []
    for recording in release.recordings.all():
        recordings.append(
            {
                "id": recording.pk,
                "work_id": recording.work_id,
                "position": recording.position,
                "year": recording.year,
                "credits": [
                    {
                        "id": c.pk,
                        "artist_id": c.artist_id,
                        "role": c.role,
                        "instrument": c.instrument,
                        "position": c.position,
                    }
                    for c in recording.credits.all()
                ],
            }
        )
    return {
        "title": release.title,
        "barcode": release.barcode,
        "release_date": release.release_date.isoformat(),
        "format": release.format,
        "discs": release.discs,
        "search_text": release.search_text,
        "min_price": str(release.min_price) if release.min_price is not None else None,
        "recordings": recordings,
        "tracks": [
            {
                "id": t.pk,
                "recording_id": t.recording_id,
                "disc": t.disc,
                "number": t.number,
                "title": t.title,
                "duration_seconds": t.duration_seconds,
            }
            for t in release.tracks.all()
        ],
    }


def _structure(recordings, tracks):
    """What a release's recordings, credits and tracks say, without ids: equal when an
    import would change nothing."""
    position_of = {r["id"]: r["position"] for r in recordings} if recordings and "id" in recordings[0] else None
    recs = tuple(
        (
            r["work_id"],
            r["position"],
            r["year"],
            tuple((c["artist_id"], c["role"], c["instrument"], c["position"]) for c in r["credits"]),
        )
        for r in sorted(recordings, key=lambda r: r["position"])
    )
    trks = tuple(
        sorted(
            (
                t["disc"],
                t["number"],
                t["title"],
                t["duration_seconds"],
                position_of[t["recording_id"]] if position_of else t["recording_position"],
            )
            for t in tracks
        )
    )
    return recs, trks


OFFER_FIELDS = ["price", "stock", "made_to_order", "lead_time_days", "is_active"]


def _offer_snapshot(offer):
    return {
        "price": str(offer.price),
        "stock": offer.stock,
        "made_to_order": offer.made_to_order,
        "lead_time_days": offer.lead_time_days,
        "is_active": offer.is_active,
    }


def _offer_problem(values):
    if values.get("made_to_order") and not values.get("lead_time_days"):
        return "a made-to-order offer needs lead_time_days above 0"
    if "price" not in values:
        return "a new offer needs a price"
    return None


# -- the import -------------------------------------------------------------------------


def catalog_import(*, file, file_name, dry_run, user=None, run=None, progress=None, full_feed=False, force=False):
    """Read a supplier's file and, unless dry_run, apply it: releases whole or not at
    all, expiring only the pages that show what changed. Returns an ImportReport of what
    was (or would be) created, changed, deactivated (full_feed), left as it was and
    rejected, and why; an applied import is kept as an ImportRun (run, when staff queued
    it) with its rejections and unmatched names. Raises FileRejected, before anything
    is written, for a file that cannot be read."""
    kind, records = read_rows(file, file_name)
    if not dry_run:
        # A file that turns out unreadable half-way must not leave half a feed behind.
        for _ in records:
            pass
        file.seek(0)
        kind, records = read_rows(file, file_name)
    report = ImportReport(file_name=file_name, kind=kind, dry_run=dry_run, full_feed=full_feed, force=force)
    if not dry_run:
        if run is None:
            run = ImportRun.objects.create(
                file_name=file_name[:255], kind=kind, user=user, full_feed=full_feed, force=force
            )
        ImportRun.objects.filter(pk=run.pk).update(kind=kind, status=ImportRun.Status.QUEUED)
        report.run = run
    matcher = Matcher()
    try:
        if kind == "offers":
            _import_offers(records, report, progress)
        else:
            _import_releases(records, report, matcher, progress)
        if full_feed:
            _deactivate_missing(report)
    except Exception as error:
        if report.run:
            _record(report, status=ImportRun.Status.FAILED, error=repr(error))
        raise
    if report.run:
        _record(report, status=ImportRun.Status.APPLIED)
    return report


def _record(report, *, status, error=""):
    ImportRun.objects.filter(pk=report.run.pk).update(
        status=status,
        error=error,
        rows=report.rows,
        created=report.counts["created"],
        changed=report.counts["changed"],
        unchanged=report.counts["unchanged"],
        rejected=report.counts["rejected"],
        deactivated=report.counts["deactivated"],
        notes=report.notes,
        rejections=[
            {"line": o.line, "name": o.name, "reasons": o.reasons} for o in report.outcomes.get("rejected", [])
        ],
        unmatched=report.unmatched,
    )
    report.run.refresh_from_db()


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- price and stock feeds --------------------------------------------------------------


def _import_offers(records, report, progress):
    for batch in _batches(records, BATCH_OFFERS):
        report.rows += len(batch)
        with transaction.atomic():
            _offer_batch(batch, report)
        if progress:
            progress(report.rows)


def _offer_batch(batch, report):
    seen = {}
    specs = []
    for line, row in batch:
        errors = []
        values = _offer_values(line, row, errors)
        sku = row.get("sku", "")
        if errors:
            report.add(Outcome(line, sku, "rejected", errors))
        elif sku in seen:
            report.add(Outcome(line, sku, "rejected", [f"line {line}: offer {sku} appears again (line {seen[sku]})"]))
        else:
            seen[sku] = line
            specs.append(OfferSpec(line, sku, values))
    if report.full_feed:
        report.seen_skus.update(row.get("sku", "") for _, row in batch)
        report.label_ids.update(
            Offer.objects.filter(sku__in=[s.sku for s in specs]).values_list("release__label_id", flat=True).distinct()
        )
    offers = Offer.objects.select_for_update().in_bulk([s.sku for s in specs], field_name="sku")
    changes, changed_offers = [], []
    for spec in specs:
        offer = offers.get(spec.sku)
        if offer is None:
            reason = f"line {spec.line}: no offer has SKU {spec.sku} (a new offer comes with its release's columns)"
            report.add(Outcome(spec.line, spec.sku, "rejected", [reason]))
            report.note_unmatched("SKU", spec.sku, spec.line)
            continue
        after = _offer_snapshot(offer) | {k: v for k, v in spec.values.items()}
        after["price"] = str(after["price"])
        if after["made_to_order"] and not after["lead_time_days"]:
            reason = f"line {spec.line}: a made-to-order offer needs lead_time_days above 0"
            report.add(Outcome(spec.line, spec.sku, "rejected", [reason]))
            continue
        before = _offer_snapshot(offer)
        if after == before:
            report.add(Outcome(spec.line, spec.sku, "unchanged"))
            continue
        what = ", ".join(f"{k} {before[k]} \u2192 {after[k]}" for k in OFFER_FIELDS if before[k] != after[k])
        report.add(Outcome(spec.line, spec.sku, "changed", [what]))
        changed_offers.append((offer, spec.values))
        changes.append(ImportChange(model="offer", object_id=offer.pk, action="changed", before=before, after=after))
    if report.dry_run or not changed_offers:
        return
    # A feed sets many offers to the same price or stock: one UPDATE per distinct set of
    # values (bulk_update's CASE per row is slow, and on SQLite a statement per row).
    same_values = defaultdict(list)
    for offer, values in changed_offers:
        same_values[tuple(sorted(values.items()))].append(offer.pk)
    for values, pks in same_values.items():
        Offer.objects.filter(pk__in=pks).update(**dict(values))
    changed_offers = [offer for offer, _ in changed_offers]
    for change in changes:
        change.run = report.run
    ImportChange.objects.bulk_create(changes)
    services.offers_changed([o.pk for o in changed_offers])


# -- release feeds ----------------------------------------------------------------------


def _import_releases(records, report, matcher, progress):
    def groups():
        for stray, rows in _grouped(records):
            report.rows += len(rows)
            yield stray, rows

    for batch in _batches(groups(), BATCH_RELEASES):
        with transaction.atomic():
            _release_batch(batch, report, matcher)
        if progress:
            progress(report.rows)


def _resolve(spec, matcher, report):
    """Match the spec's label, composers, works and performers; unmatched names are
    noted for staff and reject the release."""
    label_id, reason = matcher.label(spec.label)
    if reason:
        spec.errors.append(f"line {spec.line}: {reason}")
        report.note_unmatched("label", spec.label, spec.line)
    spec.label_id = label_id
    for recording in spec.recordings:
        line = recording["line"]
        composer_id, reason = matcher.composer(recording["composer"])
        if reason:
            spec.errors.append(f"line {line}: {reason}")
            report.note_unmatched("composer", recording["composer"], line)
            continue
        work, reason = matcher.work(composer_id, recording["work"])
        if reason:
            spec.errors.append(f"line {line}: {reason}")
            report.note_unmatched("work", f"{matcher.composer_names[composer_id]}: {recording['work']}", line)
            continue
        recording["work_obj"] = work
        credits = []
        for position, (role, name, instrument) in enumerate(recording["performers"], start=1):
            artist, reason = matcher.artist(name)
            if reason:
                spec.errors.append(f"line {line}: {reason}")
                report.note_unmatched("performer", name, line)
                continue
            credits.append({"artist_id": artist[0], "name": artist[1], "role": role, "instrument": instrument})
            credits[-1]["position"] = position
        recording["credits"] = credits
    works = [r["work_obj"].pk for r in spec.recordings if "work_obj" in r]
    if len(works) != len(set(works)):
        spec.errors.append(f"line {spec.line}: two works of the release are the same work")


def _wanted_structure(spec):
    recordings, tracks = [], []
    for position, recording in enumerate(spec.recordings, start=1):
        recordings.append(
            {
                "work_id": recording["work_obj"].pk,
                "position": position,
                "year": recording["year"],
                "credits": [
                    {k: c[k] for k in ("artist_id", "role", "instrument", "position")} for c in recording["credits"]
                ],
            }
        )
        tracks += [
            {"disc": d, "number": n, "title": t, "duration_seconds": s, "recording_position": position}
            for d, n, t, s in recording["tracks"]
        ]
    return recordings, tracks


def _search_text(spec, label_name):
    return release_search_text(
        title=spec.fields["title"],
        label=label_name,
        catalog_number=spec.catalog_number,
        barcode=spec.fields["barcode"],
        recordings=[(r["work_obj"], [c["name"] for c in r["credits"]]) for r in spec.recordings],
    )


def _release_batch(batch, report, matcher):
    specs = []
    for stray, rows in batch:
        spec = _release_spec(rows)
        if stray:
            spec.errors.insert(0, f"line {spec.line}: rows of this release must be together in the file")
        specs.append(spec)
    matcher.load_artists({name for s in specs for r in s.recordings for _, name, _ in r["performers"]})
    for spec in specs:
        if not spec.errors:
            _resolve(spec, matcher, report)
    if report.full_feed:
        report.seen_skus.update(sku for s in specs for sku in s.offers)
        report.label_ids.update(
            label_id for label_id, _ in (matcher.label(s.label) for s in specs) if label_id is not None
        )

    label_ids = {s.label_id for s in specs if not s.errors}
    existing = {}
    for release in (
        Release.objects.select_for_update()
        .filter(label_id__in=label_ids, catalog_number__in={s.catalog_number for s in specs})
        .prefetch_related("recordings__credits", "tracks")
    ):
        existing[(release.label_id, release.catalog_number.upper())] = release
    skus = {sku for s in specs for sku in s.offers}
    offers = Offer.objects.select_for_update().in_bulk(list(skus), field_name="sku")
    barcodes = dict(
        Release.objects.filter(barcode__in={s.fields.get("barcode") for s in specs} - {"", None}).values_list(
            "barcode", "pk"
        )
    )
    in_file_barcodes = {}
    for spec in specs:
        release = existing.get((getattr(spec, "label_id", None), spec.catalog_number.upper()))
        spec.release = release
        if spec.errors:
            continue
        barcode = spec.fields.get("barcode")
        if barcode and barcodes.get(barcode, release.pk if release else None) != (release.pk if release else None):
            spec.errors.append(f"line {spec.line}: barcode {barcode} belongs to another release")
        if barcode and in_file_barcodes.setdefault(barcode, spec.key) != spec.key:
            spec.errors.append(f"line {spec.line}: barcode {barcode} is on another release of this file")
        for sku, offer_spec in spec.offers.items():
            offer = offers.get(sku)
            if offer is not None and (release is None or offer.release_id != release.pk):
                spec.errors.append(f"line {offer_spec.line}: SKU {sku} belongs to another release")
            elif offer is None and (problem := _offer_problem(offer_spec.values)):
                spec.errors.append(f"line {offer_spec.line}: {problem}")
            elif offer is not None:
                after = _offer_snapshot(offer) | offer_spec.values
                if after["made_to_order"] and not after["lead_time_days"]:
                    spec.errors.append(f"line {offer_spec.line}: a made-to-order offer needs lead_time_days above 0")

    writes = []
    for spec in specs:
        name = f"{spec.label} {spec.catalog_number}"
        if spec.errors:
            report.add(Outcome(spec.line, name, "rejected", spec.errors))
            continue
        plan = _plan(spec, offers)
        if plan is None:
            report.add(Outcome(spec.line, name, "unchanged"))
            continue
        action = "changed" if spec.release else "created"
        report.add(Outcome(spec.line, name, action, plan["what"]))
        writes.append((spec, plan))
    if report.dry_run or not writes:
        return
    try:
        with transaction.atomic(), services.artists_counted_once() as uncounted:
            changes = _write_new([(s, p) for s, p in writes if s.release is None], matcher)
            changes += [c for spec, plan in writes if spec.release for c in _write(spec, plan, matcher)]
            uncounted |= _credited_by(changes)
    except IntegrityError:
        # Something the checks above did not foresee (a row written meanwhile): find
        # the release it belongs to, one at a time, and apply the others.
        changes = []
        for spec, plan in writes:
            try:
                with transaction.atomic(), services.artists_counted_once() as uncounted:
                    written = _write(spec, plan, matcher) if spec.release else _write_new([(spec, plan)], matcher)
                    uncounted |= _credited_by(written)
                changes += written
            except IntegrityError:
                name = f"{spec.label} {spec.catalog_number}"
                report.counts[("changed" if spec.release else "created")] -= 1
                reason = (
                    f"line {spec.line}: another import wrote this release, or one of its SKUs or its barcode, "
                    "at the same time; import the file again to apply it"
                )
                report.add(Outcome(spec.line, name, "rejected", [reason]))
    for change in changes:
        change.run = report.run
    ImportChange.objects.bulk_create(changes)
    _after_write(changes)


def _plan(spec, offers):
    """What applying the spec changes, or None when nothing."""
    wanted_recordings, wanted_tracks = _wanted_structure(spec)
    what = []
    release = spec.release
    offer_changes = {}
    for sku, offer_spec in spec.offers.items():
        offer = offers.get(sku)
        if offer is None:
            offer_changes[sku] = ("created", offer_spec.values)
            what.append(f"new offer {sku} at {offer_spec.values['price']}")
        else:
            before = _offer_snapshot(offer)
            after = before | {k: (str(v) if k == "price" else v) for k, v in offer_spec.values.items()}
            if after != before:
                offer_changes[sku] = ("changed", offer_spec.values)
                what.append(
                    f"offer {sku}: "
                    + ", ".join(f"{k} {before[k]} \u2192 {after[k]}" for k in OFFER_FIELDS if before[k] != after[k])
                )
    structure_changed = True
    fields_changed = {}
    if release is not None:
        snapshot = _release_snapshot(release)
        for name, value in spec.fields.items():
            if getattr(release, name) != value:
                fields_changed[name] = value
                what.append(f"{name} {getattr(release, name)} \u2192 {value}")
        structure_changed = _structure(snapshot["recordings"], snapshot["tracks"]) != _structure(
            wanted_recordings, wanted_tracks
        )
        if structure_changed:
            what.append("works, performers or tracks")
        if not fields_changed and not structure_changed and not offer_changes:
            return None
    else:
        tracks = len(wanted_tracks)
        what.insert(0, f"{spec.fields['title']}: {len(wanted_recordings)} work(s), {tracks} track(s)")
    return {
        "what": what,
        "fields": fields_changed,
        "structure": structure_changed,
        "recordings": wanted_recordings,
        "tracks": wanted_tracks,
        "offers": offer_changes,
        "existing_offers": {sku: offers[sku] for sku in offer_changes if sku in offers},
    }


def _new_slugs(specs):
    """A free slug for each new release: its title and catalogue number, numbered on
    the rare clash."""
    bases = [f"{slugify(fold(s.fields['title']))[:150]}-{slugify(s.catalog_number)}"[:200] for s in specs]
    taken = set(Release.objects.filter(slug__in=bases).values_list("slug", flat=True))
    slugs = []
    for base in bases:
        slug, n = base, 1
        while slug in taken or (slug != base and Release.objects.filter(slug=slug).exists()):
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _write_new(items, matcher):
    """Write new releases with their recordings, credits, tracks and offers: a few
    statements for the whole batch. Returns their ImportChange rows (run not yet set)."""
    if not items:
        return []
    releases = [
        Release(
            label_id=spec.label_id,
            catalog_number=spec.catalog_number,
            slug=slug,
            search_text=_search_text(spec, matcher.label_names[spec.label_id]),
            **spec.fields,
        )
        for (spec, _), slug in zip(items, _new_slugs([spec for spec, _ in items]), strict=True)
    ]
    Release.objects.bulk_create(releases)  # no signals: _after_write expires their pages
    recordings = [
        (
            Recording(
                release=release,
                work_id=r["work_id"],
                position=r["position"],
                year=r["year"],
                release_date=release.release_date,
            ),
            r,
        )
        for release, (_, plan) in zip(releases, items, strict=True)
        for r in plan["recordings"]
    ]
    Recording.objects.bulk_create([row for row, _ in recordings])
    by_position = {(row.release_id, row.position): row for row, _ in recordings}
    Credit.objects.bulk_create(
        [
            Credit(
                recording=row,
                artist_id=c["artist_id"],
                role=c["role"],
                instrument=c["instrument"],
                position=c["position"],
                release_date=row.release_date,
            )
            for row, r in recordings
            for c in r["credits"]
        ]
    )
    Track.objects.bulk_create(
        [
            Track(
                release=release,
                recording=by_position[(release.pk, t["recording_position"])],
                disc=t["disc"],
                number=t["number"],
                title=t["title"],
                duration_seconds=t["duration_seconds"],
            )
            for release, (_, plan) in zip(releases, items, strict=True)
            for t in plan["tracks"]
        ]
    )
    offers = [
        Offer(release=release, sku=sku, **values)
        for release, (_, plan) in zip(releases, items, strict=True)
        for sku, (_, values) in plan["offers"].items()
    ]
    Offer.objects.bulk_create(offers)
    return [
        ImportChange(model="release", object_id=r.pk, action="created", after=_release_after(r, plan))
        for r, (_, plan) in zip(releases, items, strict=True)
    ] + [ImportChange(model="offer", object_id=o.pk, action="created", after=_offer_snapshot(o)) for o in offers]


RELEASE_FIELDS = ["title", "barcode", "release_date", "format", "discs"]


def _release_fields(release):
    return {
        name: (value.isoformat() if name == "release_date" else value)
        for name in RELEASE_FIELDS
        for value in [getattr(release, name)]
    }


def _release_after(release, plan):
    """What the import made the release (written already): its fields and what its
    recordings, credits and tracks say."""
    return _release_fields(release) | {"recordings": plan["recordings"], "tracks": plan["tracks"]}


def _write(spec, plan, matcher):
    """Write the planned changes of one release already in the catalog; returns its
    ImportChange rows (run not yet set)."""
    changes = []
    release = spec.release
    if plan["fields"] or plan["structure"]:
        # (Only its offers changed otherwise: their own rows say so, and each offer's
        # save expires just the pages that show it.)
        before = _release_snapshot(release)
        change = ImportChange(model="release", object_id=release.pk, action="changed", before=before)
        changes.append(change)
        for name, value in plan["fields"].items():
            setattr(release, name, value)
        change.after = _release_after(release, plan)
        search_text = _search_text(spec, matcher.label_names[spec.label_id])
        Release.objects.filter(pk=release.pk).update(search_text=search_text, **plan["fields"])
        if plan["structure"]:
            release.recordings.all().delete()
    if plan["structure"]:
        _create_structure(release, plan["recordings"], plan["tracks"])
        services.release_date_copied(release=release)
    elif "release_date" in plan["fields"]:
        services.release_date_copied(release=release)
    for sku, (action, values) in plan["offers"].items():
        if action == "created":
            offer = Offer.objects.create(release=release, sku=sku, **values)  # its signal: lowest price, pages
            changes.append(
                ImportChange(model="offer", object_id=offer.pk, action="created", after=_offer_snapshot(offer))
            )
        else:
            offer = plan["existing_offers"][sku]
            before = _offer_snapshot(offer)
            for name, value in values.items():
                setattr(offer, name, value)
            changes.append(
                ImportChange(
                    model="offer", object_id=offer.pk, action="changed", before=before, after=_offer_snapshot(offer)
                )
            )
            offer.save(update_fields=list(values))  # its signal keeps the lowest price and pages right
    return changes


def _create_structure(release, recordings, tracks):
    rows = [
        Recording(
            release=release,
            work_id=r["work_id"],
            position=r["position"],
            year=r["year"],
            release_date=release.release_date,
            pk=r.get("id"),
        )
        for r in recordings
    ]
    Recording.objects.bulk_create(rows)
    by_position = {r.position: r for r in rows}
    by_id = {r.pk: r for r in rows}
    Credit.objects.bulk_create(
        [
            Credit(
                recording=row,
                artist_id=c["artist_id"],
                role=c["role"],
                instrument=c["instrument"],
                position=c["position"],
                release_date=row.release_date,
                pk=c.get("id"),
            )
            for r, row in zip(recordings, rows, strict=True)
            for c in r["credits"]
        ]
    )
    Track.objects.bulk_create(
        [
            Track(
                release=release,
                recording=by_id[t["recording_id"]] if "recording_id" in t else by_position[t["recording_position"]],
                disc=t["disc"],
                number=t["number"],
                title=t["title"],
                duration_seconds=t["duration_seconds"],
                pk=t.get("id"),
            )
            for t in tracks
        ]
    )


def _after_write(changes):
    """Keep the derived data in step with what was written: recording counts, lowest
    prices, and the cached pages that show the releases (only those)."""
    release_ids = [c.object_id for c in changes if c.model == "release"]
    if not release_ids:
        return
    services.releases_imported(release_ids)
    work_ids = set(Recording.objects.filter(release_id__in=release_ids).values_list("work_id", flat=True))
    for change in changes:
        if change.model == "release" and change.before:
            work_ids |= {r["work_id"] for r in change.before["recordings"]}
    recount_works(work_ids)


def _credited(recordings):
    return {c["artist_id"] for r in recordings for c in r["credits"]}


def _credited_by(changes):
    """The performers credited on the releases written (their pages count them); those
    whose credits were replaced are counted as the credits are deleted."""
    release_ids = [c.object_id for c in changes if c.model == "release"]
    return set(Credit.objects.filter(recording__release_id__in=release_ids).values_list("artist_id", flat=True))


def recount_works(work_ids):
    counts = Recording.objects.filter(work=OuterRef("pk")).values("work").annotate(n=Count("pk")).values("n")
    Work.objects.filter(pk__in=work_ids).update(recording_count=Coalesce(Subquery(counts), 0))


# -- full feeds -------------------------------------------------------------------------


def _deactivate_missing(report):
    """A full feed: deactivate the active offers of the file's labels that it does not
    list, unless that is more than a full feed may leave out (a file cut short)."""
    if not report.label_ids:
        return
    active = list(
        Offer.objects.filter(release__label_id__in=report.label_ids, is_active=True)
        .order_by("pk")
        .values_list("pk", "sku")
    )
    missing = [(pk, sku) for pk, sku in active if sku not in report.seen_skus]
    if not missing:
        return
    share = settings.IMPORT_FULL_FEED_MAX_SHARE
    if len(missing) > share * len(active) and not report.force:
        report.notes.append(
            f"Nothing was deactivated: the file leaves out {len(missing)} of the {len(active)} active offers of "
            f"its labels, more than the {share:.0%} a full feed may leave out, so it may be cut short. If the file "
            "is complete, import it again with “force”."
        )
        return
    for _, sku in missing:
        report.add(Outcome(None, sku, "deactivated", ["not in the full feed"]))
    if report.dry_run:
        return
    for batch in _batches([pk for pk, _ in missing], BATCH_OFFERS):
        with transaction.atomic():
            offers = Offer.objects.select_for_update().filter(pk__in=batch, is_active=True).order_by("pk")
            changes = []
            for offer in offers:
                before = _offer_snapshot(offer)
                after = before | {"is_active": False}
                changes.append(
                    ImportChange(
                        run=report.run, model="offer", object_id=offer.pk, action="changed", before=before, after=after
                    )
                )
            Offer.objects.filter(pk__in=[c.object_id for c in changes]).update(is_active=False)
            ImportChange.objects.bulk_create(changes)
            services.offers_changed([c.object_id for c in changes])


# -- undo -------------------------------------------------------------------------------


class UndoRefused(Exception):
    pass


UNDOABLE = [ImportRun.Status.APPLIED, ImportRun.Status.FAILED]


def last_import():
    """The import that undo would take back: the latest one applied (or stopped by an
    error part-way, whose changes are kept too)."""
    return ImportRun.objects.filter(status__in=UNDOABLE).order_by("-started_at", "-pk").first()


@transaction.atomic
def import_undo(*, run):
    """Put back what the import created or changed as it was before it, where it is
    still what the import set; only the last import still applied can be undone.
    Returns notes, also kept on the run: values someone changed since the import are
    kept and listed, and an offer already ordered is deactivated, not deleted."""
    with services.artists_counted_once() as uncounted:
        return _undo(run, uncounted)


def _undo(run, artist_ids):
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if ImportRun.objects.filter(status=ImportRun.Status.QUEUED).exists():
        raise UndoRefused("An import is running: undo when it has finished.")
    latest = last_import()
    if run.status not in UNDOABLE or latest is None or latest.pk != run.pk:
        raise UndoRefused("Only the last import that is still applied can be undone.")
    notes = []
    offers = run.changes.filter(model="offer").order_by("-pk")
    releases = run.changes.filter(model="release").order_by("-pk")
    touched_releases, work_ids = set(), set()
    changed_offers = []
    for change in offers.iterator(chunk_size=2000):
        offer = Offer.objects.select_for_update().filter(pk=change.object_id).first()
        if offer is None:
            continue
        touched_releases.add(offer.release_id)
        current = _offer_snapshot(offer)
        if change.action == "created":
            edited = _edited(current, change.after, OFFER_FIELDS)
            if edited:
                words = ", ".join(FIELD_WORDS.get(n, n) for n in edited)
                notes.append(f"Kept: offer {offer.sku} was changed after the import ({words}).")
                continue
            try:
                with transaction.atomic():
                    offer.delete()
            except ProtectedError:
                Offer.objects.filter(pk=offer.pk).update(is_active=False)
                notes.append(f"Offer {offer.sku} has been ordered: it is deactivated, not deleted.")
        else:
            edited = _edited(current, change.after, OFFER_FIELDS, change.before)
            notes += [f"Kept: {FIELD_WORDS.get(n, n)} of {offer.sku} was changed after the import." for n in edited]
            restore = {name: change.before[name] for name in _set_by(change, OFFER_FIELDS) if name not in edited}
            if "price" in restore:
                restore["price"] = Decimal(restore["price"])
            if restore:
                Offer.objects.filter(pk=offer.pk).update(**restore)
                changed_offers.append(offer.pk)
    for change in releases.iterator(chunk_size=500):
        release = Release.objects.select_for_update().filter(pk=change.object_id).first()
        if release is None:
            continue
        work_ids |= set(release.recordings.values_list("work_id", flat=True))
        current = _release_snapshot(release)
        current_fields = _release_fields(release)
        structure_edited = change.after is not None and _structure(
            current["recordings"], current["tracks"]
        ) != _structure(change.after["recordings"], change.after["tracks"])
        edited = _edited(current_fields, change.after, RELEASE_FIELDS, change.before)
        name = f"{release.label} {release.catalog_number}"
        if change.action == "created":
            if edited or structure_edited:
                notes.append(f"Kept: release {name} was changed after the import, so it stays in the catalog.")
                continue
            try:
                with transaction.atomic():
                    release.delete()  # its signal expires the lists it was on
            except ProtectedError:
                notes.append(f"Release {release} has orders: it stays in the catalog.")
            touched_releases.discard(release.pk)
            continue
        before = change.before
        notes += [f"Kept: {FIELD_WORDS.get(n, n)} of {name} was changed after the import." for n in edited]
        if structure_edited:
            notes.append(f"Kept: works, performers or tracks of {name} were changed after the import.")
        restore = {name: before[name] for name in _set_by(change, RELEASE_FIELDS) if name not in edited}
        if "release_date" in restore:
            restore["release_date"] = datetime.date.fromisoformat(restore["release_date"])
        if restore:
            Release.objects.filter(pk=release.pk).update(**restore)
        release.refresh_from_db()
        if not structure_edited and _structure(current["recordings"], current["tracks"]) != _structure(
            before["recordings"], before["tracks"]
        ):
            release.recordings.all().delete()
            _create_structure(release, before["recordings"], before["tracks"])
            artist_ids |= _credited(before["recordings"])
        if structure_edited or _edited(current_fields, change.after, RELEASE_FIELDS):
            # Part of it stays as someone made it since: its search text says what it holds now.
            services.release_refresh_search_text(release=release)
        else:
            Release.objects.filter(pk=release.pk).update(search_text=before["search_text"])
        services.release_date_copied(release=release)
        if not structure_edited:
            work_ids |= {r["work_id"] for r in before["recordings"]}
        touched_releases.add(release.pk)
    if changed_offers:
        services.offers_changed(changed_offers)
    if touched_releases:
        services.releases_imported(list(touched_releases))
    recount_works(work_ids)
    run.status = ImportRun.Status.UNDONE
    run.notes = [*run.notes, *notes]
    run.save(update_fields=["status", "notes"])
    return notes


def _set_by(change, names):
    """The names whose value the import changed (all, for changes recorded before
    imports kept what they set): undo leaves the others as they are now."""
    if change.after is None:
        return names
    return [name for name in names if change.before[name] != change.after[name]]


def _edited(current, after, names, before=None):
    """The names the import set (changed, when before is given) whose value is no longer
    what it set; none for changes recorded before imports kept what they set."""
    if after is None:
        return []
    edited = []
    for name in names:
        if before is not None and before[name] == after[name]:
            continue
        now, then = current[name], after[name]
        if name == "price":
            now, then = Decimal(now), Decimal(then)
        if now != then:
            edited.append(name)
    return edited


FIELD_WORDS = {
    "is_active": "on-sale status",
    "lead_time_days": "lead time",
    "made_to_order": "made to order",
    "release_date": "release date",
}


# -- history ----------------------------------------------------------------------------

PREVIEW_KEPT = datetime.timedelta(days=1)


def unconfirmed_previews():
    """Uploads that never became imports: waiting for or showing their preview, or
    refused before anyone could confirm them (a refused confirmed file is history)."""
    return ImportRun.objects.filter(
        Q(status__in=[ImportRun.Status.PREVIEWING, ImportRun.Status.PREVIEWED])
        | Q(status=ImportRun.Status.REFUSED, preview__isnull=True)
    )


def import_history_purge(today):
    """Delete import runs started more than IMPORT_HISTORY_DAYS before today, with what
    they changed (they can no longer be undone), and previews nobody confirmed within a
    day, with their files; an import being applied is left alone. Returns how many rows
    went."""
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    expired = ImportRun.objects.filter(
        started_at__lt=midnight - datetime.timedelta(days=settings.IMPORT_HISTORY_DAYS)
    ).exclude(status=ImportRun.Status.QUEUED)
    unconfirmed = unconfirmed_previews().filter(started_at__lt=midnight - PREVIEW_KEPT)
    run_ids = list(expired.values_list("pk", flat=True)) + list(unconfirmed.values_list("pk", flat=True))
    deleted = 0
    for batch in _batches(sorted(set(run_ids)), 500):
        for stored in ImportRun.objects.filter(pk__in=batch).exclude(stored="").values_list("stored", flat=True):
            default_storage.delete(stored)
        with transaction.atomic():
            changes, _ = ImportChange.objects.filter(run_id__in=batch).delete()
            runs, _ = ImportRun.objects.filter(pk__in=batch).delete()
        deleted += changes + runs
    return deleted

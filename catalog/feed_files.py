"""Reading suppliers' catalog files: CSV (UTF-8, a line at a time) or XLSX (the first
sheet, read-only), their columns under the names suppliers give them, and their values
(dates, prices, yes/no, durations, formats, performers) with a reason for each bad one."""

import csv
import datetime
import itertools
import re
import zipfile
from decimal import Decimal, InvalidOperation

from .models import Format, Role
from .text import fold

# What suppliers call a column -> the column it is.
COLUMN_ALIASES = {
    "catalogue_number": "catalog_number",
    "catalog_no": "catalog_number",
    "cat_no": "catalog_number",
    "catno": "catalog_number",
    "ean": "barcode",
    "upc": "barcode",
    "title": "release_title",
    "album_title": "release_title",
    "composer_name": "composer",
    "work_title": "work",
    "track_no": "track",
    "track_number": "track",
    "disc_no": "disc",
    "disc_number": "disc",
    "year_recorded": "recording_year",
    "made_to_order_lead_time_days": "lead_time_days",
}
RELEASE_COLUMNS = [
    "label",
    "catalog_number",
    "barcode",
    "release_title",
    "release_date",
    "format",
    "discs",
    "composer",
    "work",
    "recording_year",
    "performers",
    "disc",
    "track",
    "track_title",
    "duration",
]
OFFER_COLUMNS = ["sku", "price", "stock", "made_to_order", "lead_time_days", "active"]
ALL_COLUMNS = RELEASE_COLUMNS + OFFER_COLUMNS
RELEASE_REQUIRED = [
    "label",
    "catalog_number",
    "release_title",
    "release_date",
    "format",
    "composer",
    "work",
    "track",
    "track_title",
]


class FileRejected(Exception):
    """The file as a whole cannot be read: nothing of it is applied."""


# -- reading ----------------------------------------------------------------------------


def _column(name):
    key = re.sub(r"[^a-z0-9]+", "_", str(name or "").strip().lower()).strip("_")
    return COLUMN_ALIASES.get(key, key)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def _decoded(binary):
    """The file's lines as text, strictly UTF-8 (a byte-order mark is dropped)."""
    for number, raw in enumerate(binary, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileRejected(
                f"Line {number} is not UTF-8 text. "
                "Save the file as \u201cCSV UTF-8\u201d (or as XLSX) and import it again."
            ) from None


def _csv_rows(binary):
    lines = _decoded(binary)
    first = next(lines, "")
    if "\x00" in first:
        raise FileRejected("This is neither a CSV nor an XLSX file.")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:
        raise FileRejected(f"Line {reader.line_num} cannot be read as CSV ({error}).") from None


def _xlsx_rows(binary):
    from openpyxl import load_workbook

    try:
        book = load_workbook(binary, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileRejected(f"The file cannot be read as XLSX ({error}).") from None
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell(c) for c in cells]
    finally:
        book.close()


def read_rows(binary, name):
    """(kind, iterator of (line, {column: text})) for a CSV or XLSX file; the kind is
    "releases" or "offers", from the columns. Raises FileRejected for a file that cannot
    be one of them."""
    head = binary.read(4096)
    binary.seek(0)
    lower = (name or "").lower()
    if head.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(binary)
    elif lower.endswith((".xlsx", ".xlsm")):
        raise FileRejected("The file is named .xlsx but is not an XLSX workbook.")
    elif lower.endswith(".xls") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected("Old Excel files (.xls) cannot be read: save the sheet as XLSX or CSV UTF-8.")
    elif b"\x00" in head:
        raise FileRejected("This is neither a CSV nor an XLSX file (UTF-16 text? Save it as CSV UTF-8).")
    else:
        rows = _csv_rows(binary)
    header = next((cells for _, cells in rows if any(_cell(c) for c in cells)), None)
    if header is None:
        raise FileRejected("The file is empty.")
    columns = [_column(c) for c in header]
    known = set(columns) & set(ALL_COLUMNS)
    if "catalog_number" in known or "label" in known or "track" in known:
        kind = "releases"
        missing = [c for c in RELEASE_REQUIRED if c not in known]
    elif "sku" in known:
        kind = "offers"
        missing = [] if known & {"price", "stock", "made_to_order", "lead_time_days", "active"} else ["price or stock"]
    else:
        raise FileRejected(
            "The file has none of the catalog's columns. A release feed needs "
            + ", ".join(RELEASE_REQUIRED)
            + "; a price and stock feed needs sku and price or stock."
        )
    if missing:
        raise FileRejected("Columns missing: " + ", ".join(missing) + ".")

    def records():
        for line, cells in rows:
            values = {c: _cell(v) for c, v in zip(columns, cells, strict=False) if c in ALL_COLUMNS}
            if any(values.values()):
                yield line, values

    return kind, records()


# -- values -----------------------------------------------------------------------------


class BadValue(ValueError):
    pass


def as_date(text):
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    raise BadValue(f"release_date \u201c{text}\u201d is not a date (write 2024-03-15)")


def as_int(name, text, *, low=0, high=32767):
    try:
        value = int(Decimal(text))
    except (InvalidOperation, ValueError):
        raise BadValue(f"{name} \u201c{text}\u201d is not a whole number") from None
    if not low <= value <= high or Decimal(text) != value:
        raise BadValue(f"{name} {text} is out of range ({low} to {high})")
    return value


def as_price(text):
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise BadValue(f"price \u201c{text}\u201d is not an amount") from None
    if not price.is_finite() or price <= 0 or price >= Decimal("1000000") or price != price.quantize(Decimal("0.01")):
        raise BadValue(f"price {text} must be above 0, below 1,000,000, with at most two decimals")
    return price.quantize(Decimal("0.01"))


def as_bool(name, text):
    folded = text.strip().lower()
    if folded in ("yes", "y", "true", "1", "ja", "x"):
        return True
    if folded in ("no", "n", "false", "0", "nein", ""):
        return False
    raise BadValue(f"{name} \u201c{text}\u201d is not yes or no")


def as_seconds(text):
    if not text:
        return None
    parts = text.split(":")
    if not all(p.isdigit() for p in parts) or len(parts) > 3:
        raise BadValue(f"duration \u201c{text}\u201d is not a time (write 12:34)")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


_FORMATS = {fold(v).replace(" ", ""): v for v in Format.values} | {
    fold(label).replace(" ", ""): v for v, label in Format.choices
}
_ROLES = {v: v for v in Role.values} | {fold(str(label)): v for v, label in Role.choices}
_PERFORMER = re.compile(r"^\s*(?P<role>[^:]+?)\s*:\s*(?P<name>[^()]+?)\s*(?:\((?P<instrument>[^)]*)\))?\s*$")


def as_format(text):
    value = _FORMATS.get(fold(text).replace(" ", ""))
    if value is None:
        raise BadValue(f"format \u201c{text}\u201d is not one of " + ", ".join(label for _, label in Format.choices))
    return value


def as_performers(text):
    """'conductor: Name; orchestra: Name; soloist: Name (piano)' -> [(role, name, instrument)]."""
    performers = []
    for part in filter(str.strip, (text or "").split(";")):
        m = _PERFORMER.match(part)
        role = _ROLES.get(fold(m.group("role"))) if m else None
        if role is None:
            raise BadValue(
                f"performer \u201c{part.strip()}\u201d needs a role: conductor, soloist, orchestra, ensemble or choir "
                "(write \u201cconductor: Name\u201d)"
            )
        performers.append((role, m.group("name").strip(), (m.group("instrument") or "").strip()[:60]))
    return performers


def as_text(name, text, limit, *, required=False):
    if required and not text:
        raise BadValue(f"{name} is empty")
    if len(text) > limit:
        raise BadValue(f"{name} is longer than {limit} characters")
    return text

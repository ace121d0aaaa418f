"""Text normalisation shared by the catalog loader and search: folding accents and
transliteration marks, and reading classical titles (number, key, catalogue numbers,
nickname) into structured data."""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ı": "i",
        "þ": "th",
        "ð": "d",
        "’": "",
        "'": "",
        "ʹ": "",
        "`": "",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text):
    """Lower-case ASCII words separated by single spaces: 'Dvořák' -> 'dvorak'."""
    text = unicodedata.normalize("NFKD", (text or "").translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


# Catalogue systems: what people type (folded) -> how the shop writes it.
CATALOGUE_SYSTEMS = {
    "bwv": "BWV",
    "k": "K",
    "kv": "K",
    "op": "Op",
    "opus": "Op",
    "d": "D",
    "hob": "Hob",
    "rv": "RV",
    "hwv": "HWV",
    "woo": "WoO",
    "twv": "TWV",
    "buxwv": "BuxWV",
    "wq": "Wq",
    "h": "H",
    "s": "S",
    "lw": "S",
    "sz": "Sz",
    "bb": "BB",
    "b": "B",
    "l": "L",
    "kk": "Kk",
    "z": "Z",
    "sv": "SV",
    "swv": "SWV",
    "wab": "WAB",
    "wwv": "WWV",
    "lwv": "LWV",
    "trv": "TrV",
    "fp": "FP",
    "ms": "MS",
    "js": "JS",
    "fs": "FS",
    "eg": "EG",
    "jb": "JB",
    "hess": "Hess",
    "kiv": "KiV",
    "m": "M",
}
# Systems whose letters are also ordinary words or keys ("A", "in D"): in titles they are
# trusted only after a comma, in queries only when glued to a number or followed by one.
_SYSTEM_ALTERNATION = "|".join(sorted({re.escape(k) for k in CATALOGUE_SYSTEMS}, key=len, reverse=True))

# In a title: ", op. 27 no. 2", ", BWV.1007", ", Hob.XVI:52", ", K.550", ", D 960".
_TITLE_CATNO = re.compile(
    r"(?:^|,|\()\s*(?P<system>" + _SYSTEM_ALTERNATION + r")\.?\s?"
    r"(?P<number>(?:[ivxlc]+:)?\d+[a-z]?(?:[:/.-]\d+[a-z]?)*(?:,?\s*no\.?\s*\d+[a-z]?)?)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\bno\.\s*(?P<number>\d+[a-z]?)\b", re.IGNORECASE)
_KEY = re.compile(r"\bin (?P<key>[A-G](?: flat| sharp)?(?: major| minor)?)\b(?=[,\s]|$)")
_NICKNAME = re.compile(r"[\"“«](?P<nick>[^\"”»]{2,80})[\"”»]")
_FORM = re.compile(r"^(?:\d+\s+)?(?P<form>[^,\d\"(]+?)(?:\s+(?:no\.|in [A-G]\b|op\.|,)|,|$)")


@dataclass
class TitleParts:
    form: str = ""
    number: str = ""
    key: str = ""
    nickname: str = ""
    catalogue: list = field(default_factory=list)  # [(system, number)]


def catalogue_token(system, number):
    """'Op', '27 no. 2' -> 'op27no2'; 'BWV', '1007' -> 'bwv1007'."""
    return (system.lower() + fold(number)).replace(" ", "")


def parse_title(title):
    """Read a title written in the classical metadata convention into its parts."""
    parts = TitleParts()
    if m := _NICKNAME.search(title):
        parts.nickname = m.group("nick").strip()
    bare = _NICKNAME.sub("", title)
    for m in _TITLE_CATNO.finditer(bare):
        system = CATALOGUE_SYSTEMS[m.group("system").lower()]
        number = re.sub(r"\s+", " ", m.group("number").strip().rstrip(","))
        number = re.sub(r",?\s*no\.?\s*", " no. ", number)
        if (system, number) not in parts.catalogue:
            parts.catalogue.append((system, number))
    head = _TITLE_CATNO.split(bare)[0] if parts.catalogue else bare
    if m := _NUMBER.search(head):
        parts.number = m.group("number")
    if m := _KEY.search(bare):
        parts.key = m.group("key").strip()
    if m := _FORM.match(bare.strip()):
        parts.form = m.group("form").strip()[:80]
    return parts


# In a query: "BWV 1007", "bwv1007", "K. 550", "K550", "op 125", "op. 27 no. 2", "D.960".
_QUERY_CATNO = re.compile(
    r"(?<![\w'’])(?P<system>"
    + _SYSTEM_ALTERNATION
    + r")\s*\.?\s*(?P<number>(?:(?:[ivxlc]+|\d+[a-z]?(?=\s*:))\s*[:.]?\s*)?\d+[a-z]?)"
    + r"(?:\s*(?:no\.?|nr\.?|#)\s*(?P<sub>\d+))?\b",
    re.IGNORECASE,
)
_QUERY_NUMBER = re.compile(r"\b(?:no\.?|nr\.?|nos?|#)\s*(?P<n>\d+)\b", re.IGNORECASE)


def _roman(n):
    out = ""
    for value, letters in ((40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


@dataclass
class ParsedQuery:
    words: list  # folded words, catalogue references and numbers taken out
    catalogue: list  # tokens such as 'bwv1007', 'op27no2'
    numbers: list  # bare numbers: 'beethoven 9' -> ['9']


def parse_query(query):
    """Split what a buyer typed into words, catalogue references and numbers."""
    text = re.sub(r"['’]s\b", "", (query or "")[:200])
    catalogue = []

    def take_catalogue(m):
        system, number, rest = CATALOGUE_SYSTEMS[m.group("system").lower()], m.group("number"), ""
        if system == "Hob" and (group := re.match(r"(\d+)([a-z]?)\s*:", number)):
            # Haydn's groups are Roman numerals: "Hob 1:94" is Hob. I:94.
            number = _roman(int(group.group(1))) + group.group(2) + number[group.end() - 1 :]
        elif group := re.match(r"(\d+[a-z]?)\s*:", number):
            # Only Haydn's catalogue has groups; elsewhere "12:3" is a number and what follows.
            rest = number[group.end() :]
            number = group.group(1)
        token = catalogue_token(system, number)
        if m.group("sub"):
            token += "no" + m.group("sub")
        catalogue.append(token)
        return f" {rest} "

    # Only single-letter systems need the number right after them; "k 550" is fine.
    text = _QUERY_CATNO.sub(take_catalogue, unicodedata.normalize("NFKC", text))
    text = _QUERY_NUMBER.sub(lambda m: f" {m.group('n')} ", text)
    words, numbers = [], []
    for word in fold(text).split():
        (numbers if word.isdigit() else words).append(word)
    return ParsedQuery(words=words, catalogue=catalogue, numbers=numbers)


def release_search_text(*, title, label, catalog_number, barcode, recordings):
    """The folded text that search matches a release against: its title, label, catalogue
    number and barcode, and each recording's work title, composer, nickname and
    performers. `recordings` gives (work, performer names) pairs."""
    names = {title, label, catalog_number, barcode}
    for work, performers in recordings:
        names |= {work.title, work.composer.full_name, work.nickname, *performers}
    return " " + " ".join(sorted({fold(n) for n in names if n})) + " "


def work_search_text(*, composer_names, title, subtitle, parts, genre_label, title_de=""):
    """The folded text that search matches a work against (a German title that staff
    wrote, title_de, too; the one written from the English needs no index, as search
    reads German queries into English, catalog.text.from_german)."""
    tokens = [fold(name) for name in composer_names]
    folded_title = fold(title)
    tokens.append(folded_title)
    # "no. 9" also as "no9", so a query for "9" can prefer the ninth over op. 9.
    if parts.number:
        tokens.append("no" + fold(parts.number))
    tokens.extend(catalogue_token(system, number) for system, number in parts.catalogue)
    for system, number in parts.catalogue:
        base = number.split(" no. ")[0]
        tokens.append(catalogue_token(system, base))
        # "BWV.841-843" answers to "BWV 842" too.
        if m := re.fullmatch(r"(\d+)-(\d+)", base):
            first, last = int(m.group(1)), int(m.group(2))
            if len(m.group(2)) < len(m.group(1)):
                last = int(m.group(1)[: -len(m.group(2))] + m.group(2))
            if 0 < last - first <= 60:
                tokens.extend(catalogue_token(system, str(n)) for n in range(first, last + 1))
    tokens.extend([fold(subtitle), fold(genre_label), fold(title_de)])
    return " " + " ".join(t for t in tokens if t) + " "


_SKELETON_RULES = [
    ("tsch", "c"),
    ("tch", "c"),
    ("sch", "s"),
    ("cz", "c"),
    ("ch", "c"),
    ("kh", "c"),
    ("sh", "s"),
    ("zh", "z"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "c"),
    ("k", "c"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
]


def name_skeleton(word):
    """A spelling-blind key for a name, so transliterations meet:
    Tchaikovsky, Chaikovsky, Tschaikowsky, Czajkowski and Čajkovskij all give 'caicovsci'."""
    word = fold(word).replace(" ", "")
    if word.endswith("ff"):
        word = word[:-2] + "v"
    for old, new in _SKELETON_RULES:
        word = word.replace(old, new)
    # Doubled letters and ii/ij endings are the commonest slips.
    return re.sub(r"(.)\1+", r"\1", word)


# What German-speaking collectors type, in the catalog's own (English) words; both sides
# folded. Search tries a query in these words first when it holds any of them
# (catalog.search), so "Mondscheinsonate" finds the "Moonlight" sonata and "Sinfonie Nr. 9
# d-Moll" the ninth symphony.
GERMAN_TERMS = {
    # Forms
    "sinfonie": "symphony",
    "symphonie": "symphony",
    "sinfonien": "symphony",
    "konzert": "concerto",
    "konzerte": "concerto",
    "klavierkonzert": "piano concerto",
    "violinkonzert": "violin concerto",
    "cellokonzert": "cello concerto",
    "hornkonzert": "horn concerto",
    "klarinettenkonzert": "clarinet concerto",
    "trompetenkonzert": "trumpet concerto",
    "klaviersonate": "piano sonata",
    "violinsonate": "violin sonata",
    "cellosonate": "cello sonata",
    "sonate": "sonata",
    "streichquartett": "string quartet",
    "streichquintett": "string quintet",
    "klaviertrio": "piano trio",
    "klavierquartett": "piano quartet",
    "klavierquintett": "piano quintet",
    "ouverture": "overture",
    "oper": "opera",
    "messe": "mass",
    "klavier": "piano",
    "geige": "violin",
    "variationen": "variations",
    "tanze": "dances",
    "lieder": "songs",
    "nr": "no",
    # Works and nicknames
    "mondscheinsonate": "moonlight",
    "mondschein": "moonlight",
    "forellenquintett": "trout",
    "die forelle": "trout",
    "forelle": "trout",
    "unvollendete": "unfinished",
    "kaiserkonzert": "emperor concerto",
    "kaiserquartett": "emperor quartet",
    "das wohltemperierte klavier": "well tempered clavier",
    "wohltemperierte klavier": "well tempered clavier",
    "wohltemperiertes klavier": "well tempered clavier",
    "matthaus passion": "passion matthew",
    "matthauspassion": "passion matthew",
    "johannes passion": "passion john",
    "johannespassion": "passion john",
    "brandenburgische konzerte": "brandenburg concerto",
    "brandenburgisches konzert": "brandenburg concerto",
    "die kunst der fuge": "art of the fugue",
    "kunst der fuge": "art of the fugue",
    "das musikalische opfer": "musical offering",
    "musikalisches opfer": "musical offering",
    "weihnachtsoratorium": "christmas oratorio",
    "der tod und das madchen": "death and the maiden",
    "tod und das madchen": "death and the maiden",
    "die vier jahreszeiten": "four seasons",
    "vier jahreszeiten": "four seasons",
    "aus der neuen welt": "new world",
    "neue welt": "new world",
    "fruhlingssonate": "spring sonata",
    "kreutzersonate": "kreutzer sonata",
    "die hochzeit des figaro": "nozze di figaro",
    "hochzeit des figaro": "nozze di figaro",
    "figaros hochzeit": "nozze di figaro",
    "nussknacker": "nutcracker",
    "der nussknacker": "nutcracker",
    "schwanensee": "swan lake",
    "bilder einer ausstellung": "pictures at an exhibition",
    "der feuervogel": "firebird",
    "feuervogel": "firebird",
    "fruhlingsopfer": "rite of spring",
    "das fruhlingsopfer": "rite of spring",
    "ungarische tanze": "hungarian dances",
    "italienische": "italian",
    "schottische": "scottish",
    "auferstehung": "resurrection",
    "auferstehungssinfonie": "resurrection",
    "tragische": "tragic",
    "h moll messe": "mass b minor",
    "chorfantasie": "choral fantasy",
}
# Forms as a German title names them: the English form (as the catalog writes it,
# case-insensitive) -> the German one. Forms Italian or French in both languages
# (Divertimento, Nocturne, Requiem) are here too, so their titles' keys and numbers are
# written the German way. Search reads these back (GERMAN_TERMS, below).
GERMAN_FORMS = {
    "symphony": "Sinfonie",
    "sinfonia": "Sinfonia",
    "sinfonietta": "Sinfonietta",
    "symphonic poem": "Sinfonische Dichtung",
    "concerto": "Konzert",
    "concerto grosso": "Concerto grosso",
    "double concerto": "Doppelkonzert",
    "chamber concerto": "Kammerkonzert",
    "concerto for strings": "Konzert für Streicher",
    "piano concerto": "Klavierkonzert",
    "keyboard concerto": "Klavierkonzert",
    "harpsichord concerto": "Cembalokonzert",
    "organ concerto": "Orgelkonzert",
    "violin concerto": "Violinkonzert",
    "viola concerto": "Violakonzert",
    "cello concerto": "Cellokonzert",
    "flute concerto": "Flötenkonzert",
    "oboe concerto": "Oboenkonzert",
    "clarinet concerto": "Klarinettenkonzert",
    "bassoon concerto": "Fagottkonzert",
    "horn concerto": "Hornkonzert",
    "trumpet concerto": "Trompetenkonzert",
    "sonata": "Sonate",
    "sonatina": "Sonatine",
    "piano sonata": "Klaviersonate",
    "keyboard sonata": "Klaviersonate",
    "harpsichord sonata": "Cembalosonate",
    "organ sonata": "Orgelsonate",
    "violin sonata": "Violinsonate",
    "viola sonata": "Violasonate",
    "cello sonata": "Cellosonate",
    "flute sonata": "Flötensonate",
    "recorder sonata": "Blockflötensonate",
    "oboe sonata": "Oboensonate",
    "clarinet sonata": "Klarinettensonate",
    "guitar sonata": "Gitarrensonate",
    "trio sonata": "Triosonate",
    "church sonata": "Kirchensonate",
    "string quartet": "Streichquartett",
    "string quintet": "Streichquintett",
    "string trio": "Streichtrio",
    "string sextet": "Streichsextett",
    "piano trio": "Klaviertrio",
    "keyboard trio": "Klaviertrio",
    "piano quartet": "Klavierquartett",
    "piano quintet": "Klavierquintett",
    "clarinet quintet": "Klarinettenquintett",
    "flute quartet": "Flötenquartett",
    "wind quintet": "Bläserquintett",
    "horn trio": "Horntrio",
    "trio": "Trio",
    "quartet": "Quartett",
    "quintet": "Quintett",
    "sextet": "Sextett",
    "septet": "Septett",
    "octet": "Oktett",
    "overture": "Ouvertüre",
    "suite": "Suite",
    "partita": "Partita",
    "serenade": "Serenade",
    "divertimento": "Divertimento",
    "cassation": "Kassation",
    "mass": "Messe",
    "requiem": "Requiem",
    "magnificat": "Magnificat",
    "te deum": "Te Deum",
    "cantata": "Kantate",
    "motet": "Motette",
    "prelude": "Präludium",
    "prelude and fugue": "Präludium und Fuge",
    "fugue": "Fuge",
    "toccata": "Toccata",
    "toccata and fugue": "Toccata und Fuge",
    "fantasia": "Fantasie",
    "chaconne": "Chaconne",
    "passacaglia": "Passacaglia",
    "variations": "Variationen",
    "impromptu": "Impromptu",
    "nocturne": "Nocturne",
    "notturno": "Notturno",
    "ballade": "Ballade",
    "scherzo": "Scherzo",
    "rondo": "Rondo",
    "capriccio": "Capriccio",
    "rhapsody": "Rhapsodie",
    "romance": "Romanze",
    "barcarolle": "Barcarolle",
    "berceuse": "Berceuse",
    "polonaise": "Polonaise",
    "mazurka": "Mazurka",
    "waltz": "Walzer",
    "minuet": "Menuett",
    "march": "Marsch",
    "étude": "Etüde",
    "adagio": "Adagio",
    "andante": "Andante",
    "andantino": "Andantino",
    "allegro": "Allegro",
    "allegretto": "Allegretto",
    "largo": "Largo",
}
# Nicknames that German catalogues give in German (the English one, as the catalog writes
# it, case-insensitive -> the German); the others (Eroica, Jupiter, Waldstein) are the
# same in both languages and stay as they are.
GERMAN_NICKNAMES = {
    "moonlight": "Mondscheinsonate",
    "from the new world": "Aus der Neuen Welt",
    "unfinished": "Unvollendete",
    "death and the maiden": "Der Tod und das Mädchen",
    "trout": "Forellenquintett",
    "emperor": "Kaiser",
    "spring": "Frühling",
    "italian": "Italienische",
    "scottish": "Schottische",
    "rhenish": "Rheinische",
    "tragic": "Tragische",
    "resurrection": "Auferstehung",
    "little russian": "Kleinrussische",
    "prague": "Prager",
    "surprise": "Mit dem Paukenschlag",
    "drum roll": "Mit dem Paukenwirbel",
    "farewell": "Abschied",
    "clock": "Die Uhr",
    "military": "Militär",
    "ghost": "Geister",
    "archduke": "Erzherzog",
    "tempest": "Der Sturm",
    "harp": "Harfenquartett",
    "organ": "Orgelsinfonie",
    "christmas concerto": "Weihnachtskonzert",
    "the inextinguishable": "Das Unauslöschliche",
    "the 4 temperaments": "Die vier Temperamente",
}
# Each German form and nickname search should read back, where it differs from the English.
for _english, _german in [*GERMAN_FORMS.items(), *GERMAN_NICKNAMES.items()]:
    if fold(_german) != fold(_english):
        GERMAN_TERMS.setdefault(fold(_german), fold(_english))
_GERMAN_PHRASES = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, GERMAN_TERMS), key=len, reverse=True)) + r")\b")
# German keys: "d-Moll" is D minor, "Es-Dur" E flat major, "h-Moll" B minor, "B-Dur" B flat major.
_GERMAN_NOTES = {
    "c": "c",
    "d": "d",
    "e": "e",
    "f": "f",
    "g": "g",
    "a": "a",
    "h": "b",
    "b": "b flat",
    "es": "e flat",
    "as": "a flat",
    "des": "d flat",
    "ges": "g flat",
    "ces": "c flat",
    "fis": "f sharp",
    "cis": "c sharp",
    "gis": "g sharp",
    "dis": "d sharp",
    "ais": "a sharp",
}
_GERMAN_KEY = re.compile(r"\b(" + "|".join(sorted(_GERMAN_NOTES, key=len, reverse=True)) + r") (dur|moll)\b")


def from_german(query):
    """The query in the catalog's English words (folded), or "" when it holds no German
    form, title, nickname or key."""
    folded = fold(query)
    english = _GERMAN_KEY.sub(
        lambda m: f"{_GERMAN_NOTES[m.group(1)]} {'major' if m.group(2) == 'dur' else 'minor'}", folded
    )
    english = _GERMAN_PHRASES.sub(lambda m: GERMAN_TERMS[m.group(0)], english)
    return english if english != folded else ""


# German title: the key letters as German writes them (B is H, B flat is B) and the
# flats and sharps as one word (Es, As, Fis).
_NOTE_IN_GERMAN = {
    "": {"A": "A", "B": "H", "C": "C", "D": "D", "E": "E", "F": "F", "G": "G"},
    "flat": {"A": "As", "B": "B", "C": "Ces", "D": "Des", "E": "Es", "F": "Fes", "G": "Ges"},
    "sharp": {"A": "Ais", "B": "His", "C": "Cis", "D": "Dis", "E": "Eis", "F": "Fis", "G": "Gis"},
}
_ENGLISH_TITLE = re.compile(
    r"^(?P<form>[^\W\d_][^\W\d_ ]*(?: [^\W\d_]+)*?)"
    r"(?: no\. ?(?P<number>\d+[a-z]?))?"
    r"(?: in (?P<note>[A-G])(?:[ -](?P<accidental>flat|sharp))?(?: (?P<mode>major|minor))?)?"
    r"(?P<rest>(?:,.*)?)$"
)
_CATALOGUE_SEGMENT = re.compile(
    r"(?P<system>" + _SYSTEM_ALTERNATION + r")\.?\s?(?P<number>(?:[ivxlc]+:)?\d+[a-z]?(?:[:/.-]\d+[a-z]?)*"
    r"(?: no\. ?\d+[a-z]?)?)",
    re.IGNORECASE,
)
_NUMBER_SEGMENT = re.compile(r"no\. ?(?P<number>\d+[a-z]?)")
_NICKNAME_AT_END = re.compile(r",\s*[\"“](?P<nick>[^\"”]{1,80})[\"”]\s*$")


def german_key(note, accidental="", mode=""):
    """'D', '', 'minor' -> 'd-Moll'; 'E', 'flat', 'major' -> 'Es-Dur'; 'B', '', '' -> 'H'."""
    name = _NOTE_IN_GERMAN[accidental][note.upper()]
    if mode == "minor":
        return f"{name.lower()}-Moll"
    if mode == "major":
        return f"{name}-Dur"
    return name


_KEY_NAME = re.compile(r"(?P<note>[A-G])(?:[ -](?P<accidental>flat|sharp))?(?: (?P<mode>major|minor))?", re.IGNORECASE)


def german_key_name(key):
    """A key as the catalog stores it ('E flat major') in German ('Es-Dur'); one it
    cannot read stays as it is."""
    m = _KEY_NAME.fullmatch((key or "").strip())
    if m is None:
        return key
    return german_key(m.group("note"), (m.group("accidental") or "").lower(), (m.group("mode") or "").lower())


def _german_catalogue(segment, koechel):
    """One catalogue reference as German titles write it ('K.550' -> 'KV 550',
    'op. 27 no. 2' -> 'op. 27 Nr. 2'), or None when the segment is not one."""
    segment = segment.strip()
    if m := _NUMBER_SEGMENT.fullmatch(segment):
        return f"Nr. {m.group('number')}"
    m = _CATALOGUE_SEGMENT.fullmatch(segment)
    if m is None:
        return None
    system = CATALOGUE_SYSTEMS[m.group("system").lower()]
    number = re.sub(r"\s*no\. ?", " Nr. ", m.group("number"))
    if system == "Op":
        return f"op. {number}"
    if system == "K":
        # Köchel's catalogue is KV in German; Kirkpatrick's (Scarlatti) stays K.
        return f"KV {number}" if koechel else f"K. {number}"
    if system == "Hob":
        return f"Hob. {number}"
    return f"{system} {number}"


@functools.lru_cache(maxsize=8192)
def german_title(title, *, koechel=False):
    """The title as a German catalogue writes it: 'Symphony no. 9 in D minor, op. 125,
    "Choral"' -> 'Sinfonie Nr. 9 d-Moll op. 125 „Choral“'; koechel: K. numbers are
    Köchel's (Mozart's works), written KV. Only titles of a known form
    followed by a number, a key, catalogue references and a nickname are rewritten;
    anything else (a song's first line, "Concerto for 2 Violins", a title already in
    German) is returned as it is."""
    text = " ".join((title or "").split())
    nickname = ""
    if m := _NICKNAME_AT_END.search(text):
        nickname, text = m.group("nick").strip(), text[: m.start()]
    m = _ENGLISH_TITLE.match(text)
    if m is None or m.group("form").lower() not in GERMAN_FORMS:
        return title
    words = [GERMAN_FORMS[m.group("form").lower()]]
    if m.group("number"):
        words.append(f"Nr. {m.group('number')}")
    if m.group("note"):
        key = german_key(m.group("note"), m.group("accidental") or "", m.group("mode") or "")
        # Without major or minor the title names a tonal centre: "in D", as in English.
        words.append(key if m.group("mode") else f"in {key}")
    for segment in filter(None, (s.strip() for s in m.group("rest").split(","))):
        catalogue = _german_catalogue(segment, koechel)
        if catalogue is None:
            return title
        words.append(catalogue)
    if nickname:
        words.append(f"„{GERMAN_NICKNAMES.get(nickname.lower(), nickname)}“")
    return " ".join(words)

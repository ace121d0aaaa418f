"""Matching the names in a supplier's file to the catalog's composers, works,
performers and labels, through the catalog's name variants and catalogue numbers."""

import re
from collections import defaultdict

from django.utils.text import slugify

from .models import Artist, CatalogueNumber, Composer, ComposerAlias, Label, Work
from .text import catalogue_token, fold, name_skeleton, parse_query, parse_title


class Matcher:
    """The catalog's composers, works, performers and labels as a file names them.
    Never creates one: a name it cannot match is for staff to resolve."""

    def __init__(self):
        self.composers = defaultdict(set)
        self.composer_skeletons = defaultdict(set)
        for folded, skeleton, composer_id in ComposerAlias.objects.values_list("folded", "skeleton", "composer_id"):
            self.composers[folded].add(composer_id)
            self.composer_skeletons[skeleton].add(composer_id)
        for pk, name, full_name, sort_name in Composer.objects.values_list("pk", "name", "full_name", "sort_name"):
            for variant in (name, full_name, sort_name, _unsorted(sort_name)):
                if fold(variant):
                    self.composers[fold(variant)].add(pk)
                    self.composer_skeletons[name_skeleton(variant)].add(pk)
        self.composer_names = dict(Composer.objects.values_list("pk", "full_name"))
        self.labels = {}
        for pk, name, slug in Label.objects.values_list("pk", "name", "slug"):
            self.labels[fold(name)] = self.labels[slug] = pk
        self.label_names = dict(Label.objects.values_list("pk", "name"))
        self._works = {}
        self.artists = {}  # folded name -> (pk, name), filled per batch

    def composer(self, name):
        """(composer id, None) or (None, reason)."""
        folded = fold(name)
        found = self.composers.get(folded) or self.composers.get(fold(_unsorted(name)))
        if not found:
            found = self.composer_skeletons.get(name_skeleton(name))
        if not found:
            return None, f"composer \u201c{name}\u201d is not in the catalog"
        if len(found) > 1:
            names = ", ".join(sorted(self.composer_names[pk] for pk in found))
            return None, f"composer \u201c{name}\u201d could be any of {names}"
        return next(iter(found)), None

    def _composer_works(self, composer_id):
        if composer_id not in self._works:
            works = {w.pk: w for w in Work.objects.filter(composer_id=composer_id).select_related("composer")}
            tokens = defaultdict(set)
            for work_id, token in CatalogueNumber.objects.filter(work__composer_id=composer_id).values_list(
                "work_id", "token"
            ):
                tokens[token].add(work_id)
            titles, shapes, bases, nicknames = defaultdict(set), defaultdict(set), defaultdict(set), defaultdict(set)
            for work in works.values():
                parts = parse_title(work.title)
                for system, number in parts.catalogue:
                    tokens[catalogue_token(system, number)].add(work.pk)
                    bases[catalogue_token(system, number.split(" no. ")[0])].add(work.pk)
                for title in (work.title, work.title_de):
                    if title:
                        titles[fold(title)].add(work.pk)
                if parts.form and (parts.number or parts.key):
                    shapes[_shape(parts)].add(work.pk)
                if work.nickname or parts.nickname:
                    nicknames[fold(work.nickname or parts.nickname)].add(work.pk)
            self._works[composer_id] = (works, tokens, bases, titles, shapes, nicknames)
        return self._works[composer_id]

    def work(self, composer_id, text):
        """(Work, None) or (None, reason): by catalogue number, then title, then form,
        number and key ("Symphony No. 5 in C minor" is the fifth whatever its opus),
        then nickname ("From the New World")."""
        works, tokens, bases, titles, shapes, nicknames = self._composer_works(composer_id)
        parts = parse_title(_conventional(text))
        wanted = {catalogue_token(s, n) for s, n in parts.catalogue} | set(parse_query(text).catalogue)
        candidates = [
            set().union(*(tokens.get(t, set()) for t in wanted)) if wanted else set(),
            titles.get(fold(text), set()),
            set().union(*(bases.get(t, set()) for t in wanted)) if wanted else set(),
            shapes.get(_shape(parts), set()) if parts.form and (parts.number or parts.key) else set(),
            nicknames.get(fold(parts.nickname or text), set()),
        ]
        for found in candidates:
            if len(found) == 1:
                return works[next(iter(found))], None
        composer = self.composer_names[composer_id]
        if any(candidates):
            return None, f"work \u201c{text}\u201d of {composer} matches more than one work: add its catalogue number"
        return None, f"work \u201c{text}\u201d of {composer} is not in the catalog"

    def load_artists(self, names):
        wanted = {fold(n): n for n in names if fold(n) not in self.artists}
        if not wanted:
            return
        slugs = {slugify(f): f for f in wanted} | {slugify(fold(_unsorted(n))): f for f, n in wanted.items()}
        for pk, name, slug in Artist.objects.filter(slug__in=list(slugs)).values_list("pk", "name", "slug"):
            self.artists[slugs[slug]] = (pk, name)
        rest = [n for f, n in wanted.items() if f not in self.artists]
        if rest:
            for pk, name in Artist.objects.filter(name__in=rest).values_list("pk", "name"):
                self.artists.setdefault(fold(name), (pk, name))

    def artist(self, name):
        found = self.artists.get(fold(name))
        if found is None:
            return None, f"performer \u201c{name}\u201d is not in the catalog"
        return found, None

    def label(self, name):
        pk = self.labels.get(fold(name)) or self.labels.get(slugify(name))
        if pk is None:
            return None, f"label \u201c{name}\u201d is not in the catalog"
        return pk, None


def _unsorted(name):
    """'Beethoven, Ludwig van' -> 'Ludwig van Beethoven'."""
    if "," in name:
        last, first = name.split(",", 1)
        return f"{first.strip()} {last.strip()}"
    return name


def _conventional(title):
    """A title as the catalog writes them, for parse_title: 'Symphony No 3 in E-flat
    Major' -> 'Symphony no. 3 in E flat major'."""
    title = re.sub(r"\b(?:no|nr)\.?\s*(?=\d)", "no. ", title, flags=re.IGNORECASE)
    title = re.sub(r"\b([A-G])[- ](flat|sharp)\b", r"\1 \2", title, flags=re.IGNORECASE)
    return re.sub(r"\b(major|minor)\b", lambda m: m.group(1).lower(), title, flags=re.IGNORECASE)


def _shape(parts):
    return (fold(parts.form), parts.number.lower(), fold(parts.key))

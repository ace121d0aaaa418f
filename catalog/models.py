"""The classical catalog: composer -> work -> every recording of it, on releases that
the shop offers for sale."""

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .text import fold, german_title, name_skeleton


class Period(models.TextChoices):
    MEDIEVAL = "medieval", pgettext_lazy("period", "Medieval")
    RENAISSANCE = "renaissance", pgettext_lazy("period", "Renaissance")
    BAROQUE = "baroque", pgettext_lazy("period", "Baroque")
    CLASSICAL = "classical", pgettext_lazy("period", "Classical")
    EARLY_ROMANTIC = "early-romantic", pgettext_lazy("period", "Early Romantic")
    ROMANTIC = "romantic", pgettext_lazy("period", "Romantic")
    LATE_ROMANTIC = "late-romantic", pgettext_lazy("period", "Late Romantic")
    TWENTIETH_CENTURY = "20th-century", pgettext_lazy("period", "20th Century")
    POST_WAR = "post-war", pgettext_lazy("period", "Post-War")
    TWENTY_FIRST_CENTURY = "21st-century", pgettext_lazy("period", "21st Century")


class Genre(models.TextChoices):
    ORCHESTRAL = "orchestral", pgettext_lazy("genre", "Orchestral")
    CONCERTO = "concerto", pgettext_lazy("genre", "Concerto")
    CHAMBER = "chamber", pgettext_lazy("genre", "Chamber")
    KEYBOARD = "keyboard", pgettext_lazy("genre", "Keyboard")
    VOCAL = "vocal", pgettext_lazy("genre", "Vocal & choral")
    STAGE = "stage", pgettext_lazy("genre", "Opera & stage")


class Format(models.TextChoices):
    CD = "cd", "CD"
    SACD = "sacd", "SACD"
    BLURAY = "bluray", "Blu-ray"
    DVD = "dvd", "DVD"
    LP = "lp", "LP"


class Role(models.TextChoices):
    CONDUCTOR = "conductor", _("Conductor")
    SOLOIST = "soloist", _("Soloist")
    ORCHESTRA = "orchestra", _("Orchestra")
    ENSEMBLE = "ensemble", _("Ensemble")
    CHOIR = "choir", _("Choir")


def english(label):
    """A choice's label in the catalog's own language (search text, whatever language
    is active)."""
    with translation.override("en-gb"):
        return str(label)


def choices_check(field, choices, name):
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Composer(models.Model):
    name = models.CharField(max_length=100, help_text="Short name as shown in lists, e.g. Beethoven.")
    full_name = models.CharField(max_length=200)
    sort_name = models.CharField(max_length=200, db_index=True, help_text="Surname first, for A-Z lists.")
    slug = models.SlugField(max_length=120, unique=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    death_year = models.PositiveSmallIntegerField(null=True, blank=True)
    period = models.CharField(max_length=20, choices=Period.choices, db_index=True)
    popular = models.BooleanField(default=False)
    recommended = models.BooleanField(default=False)
    search_text = models.TextField(blank=True, editable=False, help_text="Folded names and variants, for search.")

    class Meta:
        ordering = ["sort_name"]
        constraints = [choices_check("period", Period, "catalog_composer_period_valid")]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("catalog:composer", kwargs={"slug": self.slug})

    @property
    def lifespan(self):
        if self.birth_year and self.death_year:
            return f"{self.birth_year}–{self.death_year}"
        if self.birth_year:
            return gettext("born %(year)s") % {"year": self.birth_year}
        return ""

    @property
    def initial(self):
        return self.sort_name[:1].upper()


class ComposerAlias(models.Model):
    """Another way of writing a composer's name: a transliteration, an other-language
    form, a common misspelling. Search matches these."""

    composer = models.ForeignKey(Composer, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    folded = models.CharField(max_length=200, db_index=True, editable=False)
    skeleton = models.CharField(max_length=200, db_index=True, editable=False, help_text="Spelling-blind key.")

    class Meta:
        verbose_name_plural = "composer aliases"
        constraints = [models.UniqueConstraint(fields=["composer", "folded"], name="catalog_alias_unique")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.folded = fold(self.name)
        self.skeleton = name_skeleton(self.name)
        super().save(*args, **kwargs)


class Work(models.Model):
    composer = models.ForeignKey(Composer, on_delete=models.PROTECT, related_name="works")
    title = models.CharField(max_length=300, help_text='Full title, e.g. Symphony no. 9 in D minor, op. 125, "Choral".')
    slug = models.SlugField(max_length=200)
    subtitle = models.CharField(max_length=300, blank=True)
    genre = models.CharField(max_length=20, choices=Genre.choices, db_index=True)
    form = models.CharField(max_length=80, blank=True, help_text="Symphony, Piano Sonata, Mass, ...")
    number = models.CharField(max_length=20, blank=True, help_text="Number within its form, e.g. 9.")
    key = models.CharField(max_length=40, blank=True, help_text="e.g. D minor")
    nickname = models.CharField(max_length=120, blank=True, help_text='e.g. Choral, "Eroica", Moonlight')
    title_de = models.CharField(
        "German title",
        max_length=300,
        blank=True,
        help_text="As German pages show it, e.g. Sinfonie Nr. 9 d-Moll op. 125. Leave empty to have it written "
        "from the English title (form, number, key and catalogue numbers in German).",
    )
    popular = models.BooleanField(default=False)
    recommended = models.BooleanField(default=False)
    recording_count = models.PositiveIntegerField(default=0, editable=False)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["composer__sort_name", "title"]
        constraints = [
            models.UniqueConstraint(fields=["composer", "slug"], name="catalog_work_slug_unique"),
            choices_check("genre", Genre, "catalog_work_genre_valid"),
        ]
        indexes = [
            models.Index(fields=["composer", "genre", "title"], name="catalog_work_by_genre"),
            # A genre's page lists its works in this order, 50 at a time.
            models.Index(fields=["genre", "-popular", "-recording_count", "title"], name="catalog_work_genre_page"),
        ]

    def __str__(self):
        return f"{self.composer.name}: {self.title}"

    def get_absolute_url(self):
        return reverse("catalog:work", kwargs={"composer": self.composer.slug, "slug": self.slug})

    def display_title(self, language=None):
        """The title as a page in language (the active one by default) shows it: the
        English title, or in German the staff's title_de or else one written from the
        English (catalog.text.german_title; a title it cannot read stays as it is)."""
        if not (language or get_language() or "").startswith("de"):
            return self.title
        if self.title_de:
            return self.title_de
        # K. numbers are Köchel's only in Mozart's works (Scarlatti's are Kirkpatrick's).
        return german_title(self.title, koechel=self.composer.slug == "mozart")

    @property
    def shown_title(self):
        """display_title() in the active language, for templates."""
        return self.display_title()


class CatalogueNumber(models.Model):
    """A work's number in a catalogue of a composer's works (BWV 1007, K. 550, op. 125)."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="catalogue_numbers")
    system = models.CharField(max_length=12, help_text="BWV, K, Op, D, Hob, RV, WoO, ...")
    number = models.CharField(max_length=30, help_text="As written, e.g. 27 no. 2, XVI:52, 1007")
    token = models.CharField(max_length=40, db_index=True, editable=False, help_text="Normalised, e.g. op27no2")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["work", "system", "number"], name="catalog_catno_unique")]

    def __str__(self):
        if self.system == "Op":
            return f"op. {self.number}"
        separator = ". " if len(self.system) == 1 else " "
        return f"{self.system}{separator}{self.number}"


class Movement(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="movements")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["work", "position"], name="catalog_movement_unique")]

    def __str__(self):
        return self.title


class Artist(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        GROUP = "group", _("Group")

    name = models.CharField(max_length=200)
    sort_name = models.CharField(max_length=200, db_index=True)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    instrument = models.CharField(max_length=60, blank=True, help_text="Main instrument of a soloist.")
    is_demo = models.BooleanField(default=False, help_text="Generated for the demo catalog.")
    search_text = models.TextField(blank=True, editable=False)
    # How many recordings their page lists, in all roles and in each ({role: count}),
    # counted again whenever their credits change (services.artists_recount).
    recording_count = models.PositiveIntegerField(default=0, editable=False)
    role_counts = models.JSONField(default=dict, editable=False)

    class Meta:
        ordering = ["sort_name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["person", "group"]), name="catalog_artist_kind_valid")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:artist", kwargs={"slug": self.slug})


class Label(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:label", kwargs={"slug": self.slug})


class Release(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=220, unique=True)
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="releases")
    catalog_number = models.CharField(max_length=40)
    barcode = models.CharField(max_length=14, blank=True, help_text="EAN/UPC")
    release_date = models.DateField()
    format = models.CharField(max_length=10, choices=Format.choices)
    discs = models.PositiveSmallIntegerField(default=1)
    cover = models.ImageField(upload_to="covers/", blank=True, help_text="Leave empty for a generated cover.")
    notes = models.TextField(blank=True)
    featured = models.BooleanField(default=False, db_index=True)
    is_demo = models.BooleanField(default=False, help_text="Generated for the demo catalog.")
    # Denormalised for list pages: the lowest current price and whether anything can be bought.
    min_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-release_date", "title"]
        constraints = [
            models.UniqueConstraint(fields=["label", "catalog_number"], name="catalog_release_catno_unique"),
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="catalog_release_barcode_unique"
            ),
            models.CheckConstraint(condition=Q(discs__gte=1), name="catalog_release_discs_positive"),
            choices_check("format", Format, "catalog_release_format_valid"),
        ]
        # Newest-first lists (all releases, a label's, a format's) read these backwards.
        indexes = [
            models.Index(fields=["release_date", "id"], name="catalog_release_date_id"),
            models.Index(fields=["label", "release_date", "id"], name="catalog_release_label_date"),
            models.Index(fields=["format", "release_date", "id"], name="catalog_release_format_date"),
            # The front page's featured releases, newest first, without reading the rest.
            models.Index(
                fields=["release_date", "id"], condition=Q(featured=True), name="catalog_release_featured_date"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:release", kwargs={"slug": self.slug})

    @property
    def cover_version(self):
        """A digest of what the generated cover shows (title, label, catalogue number):
        its URL changes with it, so browsers may keep a cover for as long as they like."""
        shown = "\x1f".join([self.title, self.label.name, self.catalog_number])
        return hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()

    def get_cover_url(self):
        if self.cover:
            return self.cover.url
        return reverse("catalog:cover", kwargs={"slug": self.slug}) + f"?v={self.cover_version}"


class Recording(models.Model):
    """One performance of a work, as it appears on a release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="recordings")
    work = models.ForeignKey(Work, on_delete=models.PROTECT, related_name="recordings")
    position = models.PositiveSmallIntegerField(default=1)
    year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Year recorded.")
    # Copied from the release so the work page can filter and sort its recordings
    # without a join per row.
    release_date = models.DateField()

    class Meta:
        ordering = ["release", "position"]
        indexes = [
            models.Index(fields=["work", "release_date", "id"], name="catalog_rec_work_date"),
            models.Index(fields=["release_date", "id"], name="catalog_rec_date_id"),
        ]

    def __str__(self):
        return f"{self.work} on {self.release}"


class Credit(models.Model):
    # Both foreign keys are served by the indexes below, which lead with them.
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="credits", db_index=False)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="credits", db_index=False)
    role = models.CharField(max_length=12, choices=Role.choices)
    instrument = models.CharField(max_length=60, blank=True, help_text="For soloists: piano, violin, soprano, ...")
    position = models.PositiveSmallIntegerField(default=1)
    # Copied from the recording (from its release) so that a performer's page walks
    # their credits newest first and stops after a page (services.release_date_copied
    # keeps it right).
    release_date = models.DateField(editable=False)

    class Meta:
        ordering = ["position"]
        constraints = [choices_check("role", Role, "catalog_credit_role_valid")]
        indexes = [
            # A performer's page: their recordings walked newest first from the index
            # alone, in all roles or in one (migration 0014).
            models.Index(fields=["artist", "release_date", "recording"], name="catalog_credit_artist_date"),
            models.Index(fields=["artist", "role", "release_date", "recording"], name="catalog_credit_role_date"),
            # A recording's credits, and "is this recording theirs?" (migration 0012).
            models.Index(fields=["recording", "artist", "role"], name="catalog_credit_rec_artist"),
        ]

    def __str__(self):
        suffix = f" ({self.instrument})" if self.instrument else ""
        return f"{self.artist}{suffix}"


class Track(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="tracks")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="tracks")
    disc = models.PositiveSmallIntegerField(default=1)
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["disc", "number"]
        constraints = [models.UniqueConstraint(fields=["release", "disc", "number"], name="catalog_track_unique")]

    def __str__(self):
        return self.title

    @property
    def duration(self):
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"


class Offer(models.Model):
    """Something the shop sells: a release from stock, or burned to order (like an ArkivCD)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="offers")
    sku = models.CharField(max_length=40, unique=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default=settings.ARKIV_CURRENCY)
    stock = models.PositiveIntegerField(default=0)
    made_to_order = models.BooleanField(default=False, help_text="Manufactured on demand; stock does not apply.")
    lead_time_days = models.PositiveSmallIntegerField(default=0, help_text="Working days to manufacture.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["price"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=Decimal("0")), name="catalog_offer_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_offer_stock_non_negative"),
            models.CheckConstraint(
                condition=Q(made_to_order=False) | Q(lead_time_days__gt=0),
                name="catalog_offer_mto_has_lead_time",
            ),
        ]

    def __str__(self):
        return f"{self.release} ({self.sku})"

    @property
    def available(self):
        return self.is_active and (self.made_to_order or self.stock > 0)

    @property
    def kind_label(self):
        return _("Made to order") if self.made_to_order else Format(self.release.format).label


class SearchTerm(models.Model):
    """A word that occurs in the catalog's names and titles: the vocabulary that
    'did you mean' suggestions are drawn from."""

    word = models.CharField(max_length=60, unique=True)
    length = models.PositiveSmallIntegerField(db_index=True)
    weight = models.PositiveIntegerField(default=1, help_text="How often the word occurs.")

    def __str__(self):
        return self.word


# Editorial: what the shop's editors recommend, and what critics awarded.


class PickKind(models.TextChoices):
    RECORDING_OF_THE_WEEK = "week", _("Recording of the week")
    EDITORS_CHOICE = "choice", _("Editor's choice")


class EditorialPick(models.Model):
    """A release the editors recommend: the recording of the week (one at a time, for
    a date range) or an editor's choice (from a date, open-ended unless it ends)."""

    Kind = PickKind

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="picks")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Last day shown. Required for a recording of the week.")
    blurb = models.CharField(max_length=300, blank=True, help_text="One line on why, shown with the pick.")

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            choices_check("kind", PickKind, "catalog_pick_kind_valid"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="catalog_pick_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="week") | Q(ends_on__isnull=False),
                name="catalog_pick_week_has_end",
            ),
            # The same release is an editor's choice once; a later week needs a new row.
            models.UniqueConstraint(fields=["release"], condition=Q(kind="choice"), name="catalog_pick_choice_once"),
        ]
        indexes = [models.Index(fields=["kind", "starts_on"], name="catalog_pick_kind_start")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.release}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.RECORDING_OF_THE_WEEK and self.starts_on and self.ends_on:
            overlapping = EditorialPick.objects.filter(
                kind=self.Kind.RECORDING_OF_THE_WEEK, starts_on__lte=self.ends_on, ends_on__gte=self.starts_on
            ).exclude(pk=self.pk)
            other = overlapping.select_related("release").first()
            if other is not None:
                raise ValidationError(
                    f"{other.release} is already the recording of the week from {other.starts_on:%d %b %Y} "
                    f"to {other.ends_on:%d %b %Y}; there is one at a time."
                )


class Award(models.Model):
    """A critics' award given to a release, e.g. Gramophone Award 2019 (Orchestral)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="awards")
    name = models.CharField(
        max_length=120, help_text="e.g. Gramophone Award, Diapason d'Or, Preis der deutschen Schallplattenkritik"
    )
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=120, blank=True, help_text="e.g. Orchestral, Recording of the Year")

    class Meta:
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["release", "name", "year", "category"], name="catalog_award_unique"),
            models.CheckConstraint(condition=Q(year__gte=1900, year__lte=2100), name="catalog_award_year_range"),
        ]

    def __str__(self):
        suffix = f" ({self.category})" if self.category else ""
        return f"{self.name} {self.year}{suffix}"


# Catalog feeds: each import of a supplier's file, and what it changed, so staff can
# see what a feed did and undo the last one (catalog.imports).


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing", "Preview being prepared"
    PREVIEWED = "previewed", "Preview ready"
    REFUSED = "refused", "File refused"
    QUEUED = "queued", "Being imported"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    UNDONE = "undone", "Undone"


class ImportAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"


class ImportRun(models.Model):
    """One catalog file applied by staff in the admin or by a scheduled feed."""

    Status = ImportStatus

    file_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, help_text="releases (full feed) or offers (price and stock feed)")
    started_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    rejections = models.JSONField(default=list, blank=True, help_text="The first rejected rows, with reasons.")
    unmatched = models.JSONField(default=dict, blank=True, help_text="Names the catalog could not match.")
    error = models.TextField(blank=True)
    # The uploaded file while it waits to be previewed and confirmed (removed once applied).
    stored = models.CharField(max_length=100, blank=True)
    preview = models.JSONField(null=True, blank=True, help_text="What the file would do, for the preview page.")
    full_feed = models.BooleanField(
        default=False, help_text="The file lists every offer of its labels: offers it leaves out are deactivated."
    )
    force = models.BooleanField(default=False, help_text="Deactivate even more than the share a full feed may.")
    deactivated = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True, help_text="What the import or its undo left as it was, and why.")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            choices_check("status", ImportStatus, "catalog_importrun_status_valid"),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class ImportChange(models.Model):
    """One release or offer an import created or changed, with what it was before
    (None when created) and what the import made it: enough to put it back exactly,
    and to leave alone what someone changed since."""

    Action = ImportAction

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=10)  # "release" or "offer"
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    # What the import set: undo puts back only values that are still these.
    after = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            choices_check("action", ImportAction, "catalog_importchange_action_valid"),
            models.CheckConstraint(
                condition=Q(model__in=["release", "offer"]), name="catalog_importchange_model_valid"
            ),
        ]
        indexes = [models.Index(fields=["run", "model"], name="catalog_importchange_run")]

    def __str__(self):
        return f"{self.get_action_display()} {self.model} {self.object_id}"

"""The staff's working screens for the catalog. Saving or deleting a row refreshes cached
pages through catalog.caching's signals; bulk actions go through services, which expire
only the pages they change."""

import secrets

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from arkiv import logjson

from . import imports, services
from .models import (
    Artist,
    Award,
    CatalogueNumber,
    Composer,
    ComposerAlias,
    Credit,
    EditorialPick,
    ImportRun,
    Label,
    Movement,
    Offer,
    Recording,
    Release,
    Track,
    Work,
)
from .resources import export_releases
from .tasks import apply_catalog_file, preview_catalog_file
from .text import catalogue_token


class ComposerAliasInline(admin.TabularInline):
    model = ComposerAlias
    fields = ["name"]
    extra = 1


@admin.register(Composer)
class ComposerAdmin(admin.ModelAdmin):
    list_display = ["sort_name", "birth_year", "death_year", "period", "popular"]
    list_filter = ["period", "popular", "recommended"]
    search_fields = ["name", "full_name", "sort_name", "aliases__folded"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ComposerAliasInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.composer_refresh_search_text(composer=form.instance)


class CatalogueNumberInline(admin.TabularInline):
    model = CatalogueNumber
    fields = ["system", "number"]
    extra = 1


class MovementInline(admin.TabularInline):
    model = Movement
    extra = 1


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ["title", "composer", "genre", "key", "recording_count", "popular"]
    list_filter = ["genre", "popular", "recommended", "composer__period"]
    search_fields = ["title", "title_de", "nickname", "composer__name", "catalogue_numbers__token"]
    autocomplete_fields = ["composer"]
    list_select_related = ["composer"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CatalogueNumberInline, MovementInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.work_refresh_search_text(work=form.instance)

    def save_formset(self, request, form, formset, change):
        if formset.model is CatalogueNumber:
            for number in formset.save(commit=False):
                number.token = catalogue_token(number.system, number.number)
                number.save()
            for number in formset.deleted_objects:
                number.delete()
            return
        super().save_formset(request, form, formset, change)


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["sort_name", "kind", "instrument", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name", "sort_name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "is_demo"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class RecordingInline(admin.TabularInline):
    model = Recording
    fields = ["position", "work", "year"]
    autocomplete_fields = ["work"]
    extra = 0
    show_change_link = True


class TrackInline(admin.TabularInline):
    model = Track
    fields = ["disc", "number", "title", "duration_seconds", "recording"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "recording" and request.resolver_match.kwargs.get("object_id"):
            kwargs["queryset"] = Recording.objects.filter(
                release_id=request.resolver_match.kwargs["object_id"]
            ).select_related("work")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OfferInline(admin.TabularInline):
    model = Offer
    fields = ["sku", "price", "currency", "stock", "made_to_order", "lead_time_days", "is_active"]
    extra = 0


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["title", "label", "catalog_number", "format", "release_date", "min_price", "featured", "is_demo"]
    list_filter = ["format", "featured", "is_demo", "label"]
    search_fields = ["title", "catalog_number", "barcode"]
    autocomplete_fields = ["label"]
    list_select_related = ["label"]
    date_hierarchy = "release_date"
    prepopulated_fields = {"slug": ["title"]}
    inlines = [RecordingInline, TrackInline, OfferInline]
    actions = ["feature", "unfeature"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        release = form.instance
        # Its recordings, and the credits on them, sort on the work and performer pages by its date.
        services.release_date_copied(release=release)
        # Search finds the release by what staff just wrote (title, label, performers...).
        services.release_refresh_search_text(release=release)
        prices = [o.price for o in release.offers.filter(is_active=True)]
        Release.objects.filter(pk=release.pk).update(min_price=min(prices) if prices else None)

    @admin.action(description="Feature on the front page")
    def feature(self, request, queryset):
        count = services.releases_set_featured(releases=queryset, featured=True)
        self.message_user(request, f"{count} release(s) featured.", messages.SUCCESS)

    @admin.action(description="Remove from the front page")
    def unfeature(self, request, queryset):
        count = services.releases_set_featured(releases=queryset, featured=False)
        self.message_user(request, f"{count} release(s) no longer featured.", messages.SUCCESS)


class CreditInline(admin.TabularInline):
    model = Credit
    fields = ["position", "artist", "role", "instrument"]
    autocomplete_fields = ["artist"]
    extra = 1


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["work", "release", "year"]
    search_fields = ["work__title", "release__title", "release__catalog_number"]
    autocomplete_fields = ["work", "release"]
    list_select_related = ["work", "work__composer", "release"]
    inlines = [CreditInline]

    def save_related(self, request, form, formsets, change):
        recording = form.instance
        before = set(recording.credits.values_list("artist_id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        Credit.objects.filter(recording=recording).update(release_date=recording.release_date)
        # Performers added, removed or changed in a role: their pages count it.
        services.artists_recount(artist_ids=before | set(recording.credits.values_list("artist_id", flat=True)))
        # Search finds a release by its works and performers: the release the recording is
        # on now, and the one it left.
        for release_id in {recording.release_id, form.initial.get("release")} - {None}:
            services.release_refresh_search_text(release=Release(pk=release_id))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Credit:
            return super().save_formset(request, form, formset, change)
        credits = formset.save(commit=False)
        for credit in credits:
            credit.release_date = form.instance.release_date
            credit.save()
        for credit in formset.deleted_objects:
            credit.delete()
        formset.save_m2m()


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["sku", "release", "price", "stock", "made_to_order", "lead_time_days", "is_active"]
    list_filter = ["made_to_order", "is_active"]
    list_editable = ["price", "stock", "is_active"]
    search_fields = ["sku", "release__title", "release__catalog_number"]
    autocomplete_fields = ["release"]
    list_select_related = ["release"]


# Editorial: picks and critics' awards, edited on their release. Saving or deleting one
# makes stale the pages that show it (catalog.caching -> services.editorial_changed).


class EditorialPickInline(admin.TabularInline):
    model = EditorialPick
    fields = ["kind", "starts_on", "ends_on", "blurb"]
    extra = 0


class AwardInline(admin.TabularInline):
    model = Award
    fields = ["name", "year", "category"]
    extra = 0


ReleaseAdmin.inlines = [*ReleaseAdmin.inlines, EditorialPickInline, AwardInline]


@admin.register(EditorialPick)
class EditorialPickAdmin(admin.ModelAdmin):
    """Every pick at a glance; each is edited on its release."""

    list_display = ["release", "kind", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["release__title", "release__catalog_number"]
    autocomplete_fields = ["release"]
    list_select_related = ["release"]
    date_hierarchy = "starts_on"


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ["release", "name", "year", "category"]
    list_filter = ["name", "year"]
    search_fields = ["name", "category", "release__title", "release__catalog_number"]
    autocomplete_fields = ["release"]
    list_select_related = ["release"]


# Catalog feeds: staff upload a supplier's CSV or XLSX file, see what it would create,
# change and reject (and why), confirm to apply it, and may undo the last import
# (catalog.imports). Releases export in the same format (catalog.resources).

FEED_PERMISSIONS = ["catalog.add_release", "catalog.change_release", "catalog.add_offer", "catalog.change_offer"]
FEED_UPLOADS = "catalog-imports"
UNDO_NOTES_SHOWN = 20


class CatalogFileForm(forms.Form):
    file = forms.FileField(
        label="Catalog file",
        help_text="CSV (UTF-8) or XLSX, in the columns of catalog/import_examples/: a release feed (one row per "
        "track) or a price and stock feed (sku, price, stock, ...).",
    )
    full_feed = forms.BooleanField(
        label="Full feed",
        required=False,
        help_text="The file lists every offer of its labels: offers of those labels that it leaves out are "
        "deactivated (undo brings them back). Leave unticked for a partial file.",
    )
    force = forms.BooleanField(
        label="Deactivate even if many are left out",
        required=False,
        help_text="A full feed that would deactivate more than "
        f"{settings.IMPORT_FULL_FEED_MAX_SHARE:.0%} of its labels' offers is taken as cut short and deactivates "
        "nothing; tick this only when the file is complete.",
    )


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "file_name", "kind", "rows", "created", "changed", "unchanged", "rejected", "status"]
    list_filter = ["status", "kind"]
    readonly_fields = list_display + [
        "full_feed",
        "deactivated",
        "user",
        "error",
        "kept",
        "rejected_rows",
        "not_matched",
    ]
    fields = readonly_fields
    change_list_template = "admin/catalog/importrun/change_list.html"
    change_form_template = "admin/catalog/importrun/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Rejected rows (the first ones)")
    def rejected_rows(self, run):
        return (
            format_html_join(
                mark_safe("<br>"),
                "{} (line {}): {}",
                ((r["name"], r["line"], "; ".join(r["reasons"])) for r in run.rejections),
            )
            or "-"
        )

    @admin.display(description="Not matched: add these to the catalog, then import again")
    def not_matched(self, run):
        return (
            format_html_join(
                mark_safe("<br>"), "{}: {}", ((what, ", ".join(names)) for what, names in run.unmatched.items())
            )
            or "-"
        )

    @admin.display(description="Left as it was, and why")
    def kept(self, run):
        return format_html_join(mark_safe("<br>"), "{}", ((note,) for note in run.notes)) or "-"

    def get_urls(self):
        own = [
            path("import/", self.admin_site.admin_view(self.import_view), name="catalog_importrun_import"),
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="catalog_importrun_preview"),
            path("<int:pk>/confirm/", self.admin_site.admin_view(self.confirm_view), name="catalog_importrun_confirm"),
            path("<int:pk>/undo/", self.admin_site.admin_view(self.undo_view), name="catalog_importrun_undo"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "last_import": imports.last_import(),
            "history_days": settings.IMPORT_HISTORY_DAYS,
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        last = imports.last_import()
        extra_context = {**(extra_context or {}), "can_undo": last is not None and str(last.pk) == str(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _page(self, request, template, status=200, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "max_share": f"{settings.IMPORT_FULL_FEED_MAX_SHARE:.0%}",
            **context,
        }
        return TemplateResponse(request, f"admin/catalog/importrun/{template}", context, status=status)

    def _require_feed_permission(self, request):
        if not request.user.has_perms(FEED_PERMISSIONS):
            raise PermissionDenied

    def import_view(self, request):
        """Upload a file; the task worker prepares its preview (nothing is written yet)."""
        self._require_feed_permission(request)
        form = CatalogFileForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not form.is_valid():
            status = 400 if request.method == "POST" else 200
            return self._page(request, "import.html", status, form=form, title="Import a catalog file")
        upload = form.cleaned_data["file"]
        # Previews this person never confirmed are not kept.
        for stale in (
            imports.unconfirmed_previews().filter(user=request.user).exclude(status=ImportRun.Status.PREVIEWING)
        ):
            if stale.stored:
                default_storage.delete(stale.stored)
            stale.delete()
        extension = "xlsx" if upload.name.lower().endswith((".xlsx", ".xlsm")) else "csv"
        stored = default_storage.save(f"{FEED_UPLOADS}/{secrets.token_hex(16)}.{extension}", upload)
        try:
            # The columns are checked at once; the rows, in the worker.
            with default_storage.open(stored, "rb") as file:
                kind, _ = imports.read_rows(file, upload.name)
        except imports.FileRejected as error:
            default_storage.delete(stored)
            form.add_error("file", str(error))
            return self._page(request, "import.html", form=form, title="Import a catalog file", status=400)
        run = ImportRun.objects.create(
            file_name=upload.name[:255],
            kind=kind,
            user=request.user,
            status=ImportRun.Status.PREVIEWING,
            stored=stored,
            full_feed=form.cleaned_data["full_feed"],
            force=form.cleaned_data["force"],
        )
        preview_catalog_file.enqueue(run_id=run.pk, request_id=logjson.request_id.get())
        return redirect("admin:catalog_importrun_preview", run.pk)

    def preview_view(self, request, pk):
        """What the uploaded file would do; refreshes itself until the worker has read it."""
        self._require_feed_permission(request)
        run = get_object_or_404(ImportRun, pk=pk)
        title = f"Preview of {run.file_name}"
        if run.status == ImportRun.Status.PREVIEWING:
            return self._page(request, "preview.html", run=run, title=title, preparing=True)
        if run.status == ImportRun.Status.REFUSED:
            return self._page(request, "preview.html", 400, run=run, title=title)
        if run.status == ImportRun.Status.PREVIEWED:
            return self._page(request, "preview.html", run=run, report=run.preview, title=title)
        return redirect("admin:catalog_importrun_change", run.pk)

    def confirm_view(self, request, pk):
        """Apply a previewed file (kept between the two steps where every server and the
        task worker can read it) once, however often the button is pressed; the worker
        applies it and the run's page shows how far it got."""
        self._require_feed_permission(request)
        if request.method != "POST":
            return redirect("admin:catalog_importrun_preview", pk)
        run = get_object_or_404(ImportRun, pk=pk)
        # The move from "previewed" to "queued" is the lock: one request makes it.
        claimed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEWED).update(
            status=ImportRun.Status.QUEUED, user=request.user
        )
        if not claimed:
            if run.status in (ImportRun.Status.PREVIEWING, ImportRun.Status.REFUSED):
                self.message_user(request, "That preview is not ready to import.", messages.ERROR)
                return redirect("admin:catalog_importrun_preview", run.pk)
            self.message_user(
                request, f"This file ({run.file_name}) was confirmed already: it is imported once.", messages.WARNING
            )
            return redirect("admin:catalog_importrun_change", run.pk)
        apply_catalog_file.enqueue(run_id=run.pk, stored=run.stored, request_id=logjson.request_id.get())
        self.message_user(request, f"Importing {run.file_name}: this page shows how it went.")
        return redirect("admin:catalog_importrun_change", run.pk)

    def undo_view(self, request, pk):
        """Put back what the last import created or changed, where nobody changed it since."""
        self._require_feed_permission(request)
        run = get_object_or_404(ImportRun, pk=pk)
        if request.method != "POST":
            return self._page(request, "undo.html", run=run, title=f"Undo the import of {run.file_name}")
        try:
            notes = imports.import_undo(run=run)
        except imports.UndoRefused as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:catalog_importrun_change", run.pk)
        self.message_user(request, f"The import of {run.file_name} is undone.", messages.SUCCESS)
        for note in notes[:UNDO_NOTES_SHOWN]:
            self.message_user(request, note, messages.WARNING)
        if len(notes) > UNDO_NOTES_SHOWN:
            self.message_user(request, f"… {len(notes)} notes in all: the import's page lists them.", messages.WARNING)
        return redirect("admin:catalog_importrun_changelist")


def _export(file_format):
    @admin.action(description=f"Export as a supplier file ({file_format.upper()})")
    def export(modeladmin, request, queryset):
        content_type = {
            "csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[file_format]
        response = HttpResponse(export_releases(queryset, file_format), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="releases.{file_format}"'
        return response

    export.__name__ = f"export_{file_format}"
    return export


ReleaseAdmin.actions = [*ReleaseAdmin.actions, _export("csv"), _export("xlsx")]

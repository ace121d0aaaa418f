"""The staff's working screens for the catalog. Saving or deleting a row refreshes cached
pages through catalog.caching's signals; bulk actions go through services, which expire
only the pages they change."""

from django.contrib import admin, messages

from . import services
from .models import (
    Artist,
    Award,
    CatalogueNumber,
    Composer,
    ComposerAlias,
    Credit,
    EditorialPick,
    Label,
    Movement,
    Offer,
    Recording,
    Release,
    Track,
    Work,
)
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
        release.recordings.update(release_date=release.release_date)
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

"""The privacy officer's screens: policy versions, the consent log (read-only),
current consents, age statements and suppressions."""

from django.contrib import admin, messages

from . import services
from .models import AgeDeclaration, Consent, ConsentEvent, PolicyDocument, Suppression


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "title", "effective_date", "published_at"]
    list_filter = ["kind"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # A published version is a record of what customers agreed to: it never changes.
        if obj and obj.is_published:
            return ["kind", "version", "title", "body", "effective_date", "published_at"]
        return ["published_at"]

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.is_published)

    @admin.action(description="Publish the selected drafts")
    def publish(self, request, queryset):
        for document in queryset.filter(published_at__isnull=True):
            services.policy_publish(document)
            self.message_user(request, f"Published {document}.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "email", "purpose", "action", "source", "policy_version", "reference"]
    list_filter = ["purpose", "action", "source"]
    search_fields = ["email", "reference"]
    date_hierarchy = "at"


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["email", "purpose", "granted", "pending_confirmation", "updated_at"]
    list_filter = ["purpose", "granted", "pending_confirmation"]
    search_fields = ["email"]


@admin.register(AgeDeclaration)
class AgeDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["order_number", "email", "is_adult", "guardian_name", "guardian_email", "declared_at"]
    list_filter = ["is_adult"]
    search_fields = ["order_number", "email", "guardian_email"]


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ["email_hash", "reason", "at"]

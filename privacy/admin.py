"""The privacy officer's screens: policy versions, the consent log (read-only),
current consents, age statements and suppressions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from . import servicemail, services
from .campaigns import campaign_send, mailing_export
from .models import (
    AgeDeclaration,
    Alert,
    AlertDigest,
    Consent,
    ConsentEvent,
    EmailCampaign,
    MailingExport,
    OptOutRequest,
    PolicyDocument,
    PolicyTranslation,
    PostalCampaign,
    Suppression,
)


class PolicyTranslationInline(admin.StackedInline):
    """A draft's texts in the shop's other languages, written before it is published;
    afterwards they are shown, never changed (the model and the database refuse)."""

    model = PolicyTranslation
    extra = 0
    fields = ["language", "title", "body"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj and obj.is_published else 1

    def get_readonly_fields(self, request, obj=None):
        return ["language", "title", "body"] if obj and obj.is_published else []

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.is_published)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_published)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_published)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "title", "effective_date", "published_at", "languages"]
    list_filter = ["kind"]
    actions = ["publish"]
    inlines = [PolicyTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description="translations")
    def languages(self, obj):
        return ", ".join(t.language for t in obj.translations.all()) or "none"

    def get_readonly_fields(self, request, obj=None):
        # A published version is a record of what customers agreed to: it never changes.
        if obj and obj.is_published:
            return ["kind", "version", "title", "body", "effective_date", "published_at"]
        return ["published_at"]

    def has_change_permission(self, request, obj=None):
        # Shown, never saved: the model and the database refuse a change anyway.
        return super().has_change_permission(request, obj) and not (obj and obj.is_published)

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


@admin.register(EmailCampaign)
class EmailCampaignAdmin(admin.ModelAdmin):
    list_display = ["subject", "created_at", "last_sent_at", "recipients"]
    readonly_fields = ["last_sent_at"]
    actions = ["send"]

    @admin.display(description="Sent to")
    def recipients(self, campaign):
        return campaign.deliveries.count()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Send to confirmed opt-ins who have not had it")
    def send(self, request, queryset):
        for campaign in queryset:
            sent = campaign_send(campaign)
            self.message_user(request, f"'{campaign}' sent to {sent} new recipient(s).", messages.SUCCESS)


@admin.register(PostalCampaign)
class PostalCampaignAdmin(admin.ModelAdmin):
    """Partner liaison staff see campaigns, key codes and counts; only staff with the
    export permission get names and addresses."""

    list_display = ["name", "partner", "key_code", "exports_made", "last_export_rows"]
    search_fields = ["name", "partner", "key_code"]
    actions = ["export"]

    @admin.display(description="Exports")
    def exports_made(self, campaign):
        return campaign.exports.count()

    @admin.display(description="Pieces in last export")
    def last_export_rows(self, campaign):
        last = campaign.exports.first()
        return last.rows if last else "—"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("privacy.export_mailing"):
            actions.pop("export", None)
        return actions

    @admin.action(description="Export the mailing file (CSV)")
    def export(self, request, queryset):
        if not request.user.has_perm("privacy.export_mailing"):
            raise PermissionDenied
        campaign = queryset.first()
        content, export = mailing_export(campaign, by=request.user)
        response = HttpResponse(content, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="mailing-{campaign.key_code}.csv"'
        return response


@admin.register(MailingExport)
class MailingExportAdmin(ReadOnlyAdmin):
    list_display = ["at", "campaign", "by", "rows", "sha256"]
    list_filter = ["campaign"]


@admin.register(OptOutRequest)
class OptOutRequestAdmin(admin.ModelAdmin):
    """The staff queue for mail to service@ the processor could not settle alone."""

    list_display = ["received_at", "sender", "subject", "channel", "state", "reason"]
    list_filter = ["state", "channel"]
    search_fields = ["sender", "subject", "message_id"]
    readonly_fields = [
        "message_id",
        "sender",
        "subject",
        "received_at",
        "body",
        "raw",
        "reason",
        "handled_by",
        "handled_at",
        "state",
    ]
    fields = [
        "state",
        "reason",
        "sender",
        "subject",
        "received_at",
        "channel",
        "body",
        "raw",
        "message_id",
        "handled_by",
        "handled_at",
    ]
    actions = ["apply_both", "apply_postal", "apply_email", "dismiss"]

    def has_add_permission(self, request):
        return False

    def _apply(self, request, queryset, channel):
        for item in queryset.exclude(state=OptOutRequest.State.APPLIED):
            servicemail.request_apply(item, channel=channel, by=request.user)
        self.message_user(request, "Applied, and the senders were told.", messages.SUCCESS)

    @admin.action(description="Apply: stop postal and email offers")
    def apply_both(self, request, queryset):
        self._apply(request, queryset, OptOutRequest.Channel.BOTH)

    @admin.action(description="Apply: stop postal offers")
    def apply_postal(self, request, queryset):
        self._apply(request, queryset, OptOutRequest.Channel.POSTAL)

    @admin.action(description="Apply: stop email offers")
    def apply_email(self, request, queryset):
        self._apply(request, queryset, OptOutRequest.Channel.EMAIL)

    @admin.action(description="Dismiss (no action needed)")
    def dismiss(self, request, queryset):
        for item in queryset.filter(state=OptOutRequest.State.QUEUED):
            servicemail.request_dismiss(item, by=request.user)


# -- alerts ---------------------------------------------------------------------------
# Read-only: alerts are made and removed by customers, sent only by privacy.alerts.


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["email", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["email"]
    list_select_related = ["work", "artist", "offer"]


@admin.register(AlertDigest)
class AlertDigestAdmin(ReadOnlyAdmin):
    list_display = ["email", "day", "items", "sent_at"]
    date_hierarchy = "day"
    search_fields = ["email"]

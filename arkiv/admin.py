from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets

from arkiv.models import PeriodicJob


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    """When each periodic job last ran and how it ended; written by run_periodic_jobs only."""

    list_display = ["name", "last_started_at", "last_succeeded_at", "next_run_at", "running_until", "last_error"]
    readonly_fields = [field.name for field in PeriodicJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SaveOnlyWhatCanChange:
    """A ModelAdmin mixin: a change page whose fields are all read-only, with no inline a
    staff member can add to or edit, offers no Save buttons (only Close)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None and self._nothing_to_save(request, obj):
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _nothing_to_save(self, request, obj):
        fields = set(flatten_fieldsets(self.get_fieldsets(request, obj)))
        if not fields <= set(self.get_readonly_fields(request, obj)):
            return False
        return not any(
            inline.has_add_permission(request, obj) or inline.has_change_permission(request, obj)
            for inline in self.get_inline_instances(request, obj)
        )

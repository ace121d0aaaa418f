from django.contrib import admin

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

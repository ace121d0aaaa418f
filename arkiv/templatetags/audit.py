"""The audit trail on an object's History page in the admin (arkiv/audit.py)."""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django import template

register = template.Library()

# The newest changes; older ones stay in the database (Audit log entries in the admin).
SHOWN = 100


@register.inclusion_tag("admin/includes/audit_trail.html")
def audit_trail(obj):
    """Who changed this object, when, and each field from what to what: one query."""
    if not auditlog.contains(type(obj)):
        return {"tracked": False}
    entries = LogEntry.objects.get_for_object(obj).select_related("actor", "content_type").order_by("-timestamp", "-pk")
    return {
        "tracked": True,
        "entries": [
            {
                "at": entry.timestamp,
                "by": entry.actor or entry.actor_email or "—",
                "action": entry.get_action_display(),
                "changes": [
                    (field, values[0], values[1])
                    for field, values in entry.changes_display_dict.items()
                    if len(values) == 2
                ],
            }
            for entry in entries[:SHOWN]
        ],
    }

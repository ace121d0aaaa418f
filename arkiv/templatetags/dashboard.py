"""The shop's dashboard on the admin's front page (arkiv/dashboard.py)."""

from django import template

from arkiv.dashboard import shop_dashboard

register = template.Library()


@register.inclusion_tag("admin/includes/dashboard.html", takes_context=True)
def dashboard(context):
    """Sales, orders and the work waiting, for staff who may see orders."""
    user = context["request"].user
    if not user.has_perm("orders.view_order"):
        return {"board": None}
    return {"board": shop_dashboard()}

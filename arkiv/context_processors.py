"""Values every page's layout needs; none of them queries the catalog."""

from django.conf import settings

from catalog.models import Genre, Period
from orders.cart import item_count


def shop(request):
    return {
        "shop_service_email": settings.ARKIV_SERVICE_EMAIL,
        "shop_feedback_email": settings.ARKIV_FEEDBACK_EMAIL,
        "nav_periods": Period.choices,
        "nav_genres": Genre.choices,
        # Read from the session only: no query beyond loading the session itself.
        "cart_count": item_count(request.session) if hasattr(request, "session") else 0,
        "account_name": request.session.get("account_name", "") if hasattr(request, "session") else "",
        # A page rendered for the shared cache leaves the parts above, and messages, to
        # catalog.personal, which fills them in for each visitor.
        "personal_later": getattr(request, "shared_page", False),
    }

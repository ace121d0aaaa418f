"""Values every page's layout needs; none of them touches the database."""

from django.conf import settings

from catalog.models import Genre, Period


def shop(request):
    return {
        "shop_service_email": settings.ARKIV_SERVICE_EMAIL,
        "shop_feedback_email": settings.ARKIV_FEEDBACK_EMAIL,
        "nav_periods": Period.choices,
        "nav_genres": Genre.choices,
    }

"""Parts of the layout that are the same on every page for everyone: rendered once per
process, language and URL prefix, not on every page that is not a cache hit (the nav's
and footer's some forty URL reversals cost a fresh render more than its queries)."""

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from catalog.models import Genre, Period

register = template.Library()

_rendered = {}


def _layout_context():
    return {"nav_periods": Period.choices, "nav_genres": Genre.choices}


@register.simple_tag
def rendered_once(template_name):
    """The template, rendered from the layout's fixed context alone (never a visitor's or
    a page's); kept while the process runs, except with DEBUG on, where templates change."""
    key = (template_name, get_language(), get_script_prefix())
    html = _rendered.get(key)
    if html is None:
        html = mark_safe(get_template(template_name).render(_layout_context()))
        if not settings.DEBUG:
            _rendered[key] = html
    return html

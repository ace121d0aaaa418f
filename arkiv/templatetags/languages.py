from django import template

from arkiv.i18n import language_versions as versions_of

register = template.Library()


@register.simple_tag(takes_context=True)
def language_versions(context):
    """This page in each of the shop's languages (arkiv.i18n.language_versions)."""
    request = context.get("request")
    return versions_of(request) if request is not None else []

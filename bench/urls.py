from django.http import HttpResponse
from django.urls import path

from arkiv.urls import urlpatterns as shop_urlpatterns


def hello(request):
    return HttpResponse("Hello, world")


# The shop's own patterns, not include()d: its language-prefixed pages (i18n_patterns)
# must stay in the root URLconf.
urlpatterns = [path("bench/hello/", hello), *shop_urlpatterns]

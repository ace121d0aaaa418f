from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("composers/", views.composer_list, name="composers"),
    path("composers/period/<slug:period>/", views.composer_list, name="period"),
    path("composers/<slug:slug>/", views.composer_detail, name="composer"),
    path("composers/<slug:composer>/<slug:slug>/", views.work_detail, name="work"),
    path("genres/<slug:genre>/", views.genre_detail, name="genre"),
    path("artists/", views.artist_list, name="artists"),
    path("artists/<slug:slug>/", views.artist_detail, name="artist"),
    path("labels/", views.label_list, name="labels"),
    path("labels/<slug:slug>/", views.label_detail, name="label"),
    path("releases/", views.release_list, name="releases"),
    path("releases/<slug:slug>/", views.release_detail, name="release"),
    path("releases/<slug:slug>/cover.svg", views.release_cover, name="cover"),
]

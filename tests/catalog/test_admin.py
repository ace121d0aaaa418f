"""Staff manage the catalog in the admin: lists with search and filters, inlines,
autocomplete, and edits that search picks up at once."""

import pytest
from django.db.models.fields.files import FieldFile

from catalog.models import Work
from catalog.search import search_catalog
from tests.conftest import staff_login
from tests.factories import ArtistFactory, make_recordings

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="staff@arkiv.example", password="a-long-passphrase")
    staff_login(client, user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/composer/?q=tschaikowsky",
        "/admin/catalog/work/?q=bwv1007",
        "/admin/catalog/work/?genre__exact=stage",
        "/admin/catalog/release/",
        "/admin/catalog/recording/",
        "/admin/catalog/offer/?made_to_order__exact=1",
        "/admin/catalog/artist/",
        "/admin/catalog/label/",
        "/admin/accounts/user/",
    ],
)
def test_admin_lists_open_for_staff(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_admin_search_finds_composer_by_variant(staff_client):
    body = staff_client.get("/admin/catalog/composer/?q=tschaikowsky").content.decode()
    assert "Tchaikovsky, Pyotr Ilyich" in body


def test_admin_release_page_has_track_credit_and_offer_inlines(staff_client):
    recording = make_recordings(Work.objects.get(composer__slug="mahler", title__startswith="Symphony no. 2"), 1)[0]
    body = staff_client.get(f"/admin/catalog/release/{recording.release.pk}/change/").content.decode()
    assert "Recordings" in body and "Tracks" in body and "Offers" in body
    body = staff_client.get(f"/admin/catalog/recording/{recording.pk}/change/").content.decode()
    assert "Credits" in body


def test_work_added_in_admin_is_searchable_by_catalogue_number(staff_client):
    composer_id = Work.objects.filter(composer__slug="bach").values_list("composer_id", flat=True).first()
    response = staff_client.post(
        "/admin/catalog/work/add/",
        {
            "composer": composer_id,
            "title": "Toccata and Fugue in D minor, BWV.565",
            "slug": "toccata-and-fugue-bwv-565",
            "subtitle": "",
            "genre": "keyboard",
            "form": "",
            "number": "",
            "key": "",
            "nickname": "",
            "catalogue_numbers-TOTAL_FORMS": "1",
            "catalogue_numbers-INITIAL_FORMS": "0",
            "catalogue_numbers-0-system": "BWV",
            "catalogue_numbers-0-number": "565",
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    work = Work.objects.get(slug="toccata-and-fugue-bwv-565")
    assert work.key == "D minor"
    assert work in search_catalog("bwv 565").works


def test_anonymous_visitors_cannot_open_the_admin(client):
    response = client.get("/admin/catalog/release/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def admin_form_as_shown(client, url, **changes):
    """What the admin's change form sends when saved as shown (its inlines' rows too),
    with some of the main form's fields changed."""
    response = client.get(url)
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False or isinstance(value, FieldFile):
                continue  # an unchanged file is not sent again
            data[form.add_prefix(name)] = [str(v) for v in value] if isinstance(value, list) else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        for form in formset.initial_forms:
            add(form)
        data[formset.management_form.add_prefix("TOTAL_FORMS")] = len(formset.initial_forms)
    return {**data, **changes}


def test_a_release_retitled_in_the_admin_is_found_by_its_new_title(staff_client):
    recording = make_recordings(Work.objects.get(composer__slug="mahler", title__startswith="Symphony no. 2"), 1)[0]
    release = recording.release
    url = f"/admin/catalog/release/{release.pk}/change/"

    response = staff_client.post(url, admin_form_as_shown(staff_client, url, title="Resurrection in Glimmerwald"))

    assert response.status_code == 302, response.content.decode()[:3000]
    release.refresh_from_db()
    assert release.title == "Resurrection in Glimmerwald"
    assert release in search_catalog("glimmerwald").releases


def test_a_performer_credited_in_the_admin_is_found_by_search_on_the_release(staff_client, client):
    recording = make_recordings(Work.objects.get(composer__slug="mahler", title__startswith="Symphony no. 2"), 1)[0]
    quartet = ArtistFactory(name="Glimmerwald Ensemble")
    assert recording.release.title not in client.get("/search/?q=glimmerwald").content.decode()
    url = f"/admin/catalog/recording/{recording.pk}/change/"
    form = admin_form_as_shown(staff_client, url)
    form["credits-0-artist"] = quartet.pk  # the conductor's credit goes to the ensemble

    response = staff_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert recording.release in search_catalog("glimmerwald").releases
    assert recording.release.title in client.get("/search/?q=glimmerwald").content.decode()

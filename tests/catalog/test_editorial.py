"""Editorial picks and critics' awards: staff record them on a release in the admin; the
home page shows the recording of the week and the editor's choices, release and work
pages show award badges, and a work's recordings can be sorted "recommended"."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import EditorialPick, Work
from tests.conftest import staff_login
from tests.factories import AwardFactory, EditorialPickFactory, ReleaseFactory, make_recordings

pytestmark = pytest.mark.django_db

WEEK = EditorialPick.Kind.RECORDING_OF_THE_WEEK


@pytest.fixture
def symphony():
    return Work.objects.select_related("composer").get(composer__slug="beethoven", title__startswith="Symphony no. 9")


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def section(body, heading):
    """The text of the page's <section> that carries this heading ("" without one)."""
    match = re.search(rf"<section[^>]*>\s*<h2[^>]*>{heading}</h2>(.*?)</section>", body, re.S)
    return match.group(1) if match else ""


def recording_titles(body):
    return re.findall(r'<a class="fw-semibold" href="[^"]+">([^<]+)</a>', body)


def test_home_shows_the_recording_of_the_week_and_editors_choices(client):
    week = EditorialPickFactory(
        kind=WEEK, release__title="Kleiber's Fifth", starts_on=days(-2), ends_on=days(4), blurb="Still electrifying."
    )
    EditorialPickFactory(kind=WEEK, release__title="Last Week's Pick", starts_on=days(-9), ends_on=days(-3))
    EditorialPickFactory(kind=WEEK, release__title="Next Week's Pick", starts_on=days(5), ends_on=days(11))
    EditorialPickFactory(release__title="Gould's Goldbergs")

    body = client.get("/").content.decode()

    shown = section(body, "Recording of the week")
    assert "Kleiber&#x27;s Fifth" in shown and "Still electrifying." in shown
    assert week.release.get_absolute_url() in shown
    picks = section(body, "Editor's choice")
    assert "Gould&#x27;s Goldbergs" in picks
    assert not any(title in shown + picks for title in ["Last Week", "Next Week"])


def test_ended_editors_choice_leaves_the_home_page(client):
    EditorialPickFactory(release__title="Old Favourite", starts_on=days(-30), ends_on=days(-1))
    EditorialPickFactory(release__title="New Favourite", starts_on=days(-1))
    picks = section(client.get("/").content.decode(), "Editor's choice")
    assert "New Favourite" in picks and "Old Favourite" not in picks


def test_home_queries_stay_fixed_with_more_picks(client):
    # Guards a query per pick for its release and label.
    EditorialPickFactory(kind=WEEK, starts_on=days(-1), ends_on=days(5))
    EditorialPickFactory()
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    EditorialPickFactory.create_batch(5)  # each save makes the cached home page stale
    with CaptureQueriesContext(connection) as many:
        body = client.get("/").content.decode()
    assert body.count("release-card") >= 6
    assert len(few.captured_queries) == len(many.captured_queries) <= 4


def test_award_shows_on_its_release_page(client):
    award = AwardFactory(name="Diapason d'Or", year=2021, category="Orchestral")
    body = client.get(award.release.get_absolute_url()).content.decode()
    assert "Diapason d&#x27;Or 2021 · Orchestral" in body


def test_editors_choice_badge_shows_on_the_release_page(client):
    pick = EditorialPickFactory()
    assert "Editor&#x27;s choice" in client.get(pick.release.get_absolute_url()).content.decode()


def test_award_shows_on_the_work_page_and_recommended_puts_it_first(client, symphony):
    oldest, middle, newest = make_recordings(symphony, 3)
    for recording, title in [(oldest, "Oldest Ninth"), (middle, "Middle Ninth"), (newest, "Newest Ninth")]:
        recording.release.title = title
        recording.release.save()
    AwardFactory(release=oldest.release, name="Gramophone Award", year=1990)
    EditorialPickFactory(release=middle.release)

    newest_first = client.get(symphony.get_absolute_url()).content.decode()
    assert recording_titles(newest_first) == ["Newest Ninth", "Middle Ninth", "Oldest Ninth"]
    assert "Gramophone Award 1990" in newest_first

    recommended = client.get(symphony.get_absolute_url() + "?sort=recommended").content.decode()
    assert recording_titles(recommended) == ["Oldest Ninth", "Middle Ninth", "Newest Ninth"]
    assert re.search(r'<option value="recommended" selected>', recommended)


def test_work_page_has_a_recommended_sort_control_that_works_without_javascript(client, symphony):
    make_recordings(symphony, 1)
    body = client.get(symphony.get_absolute_url()).content.decode()
    form = re.search(r'<form method="get"[^>]*aria-label="Filter recordings">(.*?)</form>', body, re.S).group(1)
    assert '<label class="form-label small" for="f-sort">Sort</label>' in form
    assert '<option value="recommended">Recommended' in form
    assert '<button class="btn btn-sm btn-dark w-100" type="submit">' in form


def test_work_page_queries_do_not_grow_with_awards(client, symphony):
    # Guards a query per recording for its release's awards and picks.
    recordings = make_recordings(symphony, 2)
    AwardFactory(release=recordings[0].release)
    with CaptureQueriesContext(connection) as few:
        client.get(symphony.get_absolute_url() + "?sort=recommended")
    for recording in make_recordings(symphony, 6):
        AwardFactory(release=recording.release)
        AwardFactory(release=recording.release, name="Diapason d'Or")
        EditorialPickFactory(release=recording.release)
    with CaptureQueriesContext(connection) as many:
        body = client.get(symphony.get_absolute_url() + "?sort=recommended").content.decode()
    assert body.count("award-badge") == 13
    assert len(few.captured_queries) == len(many.captured_queries)


def test_saving_or_deleting_an_award_updates_the_cached_pages_that_show_it(client, symphony):
    release = make_recordings(symphony, 1)[0].release
    assert "award-badge" not in client.get(release.get_absolute_url()).content.decode()
    client.get(symphony.get_absolute_url())

    award = AwardFactory(release=release, name="Edison Klassiek", year=2024)

    assert "Edison Klassiek 2024" in client.get(release.get_absolute_url()).content.decode()
    assert "Edison Klassiek 2024" in client.get(symphony.get_absolute_url()).content.decode()
    award.delete()
    assert "Edison Klassiek" not in client.get(release.get_absolute_url()).content.decode()


def test_new_recording_of_the_week_shows_on_the_cached_home_page(client):
    client.get("/")
    EditorialPickFactory(kind=WEEK, release__title="Fresh Pick", starts_on=days(0), ends_on=days(6))
    assert "Fresh Pick" in section(client.get("/").content.decode(), "Recording of the week")


def test_overlapping_recording_of_the_week_is_refused_with_a_clear_message():
    first = EditorialPickFactory(kind=WEEK, starts_on=days(0), ends_on=days(6))
    second = EditorialPick(release=ReleaseFactory(), kind=WEEK, starts_on=days(6), ends_on=days(12))
    with pytest.raises(ValidationError, match="already the recording of the week") as refused:
        second.full_clean()
    assert str(first.release) in str(refused.value)


def test_database_refuses_two_recordings_of_the_week_on_the_same_day():
    EditorialPickFactory(kind=WEEK, starts_on=days(0), ends_on=days(6))
    with pytest.raises(IntegrityError), transaction.atomic():
        EditorialPickFactory(kind=WEEK, starts_on=days(3), ends_on=days(9))
    # Back to back is fine.
    EditorialPickFactory(kind=WEEK, starts_on=days(7), ends_on=days(13))
    assert EditorialPick.objects.filter(kind=WEEK).count() == 2


def test_recording_of_the_week_needs_an_end_date():
    with pytest.raises(IntegrityError), transaction.atomic():
        EditorialPickFactory(kind=WEEK, starts_on=days(0), ends_on=None)


def test_staff_edit_picks_and_awards_inline_on_the_release(client, django_user_model):
    staff_login(client, django_user_model.objects.create_superuser(email="ed@arkiv.example", password="a-long-pass"))
    release = ReleaseFactory()
    body = client.get(f"/admin/catalog/release/{release.pk}/change/").content.decode()
    assert "Editorial picks" in body and "Awards" in body
    assert client.get("/admin/catalog/editorialpick/").status_code == 200
    assert client.get("/admin/catalog/award/").status_code == 200


@pytest.mark.parametrize("url", ["/admin/catalog/editorialpick/", "/admin/catalog/award/add/"])
def test_non_staff_user_cannot_reach_the_editorial_admin(client, django_user_model, url):
    customer = django_user_model.objects.create_user(email="buyer@example.com", password="a-long-passphrase")
    client.force_login(customer)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "Editorial" not in response.content.decode()


def _release_form(client, release):
    """The release's admin change form as the page fills it in, inlines included."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self._select = {}, None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            name = attrs.get("name")
            if tag == "input" and name and attrs.get("type") not in {"submit", "checkbox"}:
                self.data[name] = attrs.get("value") or ""
            elif tag == "input" and name and "checked" in attrs:
                self.data[name] = "on"
            elif tag == "select" and name:
                self._select = name
                self.data.setdefault(name, "")
            elif tag == "option" and self._select and "selected" in attrs:
                self.data[self._select] = attrs.get("value", "")

        def handle_endtag(self, tag):
            if tag == "select":
                self._select = None

    fields = Fields()
    fields.feed(client.get(f"/admin/catalog/release/{release.pk}/change/").content.decode())
    return {k: v for k, v in fields.data.items() if "__prefix__" not in k}


def test_staff_record_an_award_and_a_pick_on_the_release_in_the_admin(client, django_user_model, symphony):
    staff_login(client, django_user_model.objects.create_superuser(email="ed@arkiv.example", password="a-long-pass"))
    release = make_recordings(symphony, 1)[0].release
    data = _release_form(client, release)
    data.update(
        {
            "notes": "",
            "awards-TOTAL_FORMS": "1",
            "awards-0-name": "Diapason d'Or",
            "awards-0-year": "2023",
            "awards-0-category": "",
            "picks-TOTAL_FORMS": "1",
            "picks-0-kind": "choice",
            "picks-0-starts_on": days(0).isoformat(),
            "picks-0-ends_on": "",
            "picks-0-blurb": "",
        }
    )
    response = client.post(f"/admin/catalog/release/{release.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]

    body = client.get(release.get_absolute_url()).content.decode()
    assert "Diapason d&#x27;Or 2023" in body and "Editor&#x27;s choice" in body


def test_admin_refuses_a_second_recording_of_the_week_for_the_same_days(client, django_user_model):
    staff_login(client, django_user_model.objects.create_superuser(email="ed@arkiv.example", password="a-long-pass"))
    EditorialPickFactory(kind=WEEK, release__title="This Week's Pick", starts_on=days(0), ends_on=days(6))
    release = ReleaseFactory()
    data = _release_form(client, release)
    data.update(
        {
            "picks-TOTAL_FORMS": "1",
            "picks-0-kind": "week",
            "picks-0-starts_on": days(3).isoformat(),
            "picks-0-ends_on": days(9).isoformat(),
            "picks-0-blurb": "",
        }
    )
    response = client.post(f"/admin/catalog/release/{release.pk}/change/", data)
    assert response.status_code == 200
    assert "This Week&#x27;s Pick is already the recording of the week" in response.content.decode()
    assert not release.picks.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_overlapping_weeks_at_once_leave_one(postgres):
    import threading

    releases = [ReleaseFactory(), ReleaseFactory()]
    checked = threading.Barrier(2)
    outcomes = [None, None]

    def save(i):
        try:
            with transaction.atomic():
                pick = EditorialPick(release=releases[i], kind=WEEK, starts_on=days(i), ends_on=days(i + 6))
                pick.full_clean()  # both pass: neither has saved yet
                checked.wait(timeout=30)
                pick.save()
            outcomes[i] = "saved"
        except IntegrityError:
            outcomes[i] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "saved"]
    assert EditorialPick.objects.filter(kind=WEEK).count() == 1

"""A visitor asks for alerts on a work page in a real browser: the emailed link opens a
page that changes nothing, its button confirms, a new recording of the work arrives and
the job sends one email."""

import re

import pytest
from django.core import mail
from django.core.management import call_command

from privacy import services
from privacy.models import Purpose
from tests.factories import RecordingFactory, ReleaseFactory, WorkFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_subscribes_on_a_work_page_confirms_and_gets_one_alert(page):
    work = WorkFactory(title="Symphony no. 5 in C minor")
    page.goto(work.get_absolute_url())
    form = page.locator("form.alert-subscribe")
    form.get_by_label("Your email for this alert").fill("collector@example.com")
    form.get_by_role("button", name="Tell me when a new recording of this work arrives").click()
    page.wait_for_selector(".alert-success")
    assert "collector@example.com" in page.locator(".alert-success").inner_text()

    [confirmation] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/alerts/confirm/\S+)", confirmation.body).group(1)
    page.goto(link)
    assert not services.consent_granted("collector@example.com", Purpose.ALERTS)  # opening it did nothing
    page.get_by_role("button", name="Yes, email me my alerts").click()
    page.wait_for_selector("#alerts-confirmed")
    assert services.consent_granted("collector@example.com", Purpose.ALERTS)

    RecordingFactory(work=work, release=ReleaseFactory(title="A new Fifth"))
    call_command("send_alerts")
    call_command("send_alerts")

    alerts = mail.outbox[1:]
    assert len(alerts) == 1
    assert alerts[0].to == ["collector@example.com"] and "A new Fifth" in alerts[0].body

"""Staff open the admin only with a second factor: a password and the code of an
authenticator app enrolled with `manage.py enrol_staff_totp`. Customers are never asked."""

import io
import re
from base64 import b32decode
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"


@pytest.fixture
def staff():
    return User.objects.create_user(email="fulfilment@arkiv.example", password=PASSWORD, is_staff=True, full_name="Fay")


def code_for(device):
    """What the staff member's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def admin_login(client, email, password, code=None):
    """Sign in on the admin's login page as a browser does: the password first; the page
    then offers the staff member's authenticator, and the code is sent with it."""
    data = {"username": email, "password": password, "next": "/admin/"}
    page = client.post("/admin/login/?next=/admin/", data)
    if code is None or page.status_code != 200:
        return page
    device = re.search(r'<option value="([^"]+)"', page.content.decode())
    data.update(otp_token=code, otp_device=device.group(1) if device else "")
    return client.post("/admin/login/?next=/admin/", data)


def opens_admin(client):
    return client.get("/admin/").status_code == 200


def test_staff_signed_in_with_a_password_only_cannot_open_the_admin(client, staff):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client.post("/account/sign-in/", {"username": staff.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(staff.pk)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not opens_admin(client)


def test_staff_without_an_enrolled_authenticator_cannot_sign_in_to_the_admin(client, staff):
    response = admin_login(client, staff.email, PASSWORD, code="123456")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "This staff account has no authenticator yet" in response.content.decode()
    assert not opens_admin(client)


def test_the_admin_asks_for_the_code_and_accepts_the_right_one(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    asked = admin_login(client, staff.email, PASSWORD)
    assert asked.status_code == 200 and "otp_token" in asked.content.decode()
    assert not opens_admin(client)
    signed_in = admin_login(client, staff.email, PASSWORD, code=code_for(device))
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_refuses_a_wrong_code(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = admin_login(client, staff.email, PASSWORD, code=wrong)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "That code is not right" in response.content.decode()
    assert not opens_admin(client)


def test_a_code_once_used_does_not_open_the_admin_again(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    code = code_for(device)
    assert admin_login(client, staff.email, PASSWORD, code=code).status_code == 302
    client.logout()
    assert admin_login(client, staff.email, PASSWORD, code=code).status_code == 200
    assert not opens_admin(client)


def test_password_and_code_can_be_sent_together(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    data = {"username": staff.email, "password": PASSWORD, "otp_token": code_for(device), "next": "/admin/"}
    assert client.post("/admin/login/?next=/admin/", data).status_code == 302
    assert opens_admin(client)


def test_another_staff_members_code_does_not_work(client, staff):
    other = User.objects.create_user(email="editor@arkiv.example", password=PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    others_device = TOTPDevice.objects.create(user=other, name="phone", confirmed=True)
    response = admin_login(client, staff.email, PASSWORD, code=code_for(others_device))
    assert response.status_code == 200 and not opens_admin(client)


def test_customers_sign_in_with_their_password_alone(client):
    customer = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    page = client.get("/account/sign-in/").content.decode()
    assert "otp" not in page.lower()
    response = client.post("/account/sign-in/", {"username": "clara@example.com", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(customer.pk)
    assert client.get("/account/").status_code == 200


def test_enrolling_prints_a_uri_and_qr_whose_codes_open_the_admin(client, staff):
    out = io.StringIO()
    call_command("enrol_staff_totp", "Fulfilment@Arkiv.example", stdout=out)
    printed = out.getvalue()
    uri = re.search(r"otpauth://totp/\S+", printed).group(0)
    assert "█" in printed or "▀" in printed  # the QR code, drawn in the terminal
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.path == "/Arkiv%3Afulfilment%40arkiv.example" and query["issuer"] == ["Arkiv"]
    device = TOTPDevice.objects.get(user=staff)
    assert b32decode(query["secret"][0]) == device.bin_key
    assert admin_login(client, staff.email, PASSWORD, code=code_for(device)).status_code == 302
    assert opens_admin(client)


def test_enrolling_refuses_customers_and_unknown_addresses(staff):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    with pytest.raises(CommandError, match="not an active staff account"):
        call_command("enrol_staff_totp", "clara@example.com", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No account"):
        call_command("enrol_staff_totp", "nobody@example.com", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()


def test_enrolling_again_needs_replace_and_retires_the_old_secret(staff):
    call_command("enrol_staff_totp", staff.email, stdout=io.StringIO())
    old_key = TOTPDevice.objects.get(user=staff).key
    with pytest.raises(CommandError, match="--replace"):
        call_command("enrol_staff_totp", staff.email, stdout=io.StringIO())
    call_command("enrol_staff_totp", staff.email, replace=True, stdout=io.StringIO())
    assert list(TOTPDevice.objects.filter(user=staff).values_list("key", flat=True)) != [old_key]
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_failed_admin_sign_ins_are_locked_out_like_the_shops(client, staff):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    for _ in range(4):
        assert admin_login(client, staff.email, "wrong-guess").status_code == 200
    locked = admin_login(client, staff.email, "wrong-guess")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert admin_login(client, staff.email, PASSWORD).status_code == 429

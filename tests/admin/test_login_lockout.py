"""django-axes on the admin and browsable-API logins: lockout after N failures, audited once.

The limit is `WORLDSERVICE_LOGIN_FAILURE_LIMIT` (default 5); these tests use the default.
"""

from __future__ import annotations

import io

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory
from worlds.audit import verify_chain
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
PASSWORD = "correct horse battery staple"  # noqa: S105 - a test user's password


@pytest.fixture
def admin_user():
    user = UserFactory(username="ada", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, password: str, path: str = "/admin/login/", username: str = "ada"):
    return client.post(path, {"username": username, "password": password, "next": "/admin/"})


def _lockouts():
    return WorldAuditLog.objects.filter(event="login_locked_out")


def test_admin_login__limit_of_failures__locked_out_429_and_one_audit_row(admin_user):
    client = Client(REMOTE_ADDR="10.1.1.1")

    answers = [_login(client, "wrong").status_code for _ in range(LIMIT)]

    # every failure but the last shows the form again; the last one locks the pair out
    assert answers == [200] * (LIMIT - 1) + [429]
    row = _lockouts().get()
    assert row.world_id == "" and row.actor == "ada"
    assert row.request == {"username": "ada", "ip_address": "10.1.1.1", "path": "/admin/login/"}
    assert row.result["failures"] == LIMIT and row.result["locked_until"]
    assert verify_chain(WorldAuditLog.objects.order_by("id")).ok


def test_admin_login__while_locked_out__right_password_refused_and_no_new_audit_row(admin_user):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(LIMIT):
        _login(client, "wrong")

    again = _login(client, "wrong")
    right = _login(client, PASSWORD)

    assert again.status_code == 429 and right.status_code == 429
    assert b"locked" in right.content.lower()
    assert _lockouts().count() == 1
    assert "_auth_user_id" not in client.session


def test_axes_reset__unlocks_at_once(admin_user):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(LIMIT):
        _login(client, "wrong")

    call_command("axes_reset", stdout=io.StringIO())
    response = _login(client, PASSWORD)

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


def test_admin_login__success_before_the_limit__failures_forgotten(admin_user):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(LIMIT - 1):
        _login(client, "wrong")

    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    answers = [_login(client, "wrong").status_code for _ in range(LIMIT - 1)]

    assert answers == [200] * (LIMIT - 1)
    assert not _lockouts().exists()


def test_admin_login__lockout_is_per_username_and_address(admin_user):
    for _ in range(LIMIT):
        _login(Client(REMOTE_ADDR="10.1.1.1"), "wrong")

    from_elsewhere = _login(Client(REMOTE_ADDR="10.2.2.2"), PASSWORD)

    assert from_elsewhere.status_code == 302


def test_browsable_api_login__locked_out_too(admin_user):
    client = Client(REMOTE_ADDR="10.1.1.1")

    answers = [_login(client, "wrong", "/api-auth/login/").status_code for _ in range(LIMIT)]

    assert answers[-1] == 429
    assert _lockouts().get().request["path"] == "/api-auth/login/"


def test_admin_login__nul_in_username__form_error_not_500(admin_user):
    response = _login(Client(REMOTE_ADDR="10.1.1.1"), "wrong", username="a\x00b")

    assert response.status_code == 200
    assert not _lockouts().exists()

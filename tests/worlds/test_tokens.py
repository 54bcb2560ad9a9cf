"""Bearer tokens: issued by the CLI, stored hashed, expiring and revocable."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory
from worlds.models import ApiToken, WorldAuditLog
from worlds.services.tokens import hash_token, issue_token, revoke_token

pytestmark = pytest.mark.django_db


def _client(secret: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def _issue(*args: str) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_issue_token_command__create_user_with_perm__token_works():
    secret = _issue("dana", "--create-user", "--perm", "worlds.add_world", "--ttl-days", "3")

    response = _client(secret).post("/worlds", {"id": "w1", "name": "x"}, format="json")

    assert response.status_code == 201
    token = ApiToken.objects.get(user__username="dana")
    assert token.key_hash == hash_token(secret)
    assert secret not in token.key_hash
    assert token.expires_at is not None
    assert WorldAuditLog.objects.filter(event="token_issued").exists()


def test_issue_token_command__superuser_and_group():
    _issue("root", "--create-user", "--superuser", "--group", "risk")

    user = ApiToken.objects.get(user__username="root").user
    assert user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["risk"]


def test_issue_token_command__unknown_user_without_create__error():
    with pytest.raises(CommandError):
        _issue("nobody")


def test_issue_token_command__bad_permission__error():
    with pytest.raises(CommandError):
        _issue("dana", "--create-user", "--perm", "nope")


def test_token_keyword__accepted_as_well_as_bearer():
    secret = _issue("dana", "--create-user")

    assert _client(secret, "Token").get("/worlds").status_code == 200


def test_expired_token__401():
    user = UserFactory()
    issued = issue_token(user=user, actor="t", ttl_days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert _client(issued.secret).get("/worlds").status_code == 401


def test_revoked_token__401_immediately_even_when_cached():
    user = UserFactory()
    issued = issue_token(user=user, actor="t")
    client = _client(issued.secret)
    assert client.get("/worlds").status_code == 200  # now cached

    revoke_token(token=issued.token, actor="admin")

    assert client.get("/worlds").status_code == 401
    assert WorldAuditLog.objects.filter(event="token_revoked").count() == 1


def test_inactive_user__401():
    user = UserFactory(is_active=False)

    assert _client(issue_token(user=user, actor="t").secret).get("/worlds").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_malformed_authorization_header__401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/worlds").status_code == 401

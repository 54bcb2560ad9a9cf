"""`Authorization: Bearer <token>` (or `Token <token>`) for DRF."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from worlds.hot_reads import AUTH_GENERATION, prefetch, prefetched
from worlds.principals import TokenUser
from worlds.services.tokens import UNKNOWN, cached_token_user, token_user
from worlds.throttling import FailedAuthenticationThrottle

KEYWORDS = (b"bearer", b"token")
INVALID_TOKEN = "The token is not valid, has expired or was revoked."  # noqa: S105


def bearer_secret(request: Any) -> str | None:
    """The token in the request's Authorization header; None when it names another scheme.

    A malformed bearer header raises `AuthenticationFailed` (401).
    """
    parts = _authorization_header(request).split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed("The token is not valid.") from exc


def _authorization_header(request: Any) -> bytes:
    """The Authorization header as bytes, as DRF's `get_authorization_header` gives it, read from
    META: `request.headers` would first build a map of every header, on every hot read."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    return header.encode(HTTP_HEADER_ENCODING) if isinstance(header, str) else header


def bearer_user(request: Any, secret: str, values: dict[str, Any]) -> TokenUser:
    """The valid token's user (ids and flags), with failed attempts throttled per address.

    A token the caches know to be valid is accepted without touching the throttle (the hot
    reads' path). Any other token is first checked against the address's failures (429 when
    it is over its rate), then looked up; a failure is counted before the 401. `values` is what
    the request's prefetch fetched (the auth generation).
    """
    generation = values.get(AUTH_GENERATION)
    found = cached_token_user(secret, generation=generation)
    if isinstance(found, TokenUser):
        return found  # the hot reads' path: no throttle is built or consulted
    throttle = FailedAuthenticationThrottle()
    throttle.check(request)
    if found is UNKNOWN:
        found = token_user(secret, generation=generation)
    if not isinstance(found, TokenUser):
        throttle.record_failure(request)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)
    return found


class BearerTokenAuthentication(BaseAuthentication):
    """Bearer tokens for the DRF views (`bearer_user`), answered with the user row itself."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        secret = bearer_secret(request)
        if secret is None:
            return None
        values = prefetched(request)
        if values is None:
            context = request.parser_context or {}
            world_id = (context.get("kwargs") or {}).get("world_id")
            values = prefetch(request, world_id)
        found = bearer_user(request, secret, values)
        user = _active_user(found.pk)
        if user is None:
            FailedAuthenticationThrottle().record_failure(request)
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return user, secret

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="worldservice"'


def _active_user(user_id: int) -> User | None:
    """The user row itself (the caches hold only ids and flags, never the password hash)."""
    return User.objects.filter(pk=user_id, is_active=True).first()

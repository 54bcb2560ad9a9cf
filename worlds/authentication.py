"""`Authorization: Bearer <token>` (or `Token <token>`) for DRF."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from worlds.hot_reads import AUTH_GENERATION, prefetch, prefetched
from worlds.services.tokens import user_for_token

KEYWORDS = (b"bearer", b"token")


def bearer_secret(request: Any) -> str | None:
    """The token in the request's Authorization header; None when it names another scheme.

    A malformed bearer header raises `AuthenticationFailed` (401).
    """
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed("The token is not valid.") from exc


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        secret = bearer_secret(request)
        if secret is None:
            return None
        values = prefetched(request)  # the hot path may have fetched them already
        if values is None:
            context = request.parser_context or {}
            world_id = (context.get("kwargs") or {}).get("world_id")
            values = prefetch(request, world_id)
        user = user_for_token(secret, generation=values.get(AUTH_GENERATION))
        if user is None:
            raise exceptions.AuthenticationFailed(
                "The token is not valid, has expired or was revoked."
            )
        return user, secret

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="worldservice"'

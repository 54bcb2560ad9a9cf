"""`Authorization: Bearer <token>` (or `Token <token>`) for DRF."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from worlds.hot_reads import AUTH_GENERATION, prefetch
from worlds.services.tokens import user_for_token

KEYWORDS = (b"bearer", b"token")


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.") from exc
        context = request.parser_context or {}
        world_id = (context.get("kwargs") or {}).get("world_id")
        view = context.get("view")
        prefetch_keys = getattr(view, "prefetch_keys", None)
        extra = prefetch_keys(world_id) if world_id and prefetch_keys else ()
        prefetch_read = getattr(view, "prefetch_read", None)
        queued = prefetch_read(world_id) if world_id and prefetch_read else None
        values = prefetch(request, world_id, extra, queued)
        user = user_for_token(secret, generation=values.get(AUTH_GENERATION))
        if user is None:
            raise exceptions.AuthenticationFailed(
                "The token is not valid, has expired or was revoked."
            )
        return user, secret

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="worldservice"'

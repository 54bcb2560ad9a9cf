"""Issuing, revoking and resolving API bearer tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from worlds.audit import record_audit
from worlds.hot_reads import AUTH_GENERATION, MISSING, LocalCopies, new_generation
from worlds.models import ApiToken
from worldservice.cache import cache_delete, cache_delete_many, cache_get, cache_set

LOCAL_TOKENS = LocalCopies()
TOKEN_PREFIX = "ws_"  # noqa: S105 - a marker that makes leaked tokens easy to grep for


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _cache_key(key_hash: str) -> str:
    return f"token:{key_hash}"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str


def issue_token(
    *, user: User, actor: str, name: str = "", ttl_days: int | None = None
) -> IssuedToken:
    """Create a token for `user`; the secret is returned once and only its hash is kept."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(days=ttl_days) if ttl_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_hash=hash_token(secret),
            prefix=secret[:10],
            expires_at=expires_at,
        )
        record_audit(
            event="token_issued",
            actor=actor,
            request={"user": user.get_username(), "name": name, "ttl_days": ttl_days},
            result={"token_id": token.pk, "prefix": token.prefix, "expires_at": expires_at},
        )
    return IssuedToken(token, secret)


def revoke_token(*, token: ApiToken, actor: str) -> ApiToken:
    """Revoke a token at once, in every process (the cached lookup is dropped)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_audit(
                event="token_revoked",
                actor=actor,
                request={"token_id": token.pk, "prefix": token.prefix},
                result={"revoked_at": token.revoked_at, "user": token.user.get_username()},
            )
    cache_delete(_cache_key(token.key_hash))
    LOCAL_TOKENS.discard(token.key_hash)
    new_generation(AUTH_GENERATION)
    return token


def forget_user_tokens(user_id: int) -> None:
    """Drop every cached lookup of the user's tokens, in every process (the user changed)."""
    keys = [
        _cache_key(key_hash)
        for key_hash in ApiToken.objects.filter(user_id=user_id).values_list("key_hash", flat=True)
    ]
    if not keys:
        return
    cache_delete_many(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache_delete_many(keys))  # a reader may re-cache meanwhile
    LOCAL_TOKENS.clear()
    new_generation(AUTH_GENERATION)


def user_for_token(secret: str, *, generation: Any = None) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to, else None.

    The answer is cached (in this process while the auth `generation` holds, and in the shared
    cache) so the Gateway's hot reads cost no database round trip; revocation starts a new
    generation and deletes the shared entry, and expiry is checked on every call.
    """
    key_hash = hash_token(secret)
    lifetime = int(settings.WORLDSERVICE["TOKEN_CACHE_SECONDS"])
    entry = LOCAL_TOKENS.get(key_hash, generation)
    if entry is MISSING:
        key = _cache_key(key_hash)
        entry = cache_get(key)
        if entry is None:
            token = (
                ApiToken.objects.select_related("user")
                .filter(key_hash=key_hash, revoked_at__isnull=True)
                .first()
            )
            entry = (token.user, token.expires_at) if token else (None, None)
            cache_set(key, entry, lifetime)
        LOCAL_TOKENS.put(key_hash, generation, entry, lifetime)
    user: User | None = entry[0]
    expires_at = entry[1]
    if user is None or not user.is_active:
        return None
    if expires_at is not None and expires_at <= timezone.now():
        return None
    return user

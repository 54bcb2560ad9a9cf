"""Issuing, revoking and resolving API bearer tokens."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from worlds.audit import record_audit
from worlds.hot_reads import AUTH_GENERATION, MISSING, LocalCopies, new_generation
from worlds.models import ApiToken
from worlds.principals import TokenUser
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


class RecentMisses:
    """Token hashes recently found invalid, in this process only: a bounded LRU.

    A client retrying a bad token is answered without a database query, while a flood of random
    tokens only pushes out the oldest misses: it never grows memory, never evicts the valid
    tokens' copies, and never reaches the shared cache (one Redis key per random token). The
    failed-authentication throttle (`worlds.authentication`) bounds how many misses an address
    can cause in the first place.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, Any]) -> bool:
        key_hash, generation = key
        with self._lock:
            entry = self._entries.get(key_hash)
            if entry is None or entry[0] != generation or entry[1] < time.monotonic():
                return False
            self._entries.move_to_end(key_hash)
            return True

    def add(self, key_hash: str, generation: Any, lifetime: float) -> None:
        if generation is None or lifetime <= 0:
            return
        with self._lock:
            self._entries[key_hash] = (generation, time.monotonic() + lifetime)
            self._entries.move_to_end(key_hash)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


RECENT_MISSES = RecentMisses()


class CacheAnswer(enum.Enum):
    UNKNOWN = "unknown"
    """Not in any cache: only the database can tell."""


UNKNOWN = CacheAnswer.UNKNOWN


def _entry(token: ApiToken, generation: Any) -> tuple[int, bool, bool, Any, Any]:
    """The shared cache's entry for a valid token: ids and flags only, tagged with the auth
    generation it was read under (an entry from an older generation is ignored)."""
    user = token.user
    return (user.pk, user.is_active, user.is_superuser, token.expires_at, generation)


def _usable(entry: Any, generation: Any) -> TokenUser | None:
    """The cached entry as a `TokenUser`, if it is valid now (active, unexpired)."""
    user_id, is_active, is_superuser, expires_at, _ = entry
    if not is_active or (expires_at is not None and expires_at <= timezone.now()):
        return None
    return TokenUser(pk=user_id, is_active=is_active, is_superuser=is_superuser)


def cached_token_user(secret: str, *, generation: Any) -> TokenUser | CacheAnswer | None:
    """What the caches know of a token, without a database query: its user, None (invalid),
    or `UNKNOWN`. The hot reads use this; only the full views go to the database."""
    key_hash = hash_token(secret)
    entry = LOCAL_TOKENS.get(key_hash, generation)
    if entry is MISSING:
        if (key_hash, generation) in RECENT_MISSES:
            return None
        entry = cache_get(_cache_key(key_hash))
        if not isinstance(entry, tuple) or len(entry) != 5:
            return UNKNOWN
        if generation is None or entry[4] != generation:
            return UNKNOWN  # cached before the last revocation or user change
        LOCAL_TOKENS.put(key_hash, generation, entry, _lifetime())
    return _usable(entry, generation)


def token_user(secret: str, *, generation: Any = None) -> TokenUser | None:
    """The user a valid, unexpired, unrevoked token of an active user belongs to, else None.

    The caches answer when they can (`cached_token_user`); otherwise one query reads the token
    and its user, and the answer is cached: a valid one in this process and in the shared cache
    (ids and flags only, never the user row), an invalid one in this process's recent misses.
    Revocation and user changes start a new auth generation, which retires both.
    """
    known = cached_token_user(secret, generation=generation)
    if known is not UNKNOWN:
        return known
    key_hash = hash_token(secret)
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .first()
    )
    if token is None:
        RECENT_MISSES.add(key_hash, generation, _lifetime())
        return None
    entry = _entry(token, generation)
    if generation is not None:
        cache_set(_cache_key(key_hash), entry, _lifetime())
    LOCAL_TOKENS.put(key_hash, generation, entry, _lifetime())
    return _usable(entry, generation)


def user_for_token(secret: str, *, generation: Any = None) -> User | None:
    """The `User` a valid token belongs to (its row read afresh; the caches never hold it)."""
    found = token_user(secret, generation=generation)
    if found is None:
        return None
    return User.objects.filter(pk=found.pk, is_active=True).first()


def _lifetime() -> int:
    return int(settings.WORLDSERVICE["TOKEN_CACHE_SECONDS"])

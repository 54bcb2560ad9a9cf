"""The Redis activation store (used whenever `REDIS_URL` is set).

Layout per world:

- `world:<id>:active` — hash, field `<strategy_id>|<side>` → stored entry JSON (leading
  `"version"` key, written by the script);
- `world:<id>:active:version` — the monotonic version counter (INCR);
- `world:<id>:active:hash` — `<version>|sha256:<hex>`, the set's hash at that version; every
  write deletes it in its atomic step and the writer puts it back, so a present hash is current.

plus one sorted set `activation:expiries` (member `<world>|<strategy>|<side>`, score the epoch
second of `expires_at`) from which the expiry task finds overrides to revert.

Every operation is one server-side Lua script (one round trip, atomic). Writes refuse to run
without the version counter: a missing counter means the world was never written (the recovery
code then creates it at 0) or Redis lost it (then the set is rebuilt from snapshots first).

Writes also carry a deadline (the moment the client stops waiting, on the wall clock): a write
that reaches Redis later, as one queued behind a paused Redis does, changes nothing. Otherwise a
write whose caller gave up (and rolled back its audit row) could still land when Redis resumed,
leaving a change nobody recorded. This relies on the hosts' clocks agreeing to well within the
Redis timeout (docs/operations.md#timeouts).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis
from django.conf import settings
from redis.commands.core import Script

from activation.entries import (
    Entry,
    Key,
    encode,
    field_name,
    key_of_field,
    normalize,
    now_text,
    parse_time,
    set_hash,
    version_in_etag,
)
from activation.redis_client import get_redis
from activation.store.base import (
    ActivationStore,
    Changes,
    EntryRead,
    EtagMismatch,
    Expected,
    HashState,
    SetState,
    StoreNotReady,
    WriteOutcome,
    check_expected,
    empty_set,
)
from activation.store.watermark import note_issued
from worldservice.api.errors import DependencyUnavailable
from worldservice.api.outages import REDIS, unavailable
from worldservice.metrics import registry_write_fail_total

logger = logging.getLogger(__name__)

KEY_PREFIX = "world:"
EXPIRIES_KEY = "activation:expiries"

READ_ONE = """
local v = redis.call('GET', KEYS[2])
if not v then return {false, false, false} end
return {redis.call('HGET', KEYS[1], ARGV[1]), v, redis.call('GET', KEYS[3])}
"""

READ_ALL = """
local v = redis.call('GET', KEYS[2])
if not v then return {false, {}, false} end
return {v, redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[3])}
"""

# KEYS: version, hash-cache.
READ_HASH = """
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
"""

# KEYS: version, hash-cache. ARGV: version, value. Sets the cached hash only if still current.
CACHE_HASH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0
"""

# KEYS: set, version, hash-cache, expiries. ARGV: world, n, then per change five values:
# field, body ('' deletes; else the entry JSON without "version"), expect ('' no check,
# '-' must be absent, else the version the entry must have), etag prefix, expiry epoch ('' none).
# Both writes end their ARGV with the deadline (epoch milliseconds); past it they answer {-2}.
TOO_LATE = """
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[#ARGV]) then
  return {-2}
end
"""

WRITE = (
    TOO_LATE
    + """
if not redis.call('GET', KEYS[2]) then return {-1} end
local n = tonumber(ARGV[2])
local before = {}
for i = 0, n - 1 do
  local b = 3 + i * 5
  local cur = redis.call('HGET', KEYS[1], ARGV[b])
  before[i + 1] = cur
  local expect = ARGV[b + 2]
  if expect ~= '' then
    local cv = false
    if cur then cv = string.match(cur, '^{"version":(%d+),') end
    if (expect == '-' and cur) or (expect ~= '-' and cv ~= expect) then
      local current = ''
      if cv then current = ARGV[b + 3] .. cv end
      return {0, ARGV[b], current}
    end
  end
end
local nv = redis.call('INCR', KEYS[2])
for i = 0, n - 1 do
  local b = 3 + i * 5
  local member = ARGV[1] .. '|' .. ARGV[b]
  if ARGV[b + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[b])
    redis.call('ZREM', KEYS[4], member)
  else
    redis.call('HSET', KEYS[1], ARGV[b], '{"version":' .. nv .. ',' .. string.sub(ARGV[b + 1], 2))
    if ARGV[b + 4] ~= '' then
      redis.call('ZADD', KEYS[4], ARGV[b + 4], member)
    else
      redis.call('ZREM', KEYS[4], member)
    end
  end
end
redis.call('DEL', KEYS[3])
return {1, nv, before, redis.call('HGETALL', KEYS[1])}
"""
)

# KEYS: set, version, hash-cache, expiries. ARGV: world, minimum version, n, then per entry
# field, body, expiry epoch. Replaces the whole set at one version above the counter.
REPLACE = (
    TOO_LATE
    + """
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
local nv = tonumber(ARGV[2])
if nv <= cur then nv = cur + 1 end
local before = redis.call('HGETALL', KEYS[1])
for i = 1, #before, 2 do redis.call('ZREM', KEYS[4], ARGV[1] .. '|' .. before[i]) end
redis.call('DEL', KEYS[1], KEYS[3])
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  local b = 4 + i * 3
  redis.call('HSET', KEYS[1], ARGV[b], '{"version":' .. nv .. ',' .. string.sub(ARGV[b + 1], 2))
  if ARGV[b + 2] ~= '' then
    redis.call('ZADD', KEYS[4], ARGV[b + 2], ARGV[1] .. '|' .. ARGV[b])
  end
end
redis.call('SET', KEYS[2], nv)
return {nv, before, redis.call('HGETALL', KEYS[1])}
"""
)


def set_key(world_id: str) -> str:
    return f"{KEY_PREFIX}{world_id}:active"


def version_key(world_id: str) -> str:
    return f"{KEY_PREFIX}{world_id}:active:version"


def hash_key(world_id: str) -> str:
    return f"{KEY_PREFIX}{world_id}:active:hash"


def _keys(world_id: str) -> list[str]:
    return [set_key(world_id), version_key(world_id), hash_key(world_id), EXPIRIES_KEY]


def _decode(value: str) -> Entry:
    entry: Entry = json.loads(value)
    return entry


def _decode_flat(flat: Sequence[str]) -> dict[Key, Entry]:
    return {key_of_field(flat[i]): _decode(flat[i + 1]) for i in range(0, len(flat), 2)}


def _cached_hash(raw: str | None, version: str) -> str | None:
    if not raw:
        return None
    cached_version, _, value = raw.partition("|")
    return value if cached_version == version else None


def _expiry_epoch(entry: Mapping[str, Any]) -> str:
    expires_at = entry.get("expires_at")
    return str(int(parse_time(str(expires_at)).timestamp())) if expires_at else ""


def _unavailable(exc: Exception) -> DependencyUnavailable:
    return unavailable(REDIS, "the activation store")


def _deadline() -> int:
    """When the client stops waiting for a write (epoch ms): later, the write must not land."""
    return int((time.time() + float(settings.WORLDSERVICE["REDIS_TIMEOUT_SECONDS"])) * 1000)


def _too_late(world_id: str) -> DependencyUnavailable:
    registry_write_fail_total.inc()
    logger.warning("an activation write for %s reached Redis after its deadline", world_id)
    return unavailable(REDIS, "the activation store")


def _expected_version(world_id: str, key: Key, expected: Expected | None) -> str:
    """The write script's precondition for one key: "" none, "-" absent, "x" an etag that names
    no version of this entry (always a mismatch), else the version the entry must hold."""
    if expected is None or key not in expected:
        return ""
    wanted = expected[key]
    if wanted is None:
        return "-"
    version = version_in_etag(world_id, key, wanted)
    return str(version) if version is not None else "x"


def _write_arguments(
    world_id: str, keys: list[Key], changes: Changes, expected: Expected | None
) -> list[str | int]:
    """ARGV of the write script: the world, the count, then five values per changed key."""
    ts = now_text()
    args: list[str | int] = [world_id, len(keys)]
    for key in keys:
        raw = changes[key]
        entry = normalize(raw, ts=ts) if raw is not None else None
        args += [
            field_name(key),
            encode(entry) if entry is not None else "",
            _expected_version(world_id, key, expected),
            f"act:{world_id}:{key[0]}:{key[1]}:",
            _expiry_epoch(entry) if entry is not None else "",
        ]
    return args


def _refuse_failed_write(world_id: str, reply: list[Any]) -> None:
    """Raise what the write script's status says went wrong (1 is success)."""
    status = int(reply[0])
    if status == -2:
        raise _too_late(world_id)
    if status == -1:
        raise StoreNotReady(world_id)
    if status == 0:
        raise EtagMismatch(world_id, key_of_field(reply[1]), reply[2] or None)


class RedisActivationStore(ActivationStore):
    name = "redis"

    def __init__(self, client: redis.Redis | None = None) -> None:
        self.client = client or get_redis()
        self._read_one: Script = self.client.register_script(READ_ONE)
        self._read_all: Script = self.client.register_script(READ_ALL)
        self._read_hash: Script = self.client.register_script(READ_HASH)
        self._cache_hash: Script = self.client.register_script(CACHE_HASH)
        self._write: Script = self.client.register_script(WRITE)
        self._replace: Script = self.client.register_script(REPLACE)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, world_id: str, strategy_id: str, side: str) -> EntryRead:
        try:
            result = self._read_one(
                keys=[set_key(world_id), version_key(world_id), hash_key(world_id)],
                args=[f"{strategy_id}|{side}"],
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc
        return self.entry_read(result)

    @staticmethod
    def read_keys(world_id: str) -> tuple[str, ...]:
        """The keys an entry read depends on (a change to any of them may change it)."""
        return set_key(world_id), version_key(world_id), hash_key(world_id)

    def queue_get(self, pipe: Any, world_id: str, strategy_id: str, side: str) -> None:
        """Queue `get` on another client's pipeline (the hot read's single round trip);
        decode its result with `entry_read`."""
        pipe.eval(
            READ_ONE,
            3,
            set_key(world_id),
            version_key(world_id),
            hash_key(world_id),
            f"{strategy_id}|{side}",
        )

    @staticmethod
    def entry_read(result: Sequence[Any]) -> EntryRead:
        raw, version, cached = (v.decode() if isinstance(v, bytes) else v for v in result)
        if version is None:
            return EntryRead(None, 0, None, ready=False)
        return EntryRead(
            _decode(raw) if raw is not None else None, int(version), _cached_hash(cached, version)
        )

    def get_all(self, world_id: str) -> SetState:
        try:
            version, flat, cached = self._read_all(
                keys=[set_key(world_id), version_key(world_id), hash_key(world_id)]
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc
        if version is None:
            return empty_set(world_id)
        entries = _decode_flat(flat)
        state_hash = _cached_hash(cached, version)
        if state_hash is None:
            state_hash = set_hash(world_id, entries)
            self._remember_hash(world_id, int(version), state_hash)
        return SetState(world_id, int(version), entries, state_hash)

    def hash_state(self, world_id: str) -> HashState:
        try:
            version, cached = self._read_hash(keys=[version_key(world_id), hash_key(world_id)])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc
        if version is None:
            return HashState(set_hash(world_id, {}), 0, ready=False)
        state_hash = _cached_hash(cached, version)
        if state_hash is not None:
            return HashState(state_hash, int(version))
        state = self.get_all(world_id)
        return HashState(state.state_hash, state.version, state.ready)

    def is_ready(self, world_id: str) -> bool:
        try:
            return bool(self.client.exists(version_key(world_id)))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc

    def due_expiries(self, now: str, limit: int = 1000) -> list[tuple[str, Key]]:
        epoch = int(parse_time(now).timestamp())
        try:
            members = self.client.zrangebyscore(EXPIRIES_KEY, "-inf", epoch, start=0, num=limit)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc
        due = []
        for member in members:
            world_id, _, field = str(member).partition("|")
            due.append((world_id, key_of_field(field)))
        return due

    # -- writes --------------------------------------------------------------------------------

    def initialize(self, world_id: str) -> None:
        try:
            self.client.set(version_key(world_id), 0, nx=True)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc

    def apply_changes(
        self, world_id: str, changes: Changes, *, expected: Expected | None = None
    ) -> WriteOutcome:
        check_expected(changes, expected)
        keys = sorted(changes)
        args = _write_arguments(world_id, keys, changes, expected)
        try:
            reply = self._write(keys=_keys(world_id), args=[*args, _deadline()])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            registry_write_fail_total.inc()
            raise _unavailable(exc) from exc
        _refuse_failed_write(world_id, reply)
        version = int(reply[1])
        note_issued(world_id, version)
        entries = _decode_flat(reply[3])
        state_hash = set_hash(world_id, entries)
        self._remember_hash(world_id, version, state_hash)
        before = {
            key: (_decode(value) if value is not None else None)
            for key, value in zip(keys, reply[2], strict=True)
        }
        after = {key: entries.get(key) for key in keys}
        return WriteOutcome(world_id, version, before, after, entries, state_hash)

    def replace_all(
        self, world_id: str, entries: Mapping[Key, Mapping[str, object]], *, min_version: int
    ) -> WriteOutcome:
        ts = now_text()
        keys = sorted(entries)
        args: list[str | int] = [world_id, min_version, len(keys)]
        for key in keys:
            raw = entries[key]
            entry = normalize(raw, ts=ts)
            args += [field_name(key), encode(entry), _expiry_epoch(entry)]
        try:
            reply = self._replace(keys=_keys(world_id), args=[*args, _deadline()])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            registry_write_fail_total.inc()
            raise _unavailable(exc) from exc
        if int(reply[0]) == -2:
            raise _too_late(world_id)
        version, flat_before, flat_after = reply
        version = int(version)
        note_issued(world_id, version)
        before_all = _decode_flat(flat_before)
        after_all = _decode_flat(flat_after)
        state_hash = set_hash(world_id, after_all)
        self._remember_hash(world_id, version, state_hash)
        return WriteOutcome.between(world_id, version, before_all, after_all, state_hash)

    def _remember_hash(self, world_id: str, version: int, state_hash: str) -> None:
        # Only a cache: when Redis refuses, the next reader computes the hash again.
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
            self._cache_hash(
                keys=[version_key(world_id), hash_key(world_id)],
                args=[str(version), f"{version}|{state_hash}"],
            )

"""One factory for WorldService's own settings.

The server, the CLI and the tests all build their configuration here, from the environment, so a
switch such as `compat_rebalance_v2` means the same thing everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# A world's `approvals_required` is 0-5 (docs/contract.md#worlds), so a higher floor would forbid
# every world.
MAX_APPROVALS = 5


RATE_PATTERN = re.compile(r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$")
DOTTED_PATH_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
DEFAULT_ALLOCATION_EXECUTOR = "rebalancing.allocation.executors.GatewayHandoff"


class ConfigError(ValueError):
    """An environment variable holds a value WorldService cannot use."""


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be a boolean word (true/false), got {raw!r}")


def env_int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def env_ms(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> float:
    """A duration given in whole milliseconds, as seconds."""
    return env_int(env, name, default, minimum=minimum) / 1000


def env_rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A throttle rate in DRF's notation: `<count>/<period>` (`20/min`, `5/s`, `1000/hour`)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    rate = raw.strip()
    if not RATE_PATTERN.match(rate):
        raise ConfigError(f"{name} must look like 20/min (count/s|min|hour|day), got {raw!r}")
    return rate


def env_dotted_path(env: Mapping[str, str], name: str, default: str) -> str:
    """The dotted import path of a class (imported when first used, once the apps are ready)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    path = raw.strip()
    if not DOTTED_PATH_PATTERN.match(path):
        raise ConfigError(f"{name} must be a dotted path such as package.module.Class, got {raw!r}")
    return path


@dataclass(frozen=True, slots=True)
class WorldServiceConfig:
    compat_rebalance_v2: bool = False
    alpha_metrics_required: bool = False
    apply_wait_seconds: int = 10
    apply_timeout_seconds: int = 60
    event_stream: str = "worldservice.events"
    # How far back the relay re-publishes when the stream lost entries (docs/events.md).
    stream_republish_window_seconds: int = 86_400
    max_body_bytes: int = 1024 * 1024
    token_cache_seconds: int = 30
    # The floor under every world's `approvals_required` (docs/api.md, governed world changes).
    min_approvals: int = 0
    # Bounds and throttles (docs/api.md "Limits" and "Throttling").
    max_strategies: int = 20_000
    throttle_auth_failures: str = "30/min"
    throttle_writes: str = "1200/min"
    login_failure_limit: int = 5
    login_cooloff_seconds: int = 900
    trusted_proxies: int = 0
    # A testing knob: pause after each apply stage so fault tests can kill a worker mid-apply.
    apply_stage_delay_seconds: float = 0.0
    # Dependency timeouts (docs/operations.md#timeouts): a hung dependency costs a request at
    # most about its timeout, never the 24-28 s that redis-py's default retries add up to.
    redis_connect_timeout_seconds: float = 0.5
    redis_timeout_seconds: float = 1.0
    redis_max_connections: int = 50
    redis_retry_after_seconds: float = 2.0
    broker_timeout_seconds: float = 2.0
    db_connect_timeout_seconds: int = 3
    db_statement_timeout_ms: int = 10_000
    # Connection pooling (docs/deployment.md, "PostgreSQL connections").
    db_pool_size: int = 0
    db_behind_pgbouncer: bool = False
    # What carries out `POST /allocations` with `execute: true` (docs/rebalancing.md).
    allocation_executor: str = DEFAULT_ALLOCATION_EXECUTOR

    def as_settings(self) -> dict[str, Any]:
        """The `settings.WORLDSERVICE` mapping (upper-case keys, as Django settings are)."""
        return {
            "COMPAT_REBALANCE_V2": self.compat_rebalance_v2,
            "ALPHA_METRICS_REQUIRED": self.alpha_metrics_required,
            "APPLY_WAIT_SECONDS": self.apply_wait_seconds,
            "APPLY_TIMEOUT_SECONDS": self.apply_timeout_seconds,
            "EVENT_STREAM": self.event_stream,
            "STREAM_REPUBLISH_WINDOW_SECONDS": self.stream_republish_window_seconds,
            "MAX_BODY_BYTES": self.max_body_bytes,
            "TOKEN_CACHE_SECONDS": self.token_cache_seconds,
            "MIN_APPROVALS": self.min_approvals,
            "MAX_STRATEGIES": self.max_strategies,
            "THROTTLE_AUTH_FAILURES": self.throttle_auth_failures,
            "THROTTLE_WRITES": self.throttle_writes,
            "LOGIN_FAILURE_LIMIT": self.login_failure_limit,
            "LOGIN_COOLOFF_SECONDS": self.login_cooloff_seconds,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "APPLY_STAGE_DELAY_SECONDS": self.apply_stage_delay_seconds,
            "REDIS_CONNECT_TIMEOUT_SECONDS": self.redis_connect_timeout_seconds,
            "REDIS_TIMEOUT_SECONDS": self.redis_timeout_seconds,
            "REDIS_MAX_CONNECTIONS": self.redis_max_connections,
            "REDIS_RETRY_AFTER_SECONDS": self.redis_retry_after_seconds,
            "BROKER_TIMEOUT_SECONDS": self.broker_timeout_seconds,
            "DB_CONNECT_TIMEOUT_SECONDS": self.db_connect_timeout_seconds,
            "DB_STATEMENT_TIMEOUT_MS": self.db_statement_timeout_ms,
            "DB_POOL_SIZE": self.db_pool_size,
            "DB_BEHIND_PGBOUNCER": self.db_behind_pgbouncer,
            "ALLOCATION_EXECUTOR": self.allocation_executor,
        }


def load_config(env: Mapping[str, str] | None = None) -> WorldServiceConfig:
    """Build the WorldService configuration from environment variables."""
    env = os.environ if env is None else env
    return WorldServiceConfig(
        compat_rebalance_v2=env_bool(env, "WORLDSERVICE_COMPAT_REBALANCE_V2"),
        alpha_metrics_required=env_bool(env, "WORLDSERVICE_ALPHA_METRICS_REQUIRED"),
        apply_wait_seconds=env_int(env, "WORLDSERVICE_APPLY_WAIT_SECONDS", 10),
        apply_timeout_seconds=env_int(env, "WORLDSERVICE_APPLY_TIMEOUT_SECONDS", 60, minimum=1),
        event_stream=env.get("WORLDSERVICE_EVENT_STREAM", "worldservice.events"),
        stream_republish_window_seconds=env_int(
            env, "WORLDSERVICE_STREAM_REPUBLISH_WINDOW_SECONDS", 86_400, minimum=0
        ),
        max_body_bytes=env_int(env, "WORLDSERVICE_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
        token_cache_seconds=env_int(env, "WORLDSERVICE_TOKEN_CACHE_SECONDS", 30),
        min_approvals=env_int(env, "WORLDSERVICE_MIN_APPROVALS", 0, maximum=MAX_APPROVALS),
        max_strategies=env_int(env, "WORLDSERVICE_MAX_STRATEGIES", 20_000, minimum=1),
        throttle_auth_failures=env_rate(env, "WORLDSERVICE_THROTTLE_AUTH_FAILURES", "30/min"),
        throttle_writes=env_rate(env, "WORLDSERVICE_THROTTLE_WRITES", "1200/min"),
        login_failure_limit=env_int(env, "WORLDSERVICE_LOGIN_FAILURE_LIMIT", 5, minimum=1),
        login_cooloff_seconds=env_int(env, "WORLDSERVICE_LOGIN_COOLOFF_SECONDS", 900, minimum=1),
        trusted_proxies=env_int(env, "WORLDSERVICE_TRUSTED_PROXIES", 0),
        apply_stage_delay_seconds=float(env_int(env, "WORLDSERVICE_APPLY_STAGE_DELAY_MS", 0))
        / 1000,
        redis_connect_timeout_seconds=env_ms(env, "WORLDSERVICE_REDIS_CONNECT_TIMEOUT_MS", 500),
        redis_timeout_seconds=env_ms(env, "WORLDSERVICE_REDIS_TIMEOUT_MS", 1000),
        redis_max_connections=env_int(env, "WORLDSERVICE_REDIS_MAX_CONNECTIONS", 50, minimum=2),
        redis_retry_after_seconds=env_ms(env, "WORLDSERVICE_REDIS_RETRY_AFTER_MS", 2000),
        broker_timeout_seconds=env_ms(env, "WORLDSERVICE_BROKER_TIMEOUT_MS", 2000),
        db_connect_timeout_seconds=env_int(
            env, "WORLDSERVICE_DB_CONNECT_TIMEOUT_SECONDS", 3, minimum=1
        ),
        db_statement_timeout_ms=env_int(env, "WORLDSERVICE_DB_STATEMENT_TIMEOUT_MS", 10_000),
        db_pool_size=env_int(env, "WORLDSERVICE_DB_POOL_SIZE", 0),
        db_behind_pgbouncer=env_bool(env, "WORLDSERVICE_DB_BEHIND_PGBOUNCER"),
        allocation_executor=env_dotted_path(
            env, "WORLDSERVICE_ALLOCATION_EXECUTOR", DEFAULT_ALLOCATION_EXECUTOR
        ),
    )

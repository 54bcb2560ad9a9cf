"""Throttles on the token API (docs/api.md, "Throttling"), built on DRF's rate throttles.

- Failed token authentications, per client address (`WORLDSERVICE_THROTTLE_AUTH_FAILURES`):
  once an address is over its rate, its requests get 429 before their token is looked up.
  Requests whose token the caches already know to be valid never consult it, so the
  Gateway's hot reads cost nothing more.
- Writes per user (`WORLDSERVICE_THROTTLE_WRITES`): POST, PUT, PATCH and DELETE; reads are
  never counted.

Both answer 429 with `Retry-After` and the usual error body (code `throttled`). The history of
each key lives in the shared cache; when it cannot be reached the throttles let requests
through (an outage must not turn into refusals).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from worldservice.cache import cache_get, cache_set
from worldservice.client_address import client_address


class _FailOpenCache:
    """The shared cache as the throttles use it; an outage reads as an empty history."""

    def get(self, key: str, default: Any = None) -> Any:
        value = cache_get(key)
        return default if value is None else value

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        cache_set(key, value, timeout)


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """Failed token authentications per client address."""

    scope = "auth_failures"
    cache = _FailOpenCache()  # type: ignore[assignment]
    num_requests: int  # set from the rate by SimpleRateThrottle.__init__
    duration: int

    def get_rate(self) -> str:
        return str(settings.WORLDSERVICE["THROTTLE_AUTH_FAILURES"])

    def get_cache_key(self, request: Any, view: Any) -> str:
        address = client_address(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": address}

    def check(self, request: HttpRequest | Request) -> None:
        """Raise 429 when the address is over its rate of failures (nothing is recorded)."""
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            wait = self.wait()
            raise Throttled(
                wait=wait,
                detail="Too many failed authentications from this address; try again later.",
            )

    def record_failure(self, request: HttpRequest | Request) -> None:
        """Count one failure for the address."""
        self.check(request)
        self.throttle_success()


class WriteRateThrottle(UserRateThrottle):
    """Writes per user; reads pass without touching the cache."""

    scope = "writes"
    cache = _FailOpenCache()  # type: ignore[assignment]

    def get_rate(self) -> str:
        return str(settings.WORLDSERVICE["THROTTLE_WRITES"])

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

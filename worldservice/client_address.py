"""Who is calling: the client's IP address, under the trusted-proxy rule (docs/api.md,
"Throttling"). One rule for the throttles, django-axes and the request logs, so all three name
the same client."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest | Request) -> str | None:
    """The caller's IP address: `REMOTE_ADDR`, or the `X-Forwarded-For` entry added by the last
    of `WORLDSERVICE_TRUSTED_PROXIES` proxies (DRF's `NUM_PROXIES` rule); None when there is no
    valid one."""
    # `get_ident` reads only `request.META`, which a Django request has as well.
    raw = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None

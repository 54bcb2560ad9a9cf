"""django-csp's middleware, with the policy of a plain answer built once per process.

django-csp builds the policy string twice for every response (the policy and the report-only
one), about 40 µs: a tenth of a hot decide read. An answer that used no nonce and whose view
changed nothing (`csp_update`, `csp_replace`, `csp_exempt`, ...) gets the same policy every
time, so it is built once here; every other answer goes through django-csp unchanged.
"""

from __future__ import annotations

from functools import cached_property

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What django-csp's decorators put on a response.
PER_RESPONSE = tuple(
    f"_csp_{part}{suffix}"
    for part in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


class CSPMiddleware(DjangoCSPMiddleware):
    @cached_property
    def _plain_policies(self) -> tuple[str, str]:
        return build_policy(), build_policy(report_only=True)

    @cached_property
    def _excluded_prefixes(self) -> tuple[str, ...]:
        prefixes: set[str] = set()
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
            prefixes.update((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", ()))
        return tuple(prefixes)

    def _needs_django_csp(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Whether this answer's policy may differ from the plain one (so django-csp builds it)."""
        excluded = self._excluded_prefixes
        return (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in PER_RESPONSE)
            or bool(excluded and request.path_info.startswith(excluded))
        )

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if self._needs_django_csp(request, response):
            return super().process_response(request, response)
        for header, policy in zip((HEADER, HEADER_REPORT_ONLY), self._plain_policies, strict=True):
            if policy and header not in response:
                response[header] = policy
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response

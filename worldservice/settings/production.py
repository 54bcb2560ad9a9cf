"""Production settings: the base settings plus HTTPS-only cookies, HSTS and the HTTPS redirect.

Chosen with `DJANGO_SETTINGS_MODULE=worldservice.settings.production` (see
docs/operations.md#production-settings). Unlike the base settings, nothing falls back to a
default here: the secret key and the allowed hosts must be given, and debug mode is refused.
`python manage.py check --deploy` is clean under these settings (bin/test checks it).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from worldservice.config import env_bool, env_int
from worldservice.logs import log_format, logging_config
from worldservice.settings import *  # noqa: F403 - the base settings, then what production changes
from worldservice.settings import DEBUG


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set with the production settings")
    return value


def _listed(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off with the production settings")

SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = _listed(_required("DJANGO_ALLOWED_HOSTS"))
CSRF_TRUSTED_ORIGINS = _listed(os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", ""))

# HTTPS only. Behind a proxy that terminates TLS, Django sees plain HTTP; it trusts the proxy's
# `X-Forwarded-Proto: https` only when told to, because a client could send that header itself
# unless the proxy overwrites it.
SECURE_SSL_REDIRECT = env_bool(os.environ, "DJANGO_SECURE_SSL_REDIRECT", default=True)
if env_bool(os.environ, "DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes from inside the network may use plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int(os.environ, "DJANGO_SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    os.environ, "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env_bool(os.environ, "DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# JSON log lines, and the request lines (INFO), unless the environment says otherwise.
LOGGING = logging_config(
    log_format(os.environ, default="json"), os.environ.get("DJANGO_LOG_LEVEL", "INFO")
)

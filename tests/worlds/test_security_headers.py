"""Security headers on every answer, the docs pages under the CSP, and the production settings."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from django.test import Client

from tests.faults.conftest import REPO_ROOT
from tests.processes import subprocess_env

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
SRC = re.compile(r'\bsrc="([^"]*)"')
NONCE = re.compile(r'\bnonce="([^"]*)"')


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize("path", ["/healthz", "/worlds", "/admin/login/", "/docs/", "/redoc/"])
def test_security_headers__every_route__csp_permissions_policy_and_friends(path):
    response = Client().get(path)

    _assert_strict_csp(_directives(response))
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def _assert_strict_csp(csp):
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive]


def test_security_headers__plain_pages__no_nonce_in_the_policy():
    csp = _directives(Client().get("/admin/login/"))

    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/docs/", "/redoc/"])
def test_docs_pages__every_script_and_style__carries_the_nonce_or_is_same_origin(path):
    response = Client().get(path)
    body = response.content.decode()
    csp = _directives(response)

    nonces = {value for value in csp["script-src"] if value.startswith("'nonce-")}
    assert len(nonces) == 1 and csp["style-src"] == csp["script-src"]
    nonce = nonces.pop()[len("'nonce-") : -1]
    _assert_scripts_same_origin_with_nonce(SCRIPT_TAG.findall(body), nonce)
    for attributes in STYLE_TAG.findall(body):
        assert NONCE.search(attributes).group(1) == nonce
    assert "fonts.googleapis.com" not in body and ' style="' not in body


def _assert_scripts_same_origin_with_nonce(scripts, nonce):
    assert scripts
    for attributes in scripts:
        src = SRC.search(attributes)
        # Same origin: the sidecar's files, or the split Swagger view's own `?script` URL.
        assert src is None or (
            src.group(1).startswith("/") and not src.group(1).startswith("//")
        ), attributes
        assert NONCE.search(attributes) and NONCE.search(attributes).group(1) == nonce, attributes


def test_docs_pages__nonce__new_for_every_request():
    first = _directives(Client().get("/docs/"))["script-src"]
    second = _directives(Client().get("/docs/"))["script-src"]

    assert first != second


def test_admin_login__no_inline_script_or_style():
    body = Client().get("/admin/login/").content.decode()

    assert all(SRC.search(attributes) for attributes in SCRIPT_TAG.findall(body))
    assert not STYLE_TAG.findall(body) and ' style="' not in body


PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.test import Client
    client = Client()
    out = {}
    for name, path, extra in (
        ("plain", "/worlds", {}),
        ("forwarded", "/worlds", {"HTTP_X_FORWARDED_PROTO": "https"}),
        ("probe", "/healthz", {}),
        ("secure", "/worlds", {"secure": True}),
    ):
        r = client.get(path, HTTP_HOST="ws.example.com", **extra)
        out[name] = [r.status_code, r.get("Location"), r.get("Strict-Transport-Security")]
    from django.conf import settings
    out["cookies"] = [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE]
    print(json.dumps(out))
    """
)


def _production(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "DJANGO_SETTINGS_MODULE": "worldservice.settings.production",
        "DJANGO_SECRET_KEY": "production-settings-test-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "ws.example.com",
        "DJANGO_DEBUG": "false",
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env=subprocess_env({**base, **env}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings__plain_http__redirected_to_https_with_hsts():
    import json

    result = _production()

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["plain"][:2] == [301, "https://ws.example.com/worlds"]
    # X-Forwarded-Proto is not trusted unless the deployment says its proxy sets it.
    assert out["forwarded"][0] == 301
    assert out["probe"][0] == 200  # load-balancer probes may use plain HTTP
    assert out["secure"][0] == 401
    assert out["secure"][2] == "max-age=31536000; includeSubDomains; preload"
    assert out["cookies"] == [True, True]


def test_production_settings__behind_a_proxy__x_forwarded_proto_honoured():
    import json

    result = _production(DJANGO_TRUST_X_FORWARDED_PROTO="true")

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["forwarded"][0] == 401 and out["forwarded"][2].startswith("max-age=")
    assert out["plain"][0] == 301


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
    ],
)
def test_production_settings__missing_or_unsafe_value__refuses_to_start(env, message):
    result = _production(**env)

    assert result.returncode != 0
    assert message in result.stderr

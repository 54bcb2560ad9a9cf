"""Static files as production serves them: `collectstatic` with hashed names, served by WhiteNoise
from the application itself, also under gunicorn with DEBUG off.

The rest of the suite renders pages without a manifest (tests/conftest.py); this module collects
once, with the production storage, and renders the pages against it, so a template naming a
static file that does not exist fails here.
"""

from __future__ import annotations

import http.client
import importlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.factories import UserFactory
from tests.processes import START_TIMEOUT_SECONDS, free_port, stop_process, subprocess_env
from tests.site.html import PageParts

HASHED_ADMIN_CSS = re.compile(r"/static/admin/css/base\.[0-9a-f]{12}\.css")
PROJECT_SETTINGS = importlib.import_module("worldservice.settings")


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A var dir whose `static/` holds a production `collectstatic`, in force for the module."""
    var = tmp_path_factory.mktemp("var")
    settings = override_settings(STATIC_ROOT=var / "static", STORAGES=PROJECT_SETTINGS.STORAGES)
    settings.enable()
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
        yield var
    finally:
        settings.disable()


def _read(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_collectstatic__hashed_names_and_gzip_copies(var_dir):
    static = var_dir / "static"

    assert (static / "staticfiles.json").exists()
    assert list(static.glob("admin/css/base.*.css.gz"))
    assert list(static.glob("worldservice/favicon.*.ico"))


def test_admin_css__hashed_url_served_compressed_and_cached_for_good(var_dir):
    page = Client().get("/admin/login/").content.decode()
    css_url = HASHED_ADMIN_CSS.search(page).group(0)

    response = Client().get(css_url, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert len(_read(response)) > 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/docs/",
        "/redoc/",
        "/admin/",
        "/admin/no/such/page/",
        "/admin/worlds/worldauditlog/",
        "/admin/worlds/worldauditlog/verify/",
        "/admin/worlds/worldauditlog/live-at/",
        "/admin/activation/activationcounter/console/alpha/",
    ],
)
def test_pages__render_with_hashed_static_urls_only(var_dir, world, path):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get(path)

    assert response.status_code in (200, 404)
    static_urls = [url for url in PageParts(response.content.decode()).urls if "/static/" in url]
    assert static_urls
    assert all(re.search(r"\.[0-9a-f]{12}\.[a-z]+$", url) for url in static_urls), static_urls


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.django_db
def test_gunicorn_with_debug_off__serves_the_admin_styled(var_dir):
    port = free_port()
    env = subprocess_env({"DJANGO_DEBUG": "0", "WORLDSERVICE_VAR_DIR": str(var_dir)})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "worldservice.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                status, _, page = _get(port, "/admin/login/")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        css_status, css_headers, css = _get(port, HASHED_ADMIN_CSS.search(page.decode()).group(0))
        icon_status, icon_headers, _ = _get(port, "/favicon.ico")
    finally:
        stop_process(process)

    assert status == 200
    assert (css_status, css_headers["Content-Type"].split(";")[0]) == (200, "text/css")
    assert b"--body-bg" in css  # the admin's own stylesheet
    assert (icon_status, icon_headers["Content-Type"]) == (200, "image/x-icon")

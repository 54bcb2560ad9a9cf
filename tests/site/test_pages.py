"""No dead ends: error pages, the landing page, the favicon, the API docs, beat's admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from activation.services.overrides import override_activation
from tests.factories import UserFactory
from tests.site.html import PageParts
from worldservice.error_pages import handler500

pytestmark = pytest.mark.django_db


def _login(**fields) -> Client:
    user = UserFactory(**fields)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff() -> Client:
    return _login(username="stella", is_staff=True)


@pytest.fixture
def superuser() -> Client:
    return _login(username="root", is_staff=True, is_superuser=True)


def test_admin_404__an_admin_page_not_json(staff):
    response = staff.get("/admin/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "WorldService administration" in page and "Page not found" in page
    assert "There is nothing at this address." in page


def test_admin_403__an_admin_page_not_json(staff):
    response = staff.get("/admin/worlds/worldauditlog/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "Permission denied" in response.content.decode()


def test_admin_500__an_admin_page_not_json(db):
    response = handler500(RequestFactory().get("/admin/worlds/world/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Server error" in response.content.decode()


def test_api_errors__keep_their_json_bodies(client_for, owner):
    response = client_for(owner).get("/no/such/route")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert handler500(RequestFactory().get("/worlds")).status_code == 500
    assert handler500(RequestFactory().get("/worlds"))["Content-Type"] == "application/json"


def test_landing__links_admin_docs_and_health_checks():
    response = Client().get("/")

    assert response.status_code == 200
    urls = PageParts(response.content.decode()).urls
    for target in ("/admin/", "/docs/", "/redoc/", "/healthz", "/readyz", "/metrics"):
        assert target in urls


def test_admin__view_site__leads_to_the_landing_page(staff):
    page = PageParts(staff.get("/admin/").content.decode())

    assert "/" in page.urls
    assert Client().get("/").status_code == 200


def test_favicon__served_and_linked_from_admin_and_landing(staff):
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # ICO header
    for page in (staff.get("/admin/"), Client().get("/"), Client().get("/docs/")):
        assert "/static/worldservice/favicon.ico" in page.content.decode()


@pytest.mark.parametrize("path", ["/docs/", "/redoc/"])
def test_api_docs__load_nothing_from_another_host_and_nothing_inline(path):
    response = Client().get(path)

    assert response.status_code == 200
    page = PageParts(response.content.decode())
    assert page.urls and all(url.startswith("/") for url in page.urls), page.urls
    assert page.inline == []
    assert "fonts.googleapis.com" not in response.content.decode()


def test_swagger__start_up_script__no_other_host_and_no_validator():
    html = Client().get("/docs/").content.decode()
    script_url = next(url for url in PageParts(html).urls if "script" in url)

    script = Client().get(script_url)

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert "http://" not in body and "https://" not in body
    assert '"validatorUrl": null' in body


@pytest.mark.parametrize("path", ["/", "/admin/", "/admin/no/such/page/"])
def test_pages__no_inline_script_or_style(superuser, path):
    page = PageParts(superuser.get(path).content.decode())

    assert page.inline == []


def test_beat_admin__hidden_from_staff_even_with_its_permissions(superuser):
    staff_user = UserFactory(username="bea", is_staff=True)
    staff_user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="django_celery_beat")
    )
    staff = Client()
    staff.force_login(staff_user)

    assert "Periodic tasks" not in staff.get("/admin/").content.decode()
    assert staff.get("/admin/django_celery_beat/periodictask/").status_code == 403
    assert staff.get("/admin/django_celery_beat/").status_code == 404
    assert "Periodic tasks" in superuser.get("/admin/").content.decode()
    assert superuser.get("/admin/django_celery_beat/periodictask/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/worlds/worldauditlog/?world__id__exact=alpha",
        "/admin/worlds/worldauditlog/verify/?world=alpha",
        "/admin/worlds/worldauditlog/live-at/?world=alpha&at=2030-01-01T00:00:00",
        "/admin/activation/activationcounter/console/alpha/",
    ],
)
def test_audit_and_console_pages__no_inline_script_or_style(superuser, world, owner, path):
    override_activation(actor=owner, world_id="alpha", strategy_id="s1", side="long", active=True)

    response = superuser.get(path)

    assert response.status_code == 200
    assert PageParts(response.content.decode()).inline == []

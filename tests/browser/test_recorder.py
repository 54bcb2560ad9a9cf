"""The browser tests' own machinery: screenshots of every page, problems that fail a test, and a
clean thread for the tests that run after a browser test."""

from __future__ import annotations

import asyncio
import struct

import pytest
from asgiref.sync import async_to_sync
from playwright.sync_api import Page, expect

from tests.browser.helpers import allow_problem, login
from tests.browser.recorder import recorder_of
from tests.factories import UserFactory
from worlds.models import World


def _png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.browser
def test_pages_visited__each_shot_once_full_page_in_order(page: Page):
    ada = UserFactory(username="ada", is_staff=True, is_superuser=True)
    page.set_viewport_size({"width": 1280, "height": 400})  # shorter than the admin's pages

    login(page, ada)
    page.locator("#start-here").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Select audit log entry to view")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Worlds, policies and activation")).to_be_visible()

    shots = recorder_of(page).shots
    assert [shot.name for shot in shots] == [
        "01-admin-login-next=-admin.png",
        "02-admin.png",
        "03-admin-worlds-worldauditlog.png",
        "04-admin.png",
    ]
    width, height = _png_size(shots[1])
    assert (width, height) == (1280, page.evaluate("document.documentElement.scrollHeight"))
    assert height > 400  # longer than the window: the whole page was shot


@pytest.mark.browser
def test_problems__asset_404_console_error_js_error_and_outside_request__are_recorded(
    page: Page,
):
    page.goto("/admin/login/")
    with page.expect_response("**/static/missing.css"):
        page.evaluate(
            """() => {
                const link = document.createElement("link");
                link.rel = "stylesheet";
                link.href = "/static/missing.css";
                document.head.append(link);
            }"""
        )
    with page.expect_event("requestfailed"):
        page.evaluate("() => { new Image().src = 'http://cdn.example.com/font.woff2'; }")
    page.evaluate("() => { console.error('boom'); setTimeout(() => { throw Error('bang'); }); }")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.wait_for_timeout(100)  # the thrown error is reported after this turn of the event loop

    problems = recorder_of(page).problems
    assert any(p.startswith("404 for GET http://") and "missing.css" in p for p in problems)
    assert "console error on" in " ".join(problems) and "boom" in " ".join(problems)
    assert any("uncaught JavaScript error" in p and "bang" in p for p in problems)
    assert any(
        p == "request outside the test server: GET http://cdn.example.com/font.woff2"
        for p in problems
    )
    # The Content-Security-Policy refuses the outside image as well, and says so on the console.
    assert any("violates the following Content Security Policy" in p for p in problems)
    assert len(problems) == 5, problems
    # Provoked on purpose above; anything else still fails the test.
    for expected in ("missing.css", "boom", "bang", "cdn.example.com"):
        allow_problem(page, expected)
    assert recorder_of(page).unexpected_problems() == []


@pytest.mark.browser
def test_refusal_page__a_4xx_answer_to_a_page_is_not_a_problem(page: Page):
    response = page.goto("/no-such-page")

    assert response is not None and response.status == 404
    assert recorder_of(page).problems == []


@pytest.mark.django_db(transaction=True)
def test_after_browser_tests__this_thread_runs_no_event_loop():
    # Runs after the browser tests above (pytest-django runs transactional tests last, in
    # order): Playwright's loop must not leak into the tests that follow them.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    assert async_to_sync(asyncio.sleep)(0, result=True) is True
    assert World.objects.count() == 0

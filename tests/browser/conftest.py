"""Browser tests: headless Chromium driven by Playwright against a live server (docs/testing.md).

The browser is Debian's `/usr/bin/chromium` (Playwright cannot download its own builds here),
launched once per session; each test gets a new browser context, so cookies and storage never
leak between tests. The server is pytest-django's `live_server`: a threaded server in this
process on the test database, with the main suite's settings (PostgreSQL, Redis), serving the
static files. Rows a test creates must be committed for it to see them, so browser tests are
transactional (`live_server` makes them so).

    pytestmark = [pytest.mark.browser]

    def test_superuser__opens_the_audit_log(page):
        login(page, UserFactory(is_staff=True, is_superuser=True))
        page.get_by_role("link", name="Audit log").click()
        expect(page.get_by_role("heading", name="Select audit log entry to view")).to_be_visible()

Every page visited is saved as a screenshot under `var/screenshots/<test>/`; console errors,
failed requests and requests leaving the server fail the test (tests/browser/recorder.py).
"""

from __future__ import annotations

import os
import re
import shutil
from asyncio import AbstractEventLoop, events
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connections
from playwright.sync_api import Browser, Error, Page, Playwright, expect, sync_playwright

from tests.browser.recorder import Recorder
from worldservice.staff_groups import AUDITORS, OPERATORS, RISK_STAFF

CHROMIUM = os.environ.get("WORLDSERVICE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    # /dev/shm is small in containers and CI; Chromium crashes on large pages when it uses it.
    "--disable-dev-shm-usage",
    # Only the live server's host resolves: a page that reaches out fails at once, and the
    # recorder names the request (a route handler would do it too, but disables the cache).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
]
# Generous for two shared cores, bounded so a missing element fails in seconds, not minutes.
TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"

_SHOTS_THIS_SESSION: list[Path] = []

# The data migrations that create the staff groups; their PERMISSIONS are the groups' contents.
STAFF_GROUP_MIGRATIONS = {
    RISK_STAFF: "policies.migrations.0008_risk_staff_group",
    AUDITORS: "worlds.migrations.0005_auditors_group",
    OPERATORS: "activation.migrations.0002_operators_group",
}


class BrowserSession:
    """The session's Playwright and Chromium, and the event loop of Playwright's sync API.

    That API marks its loop as running in this thread for as long as Playwright lives. Django
    refuses ORM calls in a thread with a running loop (and keeps that thread's connections apart
    from its usual ones), and asgiref refuses `async_to_sync` there. So the loop is marked running
    only while a browser test uses it (`in_use`): the tests run after one see a plain thread.
    """

    def __init__(self, playwright: Playwright, browser: Browser, loop: AbstractEventLoop) -> None:
        self.playwright = playwright
        self.browser = browser
        self.loop = loop

    @contextmanager
    def in_use(self) -> Iterator[Browser]:
        events._set_running_loop(self.loop)
        try:
            yield self.browser
        finally:
            events._set_running_loop(None)


@pytest.fixture(scope="session")
def browser_session() -> Iterator[BrowserSession]:
    """One headless Chromium for the whole session (launching one takes about a second)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"browser tests need Chromium at {CHROMIUM}: `apt-get install -y chromium` "
            "(.ci/run does it; see docs/testing.md)"
        )
    playwright = sync_playwright().start()
    loop = events.get_running_loop()
    try:
        # Chromium refuses its sandbox to root (CI runs as root); containers lack its namespaces.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
    except Error as exc:
        playwright.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc.message}")
    finally:
        events._set_running_loop(None)
    expect.set_options(timeout=TIMEOUT_MS)
    session = BrowserSession(playwright, browser, loop)
    yield session
    with session.in_use():
        browser.close()
        playwright.stop()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Logging in hashes a password twice (set, then check): PBKDF2 costs about a second there.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_groups(transactional_db: None) -> dict[str, Group]:
    """The staff groups as their data migrations make them, by name.

    Browser tests are transactional: the flush after each one removes the rows that data
    migrations inserted (the groups), while `post_migrate` puts the permissions back. So the
    groups are made again here from the migrations' own permission lists.
    """
    groups = {}
    for name, module in STAFF_GROUP_MIGRATIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in import_module(module).PERMISSIONS:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        groups[name] = group
    return groups


def _screenshot_folder(request: pytest.FixtureRequest) -> Path:
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)  # shots of an earlier run would mix in
    return folder


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser_session: BrowserSession,
    live_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Page]]:
    """`new_page(label="")`: a page in a new browser context, so a second person has their
    own cookies and session.

    Pages open on the live server (`page.goto("/admin/")`). All pages of a test share its
    screenshot folder and its problem check; `label` (e.g. "reviewer") starts the names of the
    page's automatic shots.
    """
    if request.node.get_closest_marker("browser") is None:
        pytest.fail("tests using a browser page need @pytest.mark.browser")
    # The test's own ORM calls (factories, assertions) run while Playwright's loop is marked
    # running in this thread (see BrowserSession); they are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    recorder = Recorder(folder=_screenshot_folder(request), origin=live_server.url)
    with browser_session.in_use() as browser:

        def open_page(label: str = "") -> Page:
            context = browser.new_context(
                base_url=live_server.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC"
            )
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
            recorder.watch(context)
            page = context.new_page()
            recorder.track(page, label)
            return page

        yield open_page
        recorder.finish()
        for context in browser.contexts:
            context.close()
        # While the loop is marked running, Django keeps this thread's connections apart from
        # its usual ones (asgiref's Local): close the test's, or the test database stays busy.
        connections.close_all()
    _SHOTS_THIS_SESSION.extend(recorder.shots)
    problems = recorder.unexpected_problems()
    if problems:
        listed = "\n  - ".join(problems)
        pytest.fail(f"the browser saw problems (screenshots in {recorder.folder}):\n  - {listed}")


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a fresh browser context on the live server; see `new_page`."""
    return new_page()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SHOTS_THIS_SESSION:
        tests = len({shot.parent for shot in _SHOTS_THIS_SESSION})
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(
            f"{len(_SHOTS_THIS_SESSION)} screenshots of {tests} browser tests in {SCREENSHOTS}/"
        )

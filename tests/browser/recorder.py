"""What a browser test leaves behind, and what it must not see.

A `Recorder` watches the browser contexts of one test:

- **screenshots**: a full-page PNG of every page the test visits, plus the shots it asks for by
  name, in one folder per test, numbered in the order they were taken (`NN-<name>.png`). A page
  is shot once it has loaded, just before the test's first action or assertion on it, and at
  the end of the test. That moment comes from a Playwright locator handler, which runs before
  each action and auto-waiting assertion, in step with the test: a shot taken from a 'load'
  listener would race the test's next step in the sync API (and Chromium cannot lay out a page
  it is navigating away from, so a page cannot be shot as it is left). The shot page is marked
  with a `data-browser-test-shot` attribute on `<html>`, which nothing else reads.
- **problems**: console errors (CSP violations among them), uncaught JavaScript errors, failed
  requests, 4xx/5xx answers to assets, 5xx answers to pages, and any request that leaves the test
  server (pages must work with no network; the browser resolves no other host name, so such
  requests fail at once). The fixture fails the test when it saw any that the test did not
  `allow`. A 4xx answer to a page is not a problem by itself: a refusal page is an answer the
  test asserts on.
"""

from __future__ import annotations

import re
import warnings
import weakref
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    WebError,
)

SHOT_MARK = "data-browser-test-shot"
_NOT_YET_SHOT = f"html:not([{SHOT_MARK}])"
# Chrome says this for every failed request and 4xx/5xx answer; the request and response
# listeners judge those, with their URL.
_RESOURCE_FAILED_MESSAGE = "Failed to load resource:"
# A download, or a request cut short by the next navigation: the browser's doing, not the page's.
_ABORTED = "net::ERR_ABORTED"

_RECORDERS: weakref.WeakKeyDictionary[Page, Recorder] = weakref.WeakKeyDictionary()


def recorder_of(page: Page) -> Recorder:
    """The recorder watching `page` (pages from the `page` and `new_page` fixtures have one)."""
    try:
        return _RECORDERS[page]
    except KeyError:
        raise LookupError("this page was not opened by the page or new_page fixture") from None


def _mark_shot(page: Page) -> None:
    page.evaluate("mark => document.documentElement.setAttribute(mark, '')", SHOT_MARK)


def _slug(text: str, limit: int = 80) -> str:
    return re.sub(r"[^A-Za-z0-9_.=]+", "-", text).strip("-")[:limit] or "page"


def page_name(url: str) -> str:
    """A file name for an automatic shot: the URL's path and query, e.g. `admin-worlds-world`."""
    parts = urlsplit(url)
    return _slug(f"{parts.path} {parts.query}")


class Recorder:
    """Screenshots and problems of one test's pages, in all the browser contexts it opens."""

    def __init__(self, *, folder: Path, origin: str) -> None:
        self.folder = folder
        self.origin = origin.rstrip("/")
        self.shots: list[Path] = []
        self.problems: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        self._labels: dict[Page, str] = {}  # page -> who uses it, at the start of its shots' names
        self._outside: set[str] = set()
        self._pages: list[Page] = []

    def watch(self, context: BrowserContext) -> None:
        """Record the pages of `context`: the ones open now and the ones it opens later."""
        context.on("page", self.track)
        context.on("request", self._request)
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.on("response", self._response)
        context.on("requestfailed", self._request_failed)
        for page in context.pages:
            self.track(page)

    def track(self, page: Page, label: str = "") -> None:
        """Shoot each page `page` shows; `label` (e.g. "reviewer") starts the shots' names.

        The context's new pages are tracked by themselves; tracking a page again only sets the
        label.
        """
        if label:
            self._labels[page] = label
        if page in _RECORDERS:
            return
        _RECORDERS[page] = self
        self._pages.append(page)
        page.add_locator_handler(
            page.locator(_NOT_YET_SHOT), lambda _: self._shoot_loaded(page), no_wait_after=True
        )

    def shot(self, page: Page, name: str) -> Path:
        """Save a full-page screenshot of `page` as the next `NN-<name>.png`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.shots) + 1:02d}-{_slug(name)}.png"
        page.screenshot(path=path, full_page=True)
        self.shots.append(path)
        _mark_shot(page)
        return path

    def allow(self, pattern: str) -> None:
        """Let problems matching the regular expression `pattern` pass (say why in the test)."""
        self._allowed.append(re.compile(pattern))

    def unexpected_problems(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self._allowed)]

    def finish(self) -> None:
        """Shoot the open pages whose current document has no shot yet."""
        for page in self._pages:
            try:
                if not page.is_closed() and page.locator(_NOT_YET_SHOT).count():
                    self._shoot_loaded(page)
            except Error as exc:  # a crashed or closing page: the test reports that by itself
                warnings.warn(f"no last screenshot of {page.url}: {exc.message}", stacklevel=2)

    # --- listeners -------------------------------------------------------------------------

    def _shoot_loaded(self, page: Page) -> None:
        if page.url == "about:blank":  # nothing to see, but the handler need not run again
            _mark_shot(page)
            return
        page.wait_for_load_state("load")  # stylesheets and images too
        label = self._labels.get(page)
        name = page_name(page.url)
        self.shot(page, f"{label}-{name}" if label else name)

    def _request(self, request: Request) -> None:
        url = request.url
        inside = url == self.origin or url.startswith(self.origin + "/")
        if not inside and not url.startswith(("data:", "blob:", "about:")):
            self._outside.add(url)
            self.problems.append(f"request outside the test server: {request.method} {url}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(_RESOURCE_FAILED_MESSAGE):
            where = message.page.url if message.page else "?"
            self.problems.append(f"console error on {where}: {message.text}")

    def _web_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.problems.append(f"uncaught JavaScript error on {where}: {error.error}")

    def _response(self, response: Response) -> None:
        request = response.request
        page_answer = request.is_navigation_request()
        if response.status >= 500 or (response.status >= 400 and not page_answer):
            self.problems.append(f"{response.status} for {request.method} {response.url}")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or "?"
        if failure != _ABORTED and request.url not in self._outside:
            self.problems.append(f"{request.method} {request.url} failed: {failure}")

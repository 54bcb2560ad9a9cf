"""Steps that journeys share: staff members, signing in through the admin's form, screenshots,
allowances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.recorder import recorder_of
from tests.factories import UserFactory

PASSWORD = "journey-password"


def staff_member(username: str, *groups: Any) -> Any:
    """A staff user in `groups` (from the `staff_groups` fixture), with no role on any world."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(*groups)
    return user


def login(page: Page, user: Any, *, password: str | None = None) -> None:
    """Sign `user` in through the admin login form and wait for the admin home.

    Without `password`, the user's password is set to `PASSWORD` first (factories make users
    without one). Fails with the form's own message when the admin refuses the login.
    """
    if password is None:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        password = PASSWORD
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    signed_in = page.locator("#user-tools")
    refused = page.locator(".errornote")
    expect(signed_in.or_(refused)).to_be_visible()
    if refused.is_visible():
        pytest.fail(f"the admin refused {user.get_username()}: {refused.inner_text()}")


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of `page` now, as the test's next `NN-<name>.png`.

    Pages are shot by themselves when they are left and at the end of the test; ask for a shot
    to keep a state that the next step changes (an error before it is fixed).
    """
    return recorder_of(page).shot(page, name)


def allow_problem(page: Page, pattern: str) -> None:
    """Let the browser problems matching the regular expression `pattern` pass in this test.

    For a journey that provokes one on purpose; say why next to the call.
    """
    recorder_of(page).allow(pattern)

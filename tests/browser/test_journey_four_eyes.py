"""The four-eyes bypass attempt: an owner lowers **Approvals required** to 0 on the world form; it
is held as a pending change and the world is unchanged until another approver approves it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import login, shot, staff_member
from tests.factories import make_world
from worlds.models import World, WorldChange, WorldChangeStatus
from worldservice.staff_groups import OPERATORS, RISK_STAFF

pytestmark = [pytest.mark.browser]


def _approvals_required() -> int:
    return World.objects.get(pk="desk").approvals_required


def test_four_eyes__lowered_approvals_stay_pending_until_someone_else_approves(
    new_page, staff_groups
):
    olga = staff_member("olga", staff_groups[OPERATORS])
    rex = staff_member("rex", staff_groups[RISK_STAFF])
    make_world(owner=olga, world_id="desk", name="Desk", approvals_required=1)

    owner = new_page("owner")
    login(owner, olga)
    owner.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    owner.get_by_role("link", name="desk", exact=True).click()
    owner.get_by_label("Approvals required").fill("0")
    owner.get_by_role("button", name="Save", exact=True).click()

    expect(owner.locator(".messagelist")).to_contain_text("Not saved yet")
    expect(owner.locator(".messagelist")).to_contain_text("nothing on the world has changed")
    change = WorldChange.objects.get()
    expect(
        owner.get_by_role("heading", name=f"Change #{change.pk} on world desk: PENDING")
    ).to_be_visible()
    changed = owner.locator("#changed-fields").get_by_role("row", name="approvals_required")
    expect(changed.locator("td")).to_have_text(["1", "0", "1"])  # old, new, value now
    expect(owner.locator("#review-blocker")).to_be_visible()  # not by the one who asked
    assert (change.status, change.changes) == (WorldChangeStatus.PENDING, {"approvals_required": 0})
    assert _approvals_required() == 1

    approver = new_page("approver")
    login(approver, rex)
    awaiting = approver.locator("#awaiting-review")
    awaiting.get_by_role("link", name=f"desk change #{change.pk}: approvals_required").click()
    approve = approver.locator("#review-actions form").filter(
        has=approver.get_by_role("button", name="Approve")
    )
    approve.get_by_label("Comment").fill("Desk runs paper only this quarter.")
    shot(approver, "approve-filled")
    approve.get_by_role("button", name="Approve").click()

    expect(approver.locator(".messagelist")).to_contain_text(
        f"You approved change #{change.pk}: it is applied to desk."
    )
    expect(
        approver.get_by_role("heading", name=f"Change #{change.pk} on world desk: APPLIED")
    ).to_be_visible()
    change.refresh_from_db()
    assert change.status == WorldChangeStatus.APPLIED
    assert _approvals_required() == 0

    owner.get_by_role("link", name="desk", exact=True).click()
    expect(owner.get_by_label("Approvals required")).to_have_value("0")

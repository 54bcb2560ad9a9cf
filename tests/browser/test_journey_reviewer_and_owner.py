"""The second person's journey: rex (Risk staff) finds rita's draft under "Awaiting my review" and
approves it with a comment; olga, the world's owner, sets it as the default and then rolls back to
the older version, each through the confirmation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from policies.models import PolicyApproval
from policies.services.uploads import PolicySource, upload_policy
from tests.browser.desk import STRICTER_YAML, desk_with_a_default
from tests.browser.helpers import login, shot
from worlds.models import World, WorldAuditLog

pytestmark = [pytest.mark.browser]

COMMENT = "Stricter gate checked against last week's runs."


def _default_version() -> int | None:
    return World.objects.get(pk="desk").default_policy_version


def test_reviewer_approves__owner_sets_default_then_rolls_back__each_confirmed(
    new_page, staff_groups
):
    desk = desk_with_a_default(staff_groups)
    upload_policy(actor=desk.rita, world_id="desk", source=PolicySource(text=STRICTER_YAML))

    # rex: the draft awaits him on the admin home; he approves it with a comment.
    rex: Page = new_page("reviewer")
    login(rex, desk.rex)
    awaiting = rex.locator("#awaiting-review")
    expect(awaiting.get_by_role("row")).to_have_count(2)  # the header and rita's v2
    expect(awaiting).to_contain_text("rita")
    awaiting.get_by_role("link", name="desk v2").click()

    review = rex.locator("#review")
    review.get_by_label("Comment, for the record").fill(COMMENT)
    review.get_by_role("button", name="Approve").click()

    expect(rex.locator(".messagelist")).to_contain_text("You approved version 2 of desk.")
    expect(rex.locator(".version-facts")).to_contain_text("1 of 1 approvals needed: approved")
    history = rex.locator("#history")
    expect(history.get_by_role("row", name="rex")).to_contain_text(COMMENT)
    approval = PolicyApproval.objects.get(policy__world_id="desk", policy__version=2)
    assert (approval.user, approval.decision, approval.comment) == (desk.rex, "approve", COMMENT)
    assert _default_version() == 1
    rex.get_by_role("link", name="Home").click()
    expect(rex.locator("#awaiting-review")).to_contain_text("Nothing awaits your review.")

    # olga: Set as default, through the confirmation page.
    olga: Page = new_page("owner")
    login(olga, desk.olga)
    olga.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    olga.get_by_role("link", name="desk", exact=True).click()
    olga.locator("#world-links").get_by_role("link", name="Policy versions").click()
    olga.locator("#result_list").get_by_role("link", name="v2", exact=True).click()
    olga.locator("#default").get_by_role("link", name="Set as default").click()

    confirm = olga.locator("#confirm")
    expect(confirm.get_by_role("heading")).to_have_text("Set as default: from v1 to v2")
    expect(confirm).to_contain_text("World desk will run v2 from now on instead of v1.")
    expect(olga.locator("#diff tr.diff-changed")).to_contain_text("sharpe >= 0.7")
    expect(olga.locator("#simulation")).to_contain_text("Only with the default")
    assert _default_version() == 1  # nothing changes before Confirm
    olga.get_by_role("button", name="Confirm").click()

    expect(olga.locator(".messagelist")).to_contain_text("World desk now runs version 2.")
    expect(olga.locator(".version-facts")).to_contain_text("v2 ACTIVE (the default)")
    assert _default_version() == 2

    # olga: Roll back to this version, from v1's page, through the confirmation page.
    olga.get_by_role("link", name="all its versions").click()
    olga.locator("#result_list").get_by_role("link", name="v1", exact=True).click()
    olga.locator("#default").get_by_role("link", name="Roll back to this version").click()

    confirm = olga.locator("#confirm")
    expect(confirm.get_by_role("heading")).to_have_text("Roll back to this version: from v2 to v1")
    shot(olga, "confirm-roll-back")
    assert _default_version() == 2
    confirm.get_by_role("button", name="Confirm").click()

    expect(olga.locator(".messagelist")).to_contain_text("World desk rolled back to version 1.")
    expect(olga.locator(".version-facts")).to_contain_text("v1 ACTIVE (the default)")
    assert _default_version() == 1
    moves = WorldAuditLog.objects.filter(
        world_id="desk", event="policy_default_set", actor="olga"
    ).order_by("id")
    assert [
        (row.result["previous"], row.result["version"], row.result["rollback"]) for row in moves
    ] == [
        (None, 1, False),  # the setup's
        (1, 2, False),
        (2, 1, True),
    ]

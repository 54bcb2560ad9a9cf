"""The operator's journey: override an activation entry with a TTL in the activation console,
see the override, then see the entry revert once the TTL has run out."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.sync_api import Page, expect

from activation.services.overrides import override_activation
from activation.store import get_store
from tests.browser.helpers import login, shot, staff_member
from tests.factories import make_world
from worlds.models import WorldAuditLog
from worlds.roles import Role
from worlds.services.members import grant_role
from worldservice.staff_groups import OPERATORS

pytestmark = [pytest.mark.browser]

TTL_SECONDS = 5  # a few seconds, with room for a loaded machine between the write and the read


def _stored() -> dict:
    entry = get_store().get("desk", "s1", "long").entry
    assert entry is not None
    return entry


def _seconds_until(moment: str) -> float:
    until = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")) - dt.datetime.now(dt.UTC)
    return until.total_seconds()


def test_operator__overrides_with_a_ttl__sees_it_then_sees_it_revert(page: Page, staff_groups):
    olga = staff_member("olga", staff_groups[OPERATORS])
    otto = staff_member("otto", staff_groups[OPERATORS])
    world = make_world(owner=olga, world_id="desk", name="Desk")
    grant_role(world=world, user=otto, role=Role.OPERATOR)
    override_activation(
        actor=olga, world_id="desk", strategy_id="s1", side="long", active=True, weight=0.5
    )

    login(page, otto)
    page.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    page.get_by_role("link", name="desk", exact=True).click()
    page.locator("#world-links").get_by_role("link", name="Activation console").click()
    entry_row = page.locator("#entries-table tbody tr").filter(has_text="s1")
    expect(entry_row.locator("td").nth(2)).to_have_text("yes")
    entry_row.get_by_role("link", name="Override…").click()

    form = page.locator("#override")
    expect(form.get_by_label("Strategy")).to_have_value("s1")
    expect(form.get_by_label("Weight")).to_have_value("0.5")
    form.get_by_label("Active").uncheck()
    form.get_by_label("Weight").fill("0.2")
    form.get_by_label("TTL (seconds)").fill(str(TTL_SECONDS))
    form.get_by_label("Reason").fill("drill")
    shot(page, "override-filled")
    form.get_by_role("button", name="Override").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Overridden: s1|long is now inactive at weight 0.2"
    )
    expect(page.locator(".messagelist")).to_contain_text("it reverts at")
    cells = entry_row.locator("td")
    expect(cells.nth(2)).to_have_text("no")
    expect(cells.nth(3)).to_have_text("0.2")
    expect(cells.nth(7)).to_have_text("otto")
    overridden = _stored()
    assert (overridden["active"], overridden["weight"]) == (False, 0.2)
    expect(cells.nth(8)).to_have_text(overridden["expires_at"])
    shot(page, "overridden")

    # Past the TTL, reading the console reverts the entry (or the beat task did it already).
    time.sleep(max(0.0, _seconds_until(overridden["expires_at"])) + 1.0)
    page.reload()

    expect(cells.nth(2)).to_have_text("yes")
    expect(cells.nth(3)).to_have_text("0.5")
    expect(cells.nth(7)).to_have_text("system")
    expect(cells.nth(8)).to_have_text("—")
    reverted = _stored()
    assert (reverted["active"], reverted["weight"], reverted["expires_at"]) == (True, 0.5, None)
    events = WorldAuditLog.objects.filter(world_id="desk").order_by("id")
    assert [(row.event, row.actor) for row in events if row.event != "world_created"] == [
        ("activation_updated", "olga"),
        ("activation_updated", "otto"),
        ("activation_override_expired", "system"),
    ]

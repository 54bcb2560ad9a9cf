"""Journeys through today's admin in a real browser: a superuser browses a world and the audit
log; risk staff upload a policy version, fix a YAML error and see the version saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from policies.models import WorldPolicy
from tests.browser.helpers import login, shot, staff_member
from tests.factories import UserFactory, make_world
from worlds.services.worlds import update_world
from worldservice.staff_groups import RISK_STAFF

pytestmark = [pytest.mark.browser]

BROKEN_YAML = "selection:\n  gates: ['sharpe >']\n"
FIXED_YAML = "selection:\n  gates: ['sharpe >= 0.7']\n"


def test_superuser__opens_a_world_then_filters_the_audit_log_by_event(page: Page):
    ada = UserFactory(username="ada", is_staff=True, is_superuser=True)
    make_world(owner=ada, world_id="alpha", name="Alpha desk")
    make_world(owner=ada, world_id="beta", name="Beta desk")
    update_world(actor=ada, world_id="beta", changes={"description": "the second desk"})

    login(page, ada)
    page.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    expect(page.get_by_role("heading", name="Select world to change")).to_be_visible()
    expect(page.locator("#result_list")).to_contain_text("Beta desk")

    page.get_by_role("link", name="alpha", exact=True).click()
    expect(page.get_by_role("heading", name="Change world")).to_be_visible()
    expect(page.get_by_label("Name:")).to_have_value("Alpha desk")

    page.get_by_role("link", name="Home").click()
    page.locator("#start-here").get_by_role("link", name="Audit log").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    page.locator("#changelist-filter").get_by_role("link", name="world_created").click()

    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("world_created")
    expect(page.locator("#result_list")).not_to_contain_text("world_updated")


def test_risk_staff__fixes_a_yaml_error_and_the_version_is_saved(page: Page, staff_groups):
    rita = staff_member("rita", staff_groups[RISK_STAFF])
    make_world(owner=rita, world_id="desk")

    login(page, rita)
    page.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    page.get_by_role("link", name="desk", exact=True).click()
    page.locator("#world-links").get_by_role("link", name="New version").click()
    page.get_by_label("Policy (YAML)").fill(BROKEN_YAML)
    page.get_by_role("button", name="Save the new version").click()

    expect(page.locator("#policy-errors")).to_contain_text("selection.gates[0]")
    expect(page.locator("#policy-errors")).to_contain_text("line ")
    assert not WorldPolicy.objects.exists()

    page.get_by_label("Policy (YAML)").fill(FIXED_YAML)
    shot(page, "yaml-fixed")
    page.get_by_role("button", name="Save the new version").click()

    expect(page.locator("#content")).to_contain_text("sharpe >= 0.7")
    expect(page.locator("#content")).to_contain_text("DRAFT")
    policy = WorldPolicy.objects.get(world_id="desk")
    assert (policy.version, policy.status, policy.yaml) == (1, "DRAFT", FIXED_YAML)

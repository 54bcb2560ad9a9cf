"""Risk staff's journey: write a new version through **New version**, make an error and see it by
line, column and path, fix it, then read the diff (**Compare with**) and the **Simulation**."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from policies.models import EvaluationRun, PolicyApproval, WorldPolicy
from tests.browser.desk import DEFAULT_YAML, STRICTER_YAML, desk_with_a_default
from tests.browser.helpers import login, shot
from worlds.models import WorldAuditLog

pytestmark = [pytest.mark.browser]

BROKEN_YAML = "selection:\n  gates: ['sharpe >= 0.7', 'sharpe >']\n  topk: {total: 1}\n"
FIXED_YAML = STRICTER_YAML


def test_risk_staff__fixes_an_error_then_reads_the_diff_and_the_simulation(
    page: Page, staff_groups
):
    rita = desk_with_a_default(staff_groups).rita
    writes = (EvaluationRun.objects.count(), WorldAuditLog.objects.count())

    login(page, rita)
    page.locator("#worlds-world").get_by_role("link", name="Worlds").click()
    page.get_by_role("link", name="desk", exact=True).click()
    page.locator("#world-links").get_by_role("link", name="New version").click()
    source = page.get_by_label("Policy (YAML)")
    expect(source).to_have_value(DEFAULT_YAML)  # prefilled with the default
    source.fill(BROKEN_YAML)
    page.get_by_role("button", name="Save the new version").click()

    errors = page.locator("#policy-errors")
    expect(page.locator(".errornote")).to_contain_text("The policy is not valid: 1 error")
    expect(errors.get_by_role("link", name="line 2, column")).to_be_visible()
    expect(errors).to_contain_text("selection.gates[1]")
    expect(page.locator("#submitted-source tr.has-error")).to_contain_text("'sharpe >'")
    assert list(WorldPolicy.objects.values_list("version", flat=True)) == [1]

    page.get_by_label("Policy (YAML)").fill(FIXED_YAML)
    shot(page, "yaml-fixed")
    page.get_by_role("button", name="Save the new version").click()

    expect(page.locator(".messagelist")).to_contain_text("Version 2")
    facts = page.locator(".version-facts")
    expect(facts).to_contain_text("v2 DRAFT")
    expect(facts).to_contain_text("0 of 1 approvals needed: not approved")
    expect(page.locator("#yaml")).to_contain_text("topk: {total: 1}")
    policy = WorldPolicy.objects.get(world_id="desk", version=2)
    assert (policy.status, policy.yaml, policy.created_by) == ("DRAFT", FIXED_YAML, rita)

    page.locator(".version-tabs").get_by_role("link", name="Compare with").click()
    expect(page.get_by_label("Compare with")).to_have_value("1")  # against the default
    expect(page.locator(".diff-summary")).to_contain_text("1 line removed, 2 added")
    changed = page.locator("table.side-by-side tr.diff-changed")
    expect(changed.locator(".diff-left")).to_have_text("  gates: ['sharpe >= 0.5']")
    expect(changed.locator(".diff-right")).to_have_text("  gates: ['sharpe >= 0.7']")
    expect(page.locator("table.side-by-side tr.diff-added")).to_contain_text("topk: {total: 1}")

    page.locator(".version-tabs").get_by_role("link", name="Simulation").click()
    expect(page.get_by_role("heading", name="run run-1")).to_be_visible()
    summary = page.locator("table.simulation-summary")
    expect(summary.get_by_role("row", name="Active")).to_contain_text("s1, s2")
    expect(summary.get_by_role("row", name="Only with the default")).to_contain_text("s2")
    expect(page.locator("#content-main")).to_contain_text("sharpe >= 0.7 (0.6000): fails")
    expect(page.locator("#content-main")).to_contain_text("+0.5000")

    # Reading the diff and the simulation stored nothing, and no one has reviewed v2.
    assert (EvaluationRun.objects.count(), WorldAuditLog.objects.count()) == (
        writes[0],
        writes[1] + 1,  # the upload of v2
    )
    assert not PolicyApproval.objects.filter(policy=policy).exists()

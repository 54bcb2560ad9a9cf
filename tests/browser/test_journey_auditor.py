"""The auditor's journey: filter the audit log by world, event and actor, export what the filters
show (**Export CSV**, **Export JSONL**), and **Verify chain**."""

from __future__ import annotations

import csv
import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, staff_member
from tests.factories import make_world
from worlds.models import WorldAuditLog
from worlds.roles import Role
from worlds.services.members import grant_role
from worlds.services.worlds import update_world
from worldservice.staff_groups import AUDITORS

pytestmark = [pytest.mark.browser]


def _trail() -> list[int]:
    """Worlds alpha and beta with updates by two owners; the ids of the rows the journey's
    filters keep (alpha, world_updated, by olivia), oldest first."""
    olivia = staff_member("olivia")
    omar = staff_member("omar")
    alpha = make_world(owner=olivia, world_id="alpha", name="Alpha desk")
    make_world(owner=olivia, world_id="beta", name="Beta desk")
    grant_role(world=alpha, user=omar, role=Role.OWNER)
    update_world(actor=olivia, world_id="alpha", changes={"description": "first desk"})
    update_world(actor=omar, world_id="alpha", changes={"description": "omar's desk"})
    update_world(actor=olivia, world_id="beta", changes={"description": "second desk"})
    update_world(actor=olivia, world_id="alpha", changes={"circuit_breaker": True})
    kept = WorldAuditLog.objects.filter(world_id="alpha", event="world_updated", actor="olivia")
    return list(kept.order_by("id").values_list("id", flat=True))


def test_auditor__filters_exports_and_verifies_the_chain(page: Page, staff_groups):
    expected = _trail()
    assert len(expected) == 2
    aude = staff_member("aude", staff_groups[AUDITORS])

    login(page, aude)
    page.locator("#start-here").get_by_role("link", name="Audit log").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(WorldAuditLog.objects.count())

    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="alpha (Alpha desk)").click()
    filters.get_by_role("link", name="world_updated", exact=True).click()
    by_actor = filters.locator("form").filter(has=page.get_by_label("Actor"))
    by_actor.get_by_label("Actor").fill("olivia")
    by_actor.get_by_role("button", name="Filter").click()

    expect(rows).to_have_count(2)
    listed = page.locator("#result_list")
    expect(listed.locator("td.field-event")).to_have_text(["world_updated"] * 2)
    expect(listed.locator("td.field-actor")).to_have_text(["olivia"] * 2)
    expect(listed.locator("td.field-world")).to_have_text(["alpha"] * 2)
    assert "world__id__exact=alpha" in page.url and "actor=olivia" in page.url

    with page.expect_download() as csv_download:
        page.locator(".object-tools").get_by_role("link", name="Export CSV").click()
    assert csv_download.value.suggested_filename == "audit.csv"
    with open(csv_download.value.path(), newline="") as exported:
        table = list(csv.DictReader(exported))
    assert [int(row["id"]) for row in table] == expected
    assert {(row["world_id"], row["event"], row["actor"]) for row in table} == {
        ("alpha", "world_updated", "olivia")
    }
    assert [json.loads(row["request"]) for row in table] == [
        {"description": "first desk"},
        {"circuit_breaker": True},
    ]

    with page.expect_download() as jsonl_download:
        page.locator(".object-tools").get_by_role("link", name="Export JSONL").click()
    with open(jsonl_download.value.path()) as exported:
        lines = [json.loads(line) for line in exported.read().splitlines()]
    assert [line["id"] for line in lines] == expected
    stored = {row.id: row for row in WorldAuditLog.objects.filter(id__in=expected)}
    assert [(line["hash"], line["prev_hash"]) for line in lines] == [
        (stored[pk].hash, stored[pk].prev_hash) for pk in expected
    ]

    page.locator(".object-tools").get_by_role("link", name="Verify chain").click()
    expect(page.get_by_label("World")).to_have_value("alpha")
    alpha_rows = WorldAuditLog.objects.filter(world_id="alpha").count()
    expect(page.locator("#chain-verdict")).to_have_text(
        f"The audit chain of world 'alpha' is intact: {alpha_rows} rows checked."
    )

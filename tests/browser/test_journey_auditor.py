"""The auditor's journey: filter the audit log by world, event and actor, export what the filters
show (**Export CSV**, **Export JSONL**), and **Verify chain**."""

from __future__ import annotations

import csv
import io
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


def _download(page: Page, link: str) -> tuple[str, str]:
    """Click the export `link` above the list: the file's suggested name and its text."""
    with page.expect_download() as download:
        page.locator(".object-tools").get_by_role("link", name=link).click()
    with open(download.value.path(), newline="") as exported:
        return download.value.suggested_filename, exported.read()


def _stored_rows(ids: list[int]) -> list[dict]:
    """The audit rows `ids` as the exports name their fields."""
    rows = WorldAuditLog.objects.filter(id__in=ids).order_by("id")
    return list(rows.values("id", "world_id", "event", "actor", "hash", "prev_hash", "request"))


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

    stored = _stored_rows(expected)
    name, text = _download(page, "Export CSV")
    table = list(csv.DictReader(io.StringIO(text)))
    assert name == "audit.csv"
    assert [int(row["id"]) for row in table] == expected
    assert [(row["world_id"], row["event"], row["actor"]) for row in table] == [
        ("alpha", "world_updated", "olivia")
    ] * 2
    assert [json.loads(row["request"]) for row in table] == [row["request"] for row in stored]

    _, text = _download(page, "Export JSONL")
    lines = [json.loads(line) for line in text.splitlines()]
    fields = ("id", "world_id", "event", "actor", "hash", "prev_hash", "request")
    assert [{key: line[key] for key in fields} for line in lines] == stored

    page.locator(".object-tools").get_by_role("link", name="Verify chain").click()
    expect(page.get_by_label("World")).to_have_value("alpha")
    alpha_rows = WorldAuditLog.objects.filter(world_id="alpha").count()
    expect(page.locator("#chain-verdict")).to_have_text(
        f"The audit chain of world 'alpha' is intact: {alpha_rows} rows checked."
    )

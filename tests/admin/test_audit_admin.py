"""The auditors' pages: the audit list, its exports, Verify chain and What was live at."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from activation.services.overrides import override_activation
from policies.models import ReviewDecision
from policies.services.defaults import set_default_version
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world
from worlds.audit import record_audit
from worlds.models import WorldAuditLog
from worlds.services.worlds import update_world
from worldservice.context import correlation_scope

pytestmark = pytest.mark.django_db

LIST = "/admin/worlds/worldauditlog/"


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def auditor():
    return UserFactory(username="audrey", is_staff=True, permissions=["worlds.view_worldauditlog"])


@pytest.fixture
def trail(world, owner):
    """World alpha: created, renamed (correlation id c-1), circuit breaker on; beta: created."""
    with correlation_scope("c-1"):
        update_world(actor=owner, world_id="alpha", changes={"name": "A2"})
    update_world(actor=owner, world_id="alpha", changes={"circuit_breaker": True})
    make_world(owner=owner, world_id="beta")
    return world


def _listed(response) -> list[WorldAuditLog]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _tamper(row_id: int) -> None:
    """Edit a row behind the append-only trigger's back, as a database owner could."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE worlds_worldauditlog DISABLE TRIGGER worlds_worldauditlog_append_only"
        )
        cursor.execute("UPDATE worlds_worldauditlog SET actor = 'mallory' WHERE id = %s", [row_id])
        cursor.execute(
            "ALTER TABLE worlds_worldauditlog ENABLE TRIGGER worlds_worldauditlog_append_only"
        )


def test_audit_list__auditor__rows_newest_first_with_pretty_json_and_chain(trail, auditor):
    response = _login(auditor).get(LIST)

    rows = _listed(response)
    assert [row.id for row in rows] == sorted((row.id for row in rows), reverse=True)
    page = response.content.decode()
    assert '<details class="ws-json">' in page
    assert "&quot;name&quot;: &quot;A2&quot;" in page  # indented JSON, one key per line
    assert page.count('<span class="ws-good" title="intact">✓</span>') == len(rows)
    assert "✗" not in page
    for label in ("Export CSV", "Export JSONL", "Verify chain", "What was live at"):
        assert label in page


def test_audit_list__filter_by_world__the_world_page_link_keeps_working(trail, auditor):
    rows = _listed(_login(auditor).get(LIST, {"world__id__exact": "beta"}))

    assert {row.world_id for row in rows} == {"beta"}
    assert [row.event for row in rows] == ["world_created"]


def test_audit_list__filters_by_event_actor_date_and_correlation_id(trail, auditor, owner):
    client = _login(auditor)

    updates = _listed(client.get(LIST, {"world__id__exact": "alpha", "event": "world_updated"}))
    by_actor = _listed(client.get(LIST, {"actor": "olivia"}))
    nobody = _listed(client.get(LIST, {"actor": "nobody"}))
    future = _listed(client.get(LIST, {"since": "2999-01-01"}))
    today = _listed(client.get(LIST, {"until": timezone.now().date().isoformat()}))
    correlated = _listed(client.get(LIST, {"q": "c-1"}))

    assert [row.event for row in updates] == ["world_updated", "world_updated"]
    assert len(by_actor) == WorldAuditLog.objects.filter(actor="olivia").count() == 4
    assert nobody == [] and future == []
    assert len(today) == 4  # "until" a date includes that whole day
    assert [(row.event, row.request) for row in correlated] == [("world_updated", {"name": "A2"})]


def test_audit_list__unreadable_date__ignored_with_a_message(trail, auditor):
    response = _login(auditor).get(LIST, {"since": "yesterday"})

    assert len(_listed(response)) == 4
    assert "was not understood" in response.content.decode()


def test_audit_list__tampered_row__marked_broken_in_its_row(trail, auditor):
    tampered = WorldAuditLog.objects.filter(world_id="alpha").order_by("id")[1]
    _tamper(tampered.id)

    response = _login(auditor).get(LIST, {"world__id__exact": "alpha"})

    problems = {row.id: row.chain_problem for row in _listed(response)}
    assert problems[tampered.id] == "content does not match its hash"
    assert [problem for row_id, problem in problems.items() if row_id != tampered.id] == [""] * 2
    assert response.content.decode().count("✗ broken") == 1


def test_audit_list__huge_result__cut_on_the_list_whole_on_its_page(world, auditor):
    entries = {f"s{index:04d}|long": {"active": True, "weight": 0.5} for index in range(1000)}
    with transaction.atomic():
        row = record_audit(
            event="apply_stage", actor="t", world_id="alpha", result={"entries": entries}
        )
    client = _login(auditor)

    listed = client.get(LIST).content.decode()
    detail = client.get(f"{LIST}{row.id}/change/").content.decode()

    assert "cut here: the row&#x27;s own page shows all of it" in listed
    assert "s0999|long" not in listed
    assert "s0999|long" in detail and "cut here" not in detail


def test_export_csv__the_rows_as_filtered_oldest_first(trail, auditor):
    response = _login(auditor).get(
        LIST + "export/csv/", {"world__id__exact": "alpha", "event": "world_updated"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="audit.csv"'
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = WorldAuditLog.objects.filter(world_id="alpha", event="world_updated").order_by("id")
    assert [int(row["id"]) for row in table] == [row.id for row in expected]
    requests = [json.loads(row["request"]) for row in table]
    assert requests == [{"name": "A2"}, {"circuit_breaker": True}]
    assert {row["world_id"] for row in table} == {"alpha"}


def test_export_jsonl__search_and_filters_apply(trail, auditor):
    response = _login(auditor).get(LIST + "export/jsonl/", {"q": "c-1"})

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in lines]
    assert [(row["event"], row["correlation_id"]) for row in rows] == [("world_updated", "c-1")]
    assert set(rows[0]) >= {"id", "hash", "prev_hash", "request", "result", "created_at"}


def test_export__unknown_format__admin_404_page(trail, auditor):
    response = _login(auditor).get(LIST + "export/xml/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "No export format" in response.content.decode()


def test_verify_chain__intact__says_so_with_the_count(trail, auditor):
    response = _login(auditor).get(LIST + "verify/", {"world": "alpha"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "The audit chain of world &#x27;alpha&#x27; is intact: 3 rows checked." in page


def test_verify_chain__tampered_row__names_the_first_broken_row(trail, auditor):
    tampered = WorldAuditLog.objects.filter(world_id="alpha").order_by("id")[1]
    _tamper(tampered.id)

    response = _login(auditor).get(LIST + "verify/", {"world": "alpha"})

    page = response.content.decode()
    assert (
        f'is broken at row\n        <a href="{LIST}{tampered.id}/change/">#{tampered.id}</a>'
        in page
    )
    assert "content does not match its hash" in page
    assert "The 1 row before it is intact." in page


def test_verify_chain__no_world_chosen__only_the_form(trail, auditor):
    response = _login(auditor).get(LIST + "verify/")

    assert response.status_code == 200
    assert response.context["report"] is None
    assert b'name="world"' in response.content


def test_detail_page__pretty_json_and_chain_status(trail, auditor):
    row = WorldAuditLog.objects.filter(world_id="alpha", event="world_updated").first()

    page = _login(auditor).get(f"{LIST}{row.id}/change/").content.decode()

    assert "&quot;name&quot;: &quot;A2&quot;" in page
    assert "✓ linked to the row before it" in page


def _next_second() -> dt.datetime:
    """Wait into the next whole second and return it: earlier writes are strictly before it."""
    time.sleep(1.05 - timezone.now().microsecond / 1_000_000)
    return timezone.now().replace(microsecond=0)


def test_what_was_live_at__set_policy_and_who_applied_and_approved(owner, auditor):
    reviewer = UserFactory(username="rex", permissions=["policies.approve_worldpolicy"])
    make_world(owner=owner, world_id="alpha", approvals_required=1)
    upload_policy(actor=owner, world_id="alpha", source=PolicySource(text="selection: {}\n"))
    review_policy(
        actor=reviewer,
        world_id="alpha",
        version=1,
        decision=ReviewDecision.APPROVE,
        comment="looks right",
    )
    set_default_version(actor=owner, world_id="alpha", version=1)
    override_activation(
        actor=owner, world_id="alpha", strategy_id="s1", side="long", active=True, weight=0.4
    )
    moment = _next_second()
    override_activation(
        actor=auditor, world_id="alpha", strategy_id="s1", side="long", active=False
    )

    response = _login(auditor).get(
        LIST + "live-at/", {"world": "alpha", "at": moment.strftime("%Y-%m-%dT%H:%M:%S")}
    )

    found = response.context["found"]
    assert [(e["strategy_id"], e["active"], e["weight"]) for e in found.state["entries"]] == [
        ("s1", True, 0.4)
    ]
    assert (found.default.version, found.default.actor, found.author) == (1, "olivia", "olivia")
    assert [(r.user, r.decision, r.comment) for r in found.reviews] == [
        ("rex", "approve", "looks right")
    ]
    assert found.state["last_changed_by"] == "olivia"
    page = response.content.decode()
    assert "Version <strong>1</strong>" in page and "looks right" in page


def test_what_was_live_at__before_anything__says_nothing_was_live(trail, auditor):
    response = _login(auditor).get(
        LIST + "live-at/", {"world": "alpha", "at": "2000-01-01 00:00:00"}
    )

    page = response.content.decode()
    assert "No policy version was the default yet." in page
    assert "No activation entries then." in page


def test_what_was_live_at__bad_time__form_error_not_500(trail, auditor):
    response = _login(auditor).get(LIST + "live-at/", {"world": "alpha", "at": "noon"})

    assert response.status_code == 200
    assert response.context["found"] is None
    assert "Enter a valid date/time." in response.content.decode()


@pytest.mark.parametrize(
    "url", [LIST, LIST + "export/csv/", LIST + "verify/?world=alpha", LIST + "live-at/"]
)
def test_auditor_pages__staff_without_the_permission__refused_with_an_admin_page(trail, url):
    staff = UserFactory(username="sam", is_staff=True)

    response = _login(staff).get(url)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "WorldService administration" in page and "Permission denied" in page

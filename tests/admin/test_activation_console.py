"""The operators' activation console: what it shows, the Override form and its refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from activation.entries import now_text
from activation.models import ActivationSnapshot
from activation.services.expiry import expire_overrides
from activation.services.overrides import override_activation
from activation.store import get_store
from tests.factories import UserFactory, unfinished_apply_run
from worlds.models import WorldAuditLog, WorldEvent
from worlds.roles import Role
from worlds.services.members import grant_role
from worlds.services.worlds import update_world

pytestmark = pytest.mark.django_db


def _staff_with_role(world, role: str | None, username: str) -> Client:
    user = UserFactory(username=username, is_staff=True)
    if role is not None:
        grant_role(world=world, user=user, role=Role.from_label(role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def console_url(world) -> str:
    return reverse("admin:activation_console", args=[world.id])


@pytest.fixture
def operator_client(world) -> Client:
    return _staff_with_role(world, "operator", "opal")


@pytest.fixture
def entry(world, owner) -> dict:
    """s1|long, active at weight 0.5, written by the owner."""
    return override_activation(
        actor=owner, world_id=world.id, strategy_id="s1", side="long", active=True, weight=0.5
    )


def _form(**fields) -> dict:
    data = {"strategy_id": "s1", "side": "long", "weight": "1.0", "reason": "", "etag": ""}
    data.update({name: value for name, value in fields.items() if value is not None})
    if data.get("active") is False:
        data.pop("active")
    return data


def _stored(world_id: str, strategy_id: str = "s1", side: str = "long") -> dict:
    entry = get_store().get(world_id, strategy_id, side).entry
    assert entry is not None
    return entry


def _writes() -> tuple[int, int, int]:
    """Audit rows, outbox events and snapshots: a refused override adds none."""
    return (
        WorldAuditLog.objects.filter(event="activation_updated").count(),
        WorldEvent.objects.filter(type="activation_updated").count(),
        ActivationSnapshot.objects.count(),
    )


def test_console__operator__entries_hash_freeze_breaker_and_runs(
    world, owner, entry, operator_client, console_url
):
    update_world(actor=owner, world_id=world.id, changes={"circuit_breaker": True})

    response = operator_client.get(console_url)

    assert response.status_code == 200
    state = response.context["state"]
    assert [(e.strategy_id, e.side, e.active, e.weight, e.written_by) for e in state.entries] == [
        ("s1", "long", True, 0.5, "olivia")
    ]
    assert state.entries[0].version == 1 and state.entries[0].updated == entry["ts"]
    page = response.content.decode()
    assert entry["state_hash"] in page
    assert "on: decide answers compute-only" in page
    assert "nothing frozen" in page
    assert "No apply has run in this world yet." in page
    assert 'id="override"' in page
    row = f'<a href="{console_url}?strategy_id=s1&amp;side=long#override">Override…</a>'
    assert "<td>s1</td><td>long</td><td>yes</td><td>0.5</td>" in page and row in page


def test_console__apply_runs__shown_as_a_timeline_of_stages(world, operator_client, console_url):
    run = unfinished_apply_run(world, "run-7")
    run.stages = [
        {"stage": "requested", "at": "2025-08-28T09:00:00Z"},
        {"stage": "freeze", "at": "2025-08-28T09:00:01.500000Z"},
    ]
    run.save()

    response = operator_client.get(console_url)

    (timeline,) = response.context["runs"]
    assert [(mark.stage, mark.seconds_in) for mark in timeline.stages] == [
        ("requested", 0.0),
        ("freeze", 1.5),
    ]
    page = response.content.decode()
    assert "apply run-7 in flight (freeze)" in page
    assert "+1.5 s" in page


def test_console__row_link__form_carries_the_entrys_values_and_etag(
    entry, operator_client, console_url
):
    response = operator_client.get(console_url, {"strategy_id": "s1", "side": "long"})

    form = response.context["form"]
    assert form.initial["etag"] == entry["etag"]
    assert (form.initial["active"], form.initial["weight"]) == (True, 0.5)
    assert f'value="{entry["etag"]}"' in response.content.decode()


def test_override__with_ttl__written_audited_then_reverts_on_expiry(
    world, entry, operator_client, console_url
):
    response = operator_client.post(
        console_url,
        _form(active=False, weight="0.2", ttl_seconds="60", reason="drill", etag=entry["etag"]),
    )

    assert response.status_code == 302 and response["Location"] == console_url
    stored = _stored(world.id)
    assert (stored["active"], stored["weight"], stored["expires_at"] is not None) == (
        False,
        0.2,
        True,
    )
    row = WorldAuditLog.objects.filter(event="activation_updated").latest("id")
    assert (row.actor, row.request["reason"], row.request["ttl_seconds"]) == ("opal", "drill", 60)
    assert "reverts at" in operator_client.get(console_url).content.decode()

    later = now_text(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    assert expire_overrides(now=later) == 1

    reverted = operator_client.get(console_url).context["state"].entries[0]
    assert (reverted.active, reverted.weight, reverted.expires_at) == (True, 0.5, None)
    assert reverted.written_by == "system"


def test_override__new_entry__created_without_an_etag(world, operator_client, console_url):
    response = operator_client.post(console_url, _form(strategy_id="s2", side="short", active=True))

    assert response.status_code == 302
    assert _stored(world.id, "s2", "short")["active"] is True


def test_override__stale_form__refused_readably_and_nothing_stored(
    world, owner, entry, operator_client, console_url
):
    override_activation(  # someone else changes the entry after the form was shown
        actor=owner, world_id=world.id, strategy_id="s1", side="long", active=True, weight=0.9
    )
    before = _writes()

    response = operator_client.post(console_url, _form(active=False, etag=entry["etag"]))

    assert response.status_code == 412
    assert "Refused: this form is stale." in response.content.decode()
    assert _stored(world.id)["weight"] == 0.9
    assert _writes() == before


def test_override__existing_entry_without_etag__refused(entry, world, operator_client, console_url):
    before = _writes()

    response = operator_client.post(console_url, _form(active=False))

    assert response.status_code == 409
    assert "open Override from its row" in response.content.decode()
    assert _stored(world.id)["active"] is True
    assert _writes() == before


def test_override__live_without_allow_live__live_not_allowed_shown(
    world, operator_client, console_url
):
    before = _writes()

    response = operator_client.post(console_url, _form(active=True, effective_mode="live"))

    assert response.status_code == 409
    page = response.content.decode()
    assert "Refused (live_not_allowed)" in page and "allow_live is false" in page
    assert get_store().get(world.id, "s1", "long").entry is None
    assert _writes() == before


def test_override__apply_in_flight__apply_in_progress_shown(
    world, entry, operator_client, console_url
):
    unfinished_apply_run(world)
    before = _writes()

    response = operator_client.post(console_url, _form(active=False, etag=entry["etag"]))

    assert response.status_code == 409
    assert "Refused (apply_in_progress)" in response.content.decode()
    assert _stored(world.id)["active"] is True
    assert _writes() == before


def test_override__invalid_weight__form_error_nothing_stored(world, operator_client, console_url):
    response = operator_client.post(console_url, _form(active=True, weight="2"))

    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 1.0." in response.content.decode()
    assert _writes() == (0, 0, 0)


def test_console__reader__sees_the_set_without_the_form(world, entry, console_url):
    client = _staff_with_role(world, "reader", "rhea")

    response = client.get(console_url)

    assert response.status_code == 200
    assert response.context["form"] is None
    page = response.content.decode()
    assert "<td>s1</td><td>long</td>" in page
    assert 'id="override"' not in page and "Override…" not in page


def test_override__reader__refused_with_an_admin_page_nothing_stored(world, entry, console_url):
    client = _staff_with_role(world, "reader", "rhea")
    before = _writes()

    response = client.post(console_url, _form(active=False, etag=entry["etag"]))

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "needs the operator role" in response.content.decode()
    assert _stored(world.id)["active"] is True
    assert _writes() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_console__no_role__the_world_is_not_there(world, entry, console_url, method):
    client = _staff_with_role(world, None, "nemo")
    before = _writes()

    response = getattr(client, method)(console_url, _form(active=False, etag=entry["etag"]))

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "does not exist" in response.content.decode()
    assert _writes() == before


def test_console__not_staff__sent_to_the_login_page(world, console_url):
    user = UserFactory(username="outsider")
    grant_role(world=world, user=user, role=Role.OPERATOR)
    client = Client()
    client.force_login(user)

    response = client.get(console_url)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_snapshot_page__entries_as_a_table_not_json(world, entry):
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    snapshot = ActivationSnapshot.objects.filter(world_id=world.id).latest("id")

    page = client.get(f"/admin/activation/activationsnapshot/{snapshot.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<td>s1</td><td>long</td><td>yes</td><td>0.5</td>" in html
    assert "&quot;strategy_id&quot;" not in html

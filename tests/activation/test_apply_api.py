"""2-phase apply over HTTP: stages, events, idempotency, single-flight, rollback, reaper."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from activation.apply.models import ApplyRun
from activation.apply.services import reap_stale_applies
from activation.store import get_store
from policies.models import WorldDecisions
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world, unfinished_apply_run
from worlds.models import WorldAuditLog, WorldEvent
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(world):
    user = UserFactory(username="opal")
    grant_role(world=world, user=user, role=Role.OPERATOR)
    return user


def _apply(client, run_id="run-1", **body):
    body.setdefault("plan", {"activate": ["s1", "s2"], "deactivate": []})
    body = {key: value for key, value in body.items() if value is not None}
    return client.post("/worlds/alpha/apply", {"run_id": run_id, **body}, format="json")


def _entries():
    _, entries = get_store().read_all("alpha")
    return entries


def test_apply__plan__completed_with_active_set_and_stages(operator, client_for):
    response = _apply(client_for(operator), weights={"s1": 0.5})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "ok": True,
        "run_id": "run-1",
        "active": ["s1", "s2"],
        "phase": "completed",
    }
    entries = _entries()
    assert entries[("s1", "long")]["active"] is True
    assert entries[("s1", "long")]["weight"] == 0.5
    assert entries[("s2", "long")]["weight"] == 1.0
    assert not entries[("s1", "long")]["freeze"]
    assert WorldDecisions.objects.get(world_id="alpha").strategies == ["s1", "s2"]
    run = client_for(operator).get("/worlds/alpha/apply/run-1").json()
    assert [s["stage"] for s in run["stages"]] == [
        "requested",
        "freeze",
        "switch",
        "unfreeze",
        "completed",
    ]
    stages = WorldAuditLog.objects.filter(world_id="alpha", event="apply_stage")
    assert [row.result["stage"] for row in stages.order_by("id")] == [
        "requested",
        "freeze",
        "switch",
        "unfreeze",
        "completed",
    ]


def test_apply__events__freeze_requires_ack_and_sequence_continues(operator, client_for):
    _apply(client_for(operator))

    events = [
        e.data
        for e in WorldEvent.objects.filter(world_id="alpha", type="activation_updated").order_by(
            "seq"
        )
    ]
    _assert_freeze_then_unfreeze(events)
    versions = [e["version"] for e in events]
    assert versions == sorted(versions)


def _assert_freeze_then_unfreeze(events):
    phases = [e["phase"] for e in events]
    assert phases == ["freeze"] * 2 + ["unfreeze"] * 2
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert all(e["requires_ack"] for e in events[:2])
    assert not any(e["requires_ack"] for e in events[2:])
    assert events[0]["freeze"] is True and events[0]["active"] is False
    assert events[-1]["active"] is True and events[-1]["freeze"] is False


def test_apply__deactivate__entry_gated_off_and_decisions_updated(operator, client_for):
    client = client_for(operator)
    _apply(client)

    _apply(client, run_id="run-2", plan={"activate": [], "deactivate": ["s1"]})

    entries = _entries()
    assert entries[("s1", "long")]["active"] is False
    assert entries[("s2", "long")]["active"] is True
    assert WorldDecisions.objects.get(world_id="alpha").strategies == ["s2"]


def test_apply__same_run_id_same_body__replayed_without_running(operator, client_for):
    client = client_for(operator)
    first = _apply(client).json()
    version = get_store().version("alpha")

    again = _apply(client)

    assert again.status_code == 200
    assert again.json() == first
    assert get_store().version("alpha") == version
    assert ApplyRun.objects.count() == 1


def test_apply__same_run_id_other_body__409_run_id_conflict(operator, client_for):
    client = client_for(operator)
    _apply(client)

    response = _apply(client, plan={"activate": ["s9"], "deactivate": []})

    assert response.status_code == 409
    assert response.json()["code"] == "run_id_conflict"


def test_apply__another_run_in_flight__409_with_retry_after(world, operator, client_for):
    unfinished_apply_run(world)

    response = _apply(client_for(operator))

    assert response.status_code == 409
    assert response.json()["code"] == "apply_in_progress"
    assert int(response["Retry-After"]) >= 1


def test_apply__prefer_respond_async__202_with_location(operator, client_for):
    from worldservice.celery import app

    app.conf.task_always_eager = False  # nothing consumes the queue in this test
    try:
        response = client_for(operator).post(
            "/worlds/alpha/apply",
            {"run_id": "r-async", "plan": {"activate": ["s1"]}},
            format="json",
            HTTP_PREFER="respond-async",
        )
    finally:
        app.conf.task_always_eager = True

    assert response.status_code == 202
    assert response["Location"] == "/worlds/alpha/apply/r-async"
    assert response.json()["phase"] == "requested"


def test_apply__failure_in_switch__rolled_back_with_new_versions(operator, client_for, monkeypatch):
    client = client_for(operator)
    _apply(client)
    before = _entries()
    version_before = get_store().version("alpha")

    def broken(*args, **kwargs):
        raise RuntimeError("switch exploded")

    monkeypatch.setattr("activation.apply.services.switch_changes", broken)
    response = _apply(client, run_id="run-2", plan={"activate": ["s3"], "deactivate": ["s1"]})

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["phase"] == "rolled_back"
    assert "switch exploded" in body["error"]
    after = _entries()
    assert set(after) == set(before)
    for key, entry in before.items():
        assert {k: after[key][k] for k in ("active", "weight", "freeze", "drain")} == {
            k: entry[k] for k in ("active", "weight", "freeze", "drain")
        }
    assert get_store().version("alpha") > version_before
    assert WorldDecisions.objects.get(world_id="alpha").strategies == ["s1", "s2"]


def test_apply__evaluation_run_id__applies_recorded_plan_and_weights(
    world, owner, operator, client_for
):
    world.approvals_required = 0
    world.save()
    upload_policy(
        actor=owner,
        world_id="alpha",
        source=PolicySource(
            text="selection:\n  gates: ['sharpe >= 1']\n"
            "  constraints: {exposure: {max_weight: 0.4}}\n"
        ),
    )
    client = client_for(operator)
    client.post(
        "/worlds/alpha/evaluate",
        {
            "run_id": "ev-1",
            "metrics": {"a": {"sharpe": 2}, "b": {"sharpe": 3}, "c": {"sharpe": 0.1}},
        },
        format="json",
    )

    response = _apply(client, plan=None, evaluation_run_id="ev-1")

    assert response.json()["active"] == ["b", "a"]
    assert _entries()[("a", "long")]["weight"] == pytest.approx(0.4)


def test_apply__metrics__evaluates_then_applies(world, owner, operator, client_for):
    world.approvals_required = 0
    world.save()
    upload_policy(actor=owner, world_id="alpha", source=PolicySource(preset="sandbox"))

    response = client_for(operator).post(
        "/worlds/alpha/apply",
        {"run_id": "em-1", "metrics": {"x": {"sharpe": 1.5, "side": "short"}}},
        format="json",
    )

    assert response.json()["active"] == ["x"]
    assert _entries()[("x", "short")]["active"] is True


def test_apply__unknown_evaluation__404(operator, client_for):
    assert _apply(client_for(operator), plan=None, evaluation_run_id="nope").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"plan": {"activate": ["s1"]}},  # no run_id
        {"run_id": "r", "plan": {"activate": "s1"}},
        {"run_id": "r", "plan": {"activate": ["bad id"]}},
        {"run_id": "r"},
        {"run_id": "r", "plan": {}, "evaluation_run_id": "e"},
        {"run_id": "r", "plan": {}, "weights": {"s1": 2}},
        {"run_id": "r", "plan": {}, "extra": 1},
        {"run_id": "bad id", "plan": {}},
    ],
)
def test_apply__bad_body__400_nothing_recorded(operator, client_for, body):
    response = client_for(operator).post("/worlds/alpha/apply", body, format="json")

    assert response.status_code == 400, response.content
    assert not ApplyRun.objects.exists()


def test_apply__reader__403(world, client_for):
    reader = UserFactory()
    grant_role(world=world, user=reader, role=Role.READER)

    assert _apply(client_for(reader)).status_code == 403
    assert client_for(reader).get("/worlds/alpha/apply").status_code == 200


def test_apply__deleted_world__409(world, owner, operator, client_for):
    client_for(owner).delete("/worlds/alpha")

    assert _apply(client_for(operator)).json()["code"] == "world_not_active"


def test_reaper__lapsed_run__rolled_back_and_world_unfrozen(world, operator, client_for):
    client = client_for(operator)
    _apply(client)
    run = unfinished_apply_run(world, run_id="stuck")
    run.previous = {
        "entries": {f"{k[0]}|{k[1]}": v for k, v in _entries().items()},
        "decisions": ["s1", "s2"],
    }
    run.save()
    get_store().write_many(
        "alpha", {("s1", "long"): {"active": False, "freeze": True, "drain": True}}
    )
    ApplyRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert reap_stale_applies() == ["stuck"]

    run.refresh_from_db()
    assert (run.phase, run.ok) == ("rolled_back", False)
    assert _entries()[("s1", "long")]["freeze"] is False
    assert _entries()[("s1", "long")]["active"] is True


def test_apply_list__paginated(operator, client_for):
    client = client_for(operator)
    _apply(client)
    _apply(client, run_id="run-2", plan={"activate": [], "deactivate": ["s2"]})

    page = client.get("/worlds/alpha/apply?limit=1").json()

    assert [r["run_id"] for r in page["results"]] == ["run-1"]
    assert page["next"]


def test_apply_run__unknown__404(operator, client_for):
    assert client_for(operator).get("/worlds/alpha/apply/nope").status_code == 404


def test_other_world__apply_does_not_touch_it(owner, operator, client_for):
    make_world(owner=owner, world_id="beta")
    _apply(client_for(operator))

    assert get_store().get_all("beta").entries == {}


def test_apply__many_entries__events_in_one_insert_with_consecutive_seqs(operator, client_for):
    strategies = [f"s{i:03d}" for i in range(60)]

    _apply(client_for(operator), plan={"activate": strategies, "deactivate": []})

    events = list(
        WorldEvent.objects.filter(world_id="alpha", type="activation_updated").order_by("seq")
    )
    assert len(events) == 120
    first = WorldEvent.objects.filter(world_id="alpha").order_by("seq").first().seq
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 120))
    assert first <= events[0].seq
    assert events[-1].data["idempotency_key"] == f"alpha:{events[-1].seq}"
    assert events[-1].data["phase"] == "unfreeze"
    assert events[-1].created_at is not None


def test_apply__respond_async_on_in_process_tasks__still_202(operator, client_for):
    response = client_for(operator).post(
        "/worlds/alpha/apply",
        {"run_id": "r-eager", "plan": {"activate": ["s1"]}},
        format="json",
        HTTP_PREFER="respond-async",
    )

    assert response.status_code == 202
    assert response["Location"] == "/worlds/alpha/apply/r-eager"


def test_apply__replayed_run_never_dispatched__sent_again(world, operator, client_for):
    from activation.apply.services import ApplyRequest, request_apply

    # Given a run recorded while the broker was down (it never reached a worker)
    request_apply(
        actor=operator,
        world_id="alpha",
        request=ApplyRequest(run_id="lost", plan={"activate": ["s1"], "deactivate": []}),
    )

    # When the client retries with the same body
    response = _apply(
        client_for(operator), run_id="lost", plan={"activate": ["s1"], "deactivate": []}
    )

    assert response.status_code == 200, response.content
    assert response.json()["phase"] == "completed"


def test_delete_world__during_apply__run_ends_and_entries_stay_off(
    world, owner, operator, client_for, monkeypatch
):
    from activation.apply import services
    from worlds.services.worlds import delete_world

    client = client_for(operator)
    _apply(client)
    real_prepare = services._prepare

    def prepare_then_world_deleted(*args, **kwargs):
        real_prepare(*args, **kwargs)
        delete_world(actor=owner, world_id="alpha")

    monkeypatch.setattr(services, "_prepare", prepare_then_world_deleted)

    response = _apply(client, run_id="run-2", plan={"activate": ["s3"], "deactivate": []})

    assert response.json()["phase"] == "rolled_back"
    entries = _entries()
    assert set(entries) == {("s1", "long"), ("s2", "long")}
    assert not any(entry["active"] for entry in entries.values())
    assert ApplyRun.objects.get(run_id="run-2").error == "the world was deleted"

"""Evaluation runs whose task was lost are sent again, and fail after a few tries."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.utils import timezone

from policies.models import EvaluationRun
from policies.services.evaluations import EvaluationRequest, request_evaluation
from policies.services.stalled_evaluations import (
    MAX_RESENDS,
    STALLED_AFTER_SECONDS,
    resend_stalled_evaluations,
)
from policies.services.uploads import PolicySource, upload_policy
from policies.tasks import resend_stalled_evaluations_task
from tests.factories import UserFactory, make_world
from worlds.models import WorldAuditLog


def recorded_run(owner: Any, run_id: str, *, age_seconds: float) -> EvaluationRun:
    """A pending run recorded `age_seconds` ago whose task was never sent (a lost task)."""
    run = request_evaluation(
        actor=owner,
        world_id="ev",
        request=EvaluationRequest(metrics={"s1": {"sharpe": 1.0}}, run_id=run_id),
    )
    EvaluationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=age_seconds)
    )
    return run


@pytest.fixture
def owner(db: None) -> Any:
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(actor=owner, world_id="ev", source=PolicySource(preset="sandbox"))
    return owner


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
def test_lost_task__sent_again__carried_out_by_the_worker(owner, real_worker):
    run = recorded_run(owner, "lost-1", age_seconds=STALLED_AFTER_SECONDS + 5)

    assert resend_stalled_evaluations_task() == ["lost-1"]

    deadline = time.monotonic() + 20
    while EvaluationRun.objects.get(pk=run.pk).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
    carried_out = EvaluationRun.objects.get(pk=run.pk)
    assert carried_out.status == "completed"
    assert (carried_out.result or {})["strategies"]["s1"]["status"] == "pass"
    assert carried_out.resends == 1
    assert WorldAuditLog.objects.filter(event="evaluation_recorded", world_id="ev").count() == 1


@pytest.mark.django_db
def test_recent_or_just_resent_runs__left_alone(owner):
    recorded_run(owner, "fresh", age_seconds=1)
    old = recorded_run(owner, "resent", age_seconds=STALLED_AFTER_SECONDS * 3)
    EvaluationRun.objects.filter(pk=old.pk).update(resent_at=timezone.now(), resends=1)
    sent: list[int] = []

    assert resend_stalled_evaluations(sent.append) == []
    assert sent == []


@pytest.mark.django_db
def test_finished_runs__never_sent_again(owner):
    done = recorded_run(owner, "done", age_seconds=STALLED_AFTER_SECONDS * 3)
    EvaluationRun.objects.filter(pk=done.pk).update(status="completed")
    sent: list[int] = []

    assert resend_stalled_evaluations(sent.append) == []
    assert sent == []


@pytest.mark.django_db
def test_stalled_again__resent_each_period_then_failed_with_an_audit_row(owner):
    run = recorded_run(owner, "poison", age_seconds=STALLED_AFTER_SECONDS + 1)
    sent: list[int] = []
    moment = timezone.now()

    for _ in range(MAX_RESENDS):
        assert resend_stalled_evaluations(sent.append, now=moment) == ["poison"]
        assert resend_stalled_evaluations(sent.append, now=moment) == []  # not again this period
        moment += dt.timedelta(seconds=STALLED_AFTER_SECONDS + 1)
    assert resend_stalled_evaluations(sent.append, now=moment) == ["poison"]

    failed = EvaluationRun.objects.get(pk=run.pk)
    assert sent == [run.pk] * MAX_RESENDS
    assert failed.status == "failed"
    assert "never finished" in failed.error
    audit = WorldAuditLog.objects.get(event="evaluation_recorded", world_id="ev")
    assert audit.result["status"] == "failed"


@pytest.mark.django_db
def test_broker_refuses__run_left_as_it_was_for_the_next_pass(owner):
    run = recorded_run(owner, "refused", age_seconds=STALLED_AFTER_SECONDS + 1)

    def refuse(run_pk: int) -> None:
        raise ConnectionError("the broker is down")

    assert resend_stalled_evaluations(refuse) == []

    unchanged = EvaluationRun.objects.get(pk=run.pk)
    assert (unchanged.status, unchanged.resends, unchanged.resent_at) == ("pending", 0, None)

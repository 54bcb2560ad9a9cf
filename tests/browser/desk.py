"""World `desk` of the policy journeys, built through the services as the API builds it.

- olga: Operators group, owner of desk (she created it); sets the default and rolls back.
- rita: Risk staff, owner of desk; writes the versions.
- rex: Risk staff, no role on desk; reviews other people's versions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group

from policies.models import ReviewDecision
from policies.services.defaults import set_default_version
from policies.services.evaluations import (
    EvaluationRequest,
    carry_out_evaluation,
    request_evaluation,
)
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from tests.browser.helpers import staff_member
from tests.factories import make_world
from worlds.roles import Role
from worlds.services.members import grant_role
from worldservice.staff_groups import OPERATORS, RISK_STAFF

DEFAULT_YAML = "selection:\n  gates: ['sharpe >= 0.5']\n"
STRICTER_YAML = "selection:\n  gates: ['sharpe >= 0.7']\n  topk: {total: 1}\n"
METRICS = {"s1": {"sharpe": 0.9}, "s2": {"sharpe": 0.6}, "s3": {"sharpe": 0.2, "side": "short"}}
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@dataclass
class Desk:
    olga: Any
    rita: Any
    rex: Any


def desk_with_a_default(staff_groups: dict[str, Group], *, runs: int = 2) -> Desk:
    """v1 (sharpe >= 0.5), approved by rex and made the default by olga, then `runs` evaluations
    recorded through the evaluation service (what the simulation replays)."""
    desk = Desk(
        olga=staff_member("olga", staff_groups[OPERATORS]),
        rita=staff_member("rita", staff_groups[RISK_STAFF]),
        rex=staff_member("rex", staff_groups[RISK_STAFF]),
    )
    world = make_world(owner=desk.olga, world_id="desk", name="Desk", approvals_required=1)
    grant_role(world=world, user=desk.rita, role=Role.OWNER)
    upload_policy(actor=desk.rita, world_id="desk", source=PolicySource(text=DEFAULT_YAML))
    review_policy(
        actor=desk.rex, world_id="desk", version=1, decision=ReviewDecision.APPROVE, comment="ok"
    )
    set_default_version(actor=desk.olga, world_id="desk", version=1)
    for hour in range(runs):
        run = request_evaluation(
            actor=desk.olga,
            world_id="desk",
            request=EvaluationRequest(
                metrics=METRICS, as_of=START + dt.timedelta(hours=hour), run_id=f"run-{hour}"
            ),
        )
        carry_out_evaluation(run.pk)
    return desk

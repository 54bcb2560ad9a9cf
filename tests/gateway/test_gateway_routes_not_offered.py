"""Routes the existing Gateway's client calls that this service does not offer yet: plain 404s
in the error shape (docs/api.md, "Gateway compatibility")."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

RUN = "/worlds/alpha/strategies/s1/runs/eval-1"
NOT_OFFERED = [
    ("post", RUN + "/ex-post-failures"),
    ("post", RUN + "/override"),
    ("get", "/worlds/alpha/promotions/live/plan?strategy_id=s1&run_id=eval-1"),
    ("get", "/worlds/alpha/promotions/live/candidates?limit=20&include_plan=false"),
    ("post", "/worlds/alpha/promotions/live/approve"),
    ("post", "/worlds/alpha/promotions/live/reject"),
    ("post", "/worlds/alpha/promotions/live/apply"),
    ("post", "/worlds/alpha/promotions/live/auto-apply"),
    ("get", "/worlds/alpha/campaign/status?strategy_id=s1"),
    ("post", "/worlds/alpha/campaign/tick"),
]


@pytest.mark.parametrize(("method", "path"), NOT_OFFERED)
def test_not_offered__404_in_the_error_shape(world, owner, client_for, method, path):
    client = client_for(owner)

    response = (
        getattr(client, method)(path, {}, format="json") if method == "post" else (client.get(path))
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}

"""The override rules live in one module: the API, the service's other callers and the rules
themselves answer the same messages."""

from __future__ import annotations

import pytest

from activation.override_rules import MAX_TTL_SECONDS, check_override
from activation.services.overrides import override_activation
from activation.store import get_store
from worlds.models import WorldAuditLog
from worldservice.api.errors import InvalidInput

URL = "/worlds/alpha/activation"
BODY = {"strategy_id": "abcd", "side": "long", "active": True}


def _errors_of(fields: dict) -> dict:
    with pytest.raises(InvalidInput) as caught:
        check_override(fields)
    return caught.value.errors


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({**BODY, "weight": 1.5}, {"weight": ["must be between 0 and 1"]}),
        ({**BODY, "side": "up"}, {"side": ["must be long or short, not 'up'"]}),
        ({**BODY, "strategy_id": 7}, {"strategy_id": ["must be text, not a number"]}),
        ({**BODY, "strategy_id": "a|b"}, {"strategy_id": ["must not contain whitespace or '|'"]}),
        ({**BODY, "active": "true"}, {"active": ["must be true or false, not text"]}),
        ({**BODY, "ttl_seconds": 5.0}, {"ttl_seconds": ["must be a whole number, not 5.0"]}),
        (
            {**BODY, "ttl_seconds": MAX_TTL_SECONDS + 1},
            {"ttl_seconds": [f"must be at most {MAX_TTL_SECONDS}"]},
        ),
        ({**BODY, "reason": "r" * 1001}, {"reason": ["must be at most 1000 characters"]}),
        ({**BODY, "weight": None}, {"weight": ["must be a number, not null"]}),
        ({"side": "long", "active": True}, {"strategy_id": ["is required"]}),
    ],
)
def test_check_override__broken_rule__worded_at_its_field(fields: dict, errors: dict) -> None:
    assert _errors_of(fields) == errors


def test_check_override__nullable_fields_null__accepted() -> None:
    check_override({**BODY, "effective_mode": None, "run_id": None, "ttl_seconds": None})


@pytest.mark.django_db
def test_put__value_breaks_a_rule__400_with_the_rules_message(world, operator, client_for):
    response = client_for(operator).put(URL, {**BODY, "weight": 2}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"weight": ["must be between 0 and 1"]}
    assert get_store().hash_state("alpha").version == 0


@pytest.mark.django_db
def test_put__shape_wrong__400_from_the_serializer(world, operator, client_for):
    client = client_for(operator)

    missing = client.put(URL, {"strategy_id": "abcd", "side": "long"}, format="json")
    unknown = client.put(URL, {**BODY, "colour": "red"}, format="json")

    assert missing.json()["errors"] == {"active": ["This field is required."]}
    assert unknown.json()["errors"] == {"colour": ["Unknown field."]}
    assert not WorldAuditLog.objects.filter(event="activation_updated").exists()


@pytest.mark.django_db
def test_override_activation__script_caller__same_rules_as_the_api(world, owner):
    with pytest.raises(InvalidInput) as caught:
        override_activation(
            actor="ops-script", world_id="alpha", strategy_id="abcd", side="long", active=1
        )

    assert caught.value.errors == {"active": ["must be true or false, not a number"]}
    assert get_store().hash_state("alpha").version == 0

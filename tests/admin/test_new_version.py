"""New version: prefilled with the default's text; errors inline by line, column and path."""

from __future__ import annotations

import pytest

from policies.models import WorldPolicy
from tests.admin.conftest import YAML
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db

NEW = "admin:policies_worldpolicy_new"
BROKEN = "selection:\n  gates:\n    - sharpe >= 0.5\n    - 'win_rate >'\n  topk: {total: 0}\n"


def test_new_version__opens_prefilled_with_the_default(desk):
    policy = desk.upload(YAML.replace("0.5", "0.65"))
    desk.approve(policy)
    desk.make_default(policy)

    page = desk.rita.get(NEW, "desk")

    assert page.status_code == 200
    assert page.context["form"].initial["yaml"] == policy.yaml
    assert "sharpe &gt;= 0.65" in page.content.decode()
    assert "Prefilled with the default, v1" in page.content.decode()


def test_new_version__with_errors__shown_inline_by_line_column_and_path_nothing_stored(desk):
    response = desk.rita.post(NEW, "desk", data={"yaml": BROKEN})

    text = response.content.decode()
    assert response.status_code == 400
    located = [(e.line, e.column, e.path) for e in response.context["form"].located_errors]
    assert located == [(4, 7, "selection.gates[1]"), (5, 10, "selection.topk.total")]
    # in the list above the text, and again under the line each error is on
    assert "line 4, column 7</a> · <code>selection.gates[1]</code>" in text
    assert '<tr id="S4" class="has-error">' in text
    assert "column 10 · <code>selection.topk.total</code>: must be at least 1" in text
    assert response.context["form"]["yaml"].value() == BROKEN  # the text is kept to fix
    assert not WorldPolicy.objects.exists()
    assert not WorldAuditLog.objects.filter(event="policy_added").exists()


def test_new_version__yaml_syntax_error__placed_by_its_line_and_column(desk):
    response = desk.rita.post(NEW, "desk", data={"yaml": "selection:\n  gates: [sharpe >= 1\n"})

    errors = response.context["form"].located_errors
    assert [(e.path, e.line) for e in errors] == [("yaml", 3)]
    assert "line 3, column 1" in response.content.decode()
    assert not WorldPolicy.objects.exists()


def test_new_version__error_then_fixed__stored_as_a_draft(desk):
    desk.rita.post(NEW, "desk", data={"yaml": BROKEN})

    fixed = BROKEN.replace("'win_rate >'", "'win_rate > 0.5'").replace("total: 0", "total: 3")
    response = desk.rita.post(NEW, "desk", data={"yaml": fixed.replace("\n", "\r\n")})

    assert response.status_code == 302
    assert response["Location"] == "/admin/policies/worldpolicy/desk/v1/"
    policy = WorldPolicy.objects.get()
    assert (policy.status, policy.yaml, policy.created_by) == ("DRAFT", fixed, desk.rita.user)
    assert WorldAuditLog.objects.filter(event="policy_added", actor="rita").exists()
    page = desk.rita.client.get(response["Location"])
    assert "needs 1 approval(s) from someone else" in page.content.decode()


def test_new_version__valid_from__kept(desk):
    desk.rita.post(NEW, "desk", data={"yaml": YAML, "valid_from": "2030-01-31 09:00:00"})

    assert WorldPolicy.objects.get().valid_from.isoformat() == "2030-01-31T09:00:00+00:00"


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("rex", "you hold no role on it"),
        ("otto", "you are operator"),
    ],
)
def test_new_version__not_an_owner__told_why_and_nothing_stored(desk, who, reason):
    person = getattr(desk, who)

    page = person.get(NEW, "desk")
    posted = person.post(NEW, "desk", data={"yaml": YAML})

    assert page.status_code == 403 and posted.status_code == 403
    assert reason in page.content.decode()
    assert "Writing a new version needs the owner role" in page.content.decode()
    assert not WorldPolicy.objects.exists()


@pytest.mark.parametrize("who", ["aude", "pat"])
def test_new_version__without_policy_pages__refused_and_nothing_stored(desk, who):
    posted = getattr(desk, who).post(NEW, "desk", data={"yaml": YAML})

    assert posted.status_code == 403
    assert not WorldPolicy.objects.exists()


def test_add_button__lists_the_worlds_one_owns(desk):
    from tests.factories import make_world

    make_world(owner=desk.olga.user, world_id="other")

    rita = desk.rita.get("admin:policies_worldpolicy_add").content.decode()
    rex = desk.rex.get("admin:policies_worldpolicy_add").content.decode()

    assert 'href="/admin/policies/worldpolicy/desk/new/"' in rita
    assert "/other/new/" not in rita
    assert "you own none" in rex

"""A policy version's review page, per person: what they see, what they may do, what is refused.

Approve / Reject with a comment, Set as default and Roll back to this version through the
confirmation page; every write goes through the services, so the audit rows are the API's.
"""

from __future__ import annotations

import pytest

from policies.models import PolicyApproval, WorldPolicy
from tests.admin.conftest import YAML
from worlds.models import WorldAuditLog, WorldEvent

pytestmark = pytest.mark.django_db

REVIEW = "admin:policies_worldpolicy_review"
APPROVE = "admin:policies_worldpolicy_approve"
REJECT = "admin:policies_worldpolicy_reject"
SET_DEFAULT = "admin:policies_worldpolicy_set_default"


def _page(person, version, name=REVIEW, **kwargs):
    return person.get(name, "desk", version, **kwargs)


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- what each person sees ------------------------------------------------------------------


def test_review_page__approver__sees_yaml_gates_and_both_buttons(desk):
    desk.upload()

    page = _page(desk.rex, 1)

    text = _text(page)
    assert page.status_code == 200
    assert "sharpe &gt;= 0.5" in text  # the gates in words
    assert '<th scope="row" class="line-number">2</th>' in text  # the YAML, numbered
    assert 'value="Approve"' in text and 'value="Reject"' in text
    assert "Compare with" in text and "Simulation" in text
    # rex has no role on desk: the world is named, not linked to a page he cannot open
    assert "/admin/worlds/world/desk/change/" not in text
    assert "Setting the default needs the owner role on world &#x27;desk&#x27;" in text


def test_review_page__author__sees_why_she_cannot_approve(desk):
    desk.upload()

    text = _text(_page(desk.rita, 1))

    assert "You wrote this version; another approver must review it." in text
    assert 'value="Approve"' not in text
    assert "/admin/worlds/world/desk/change/" in text  # an owner opens the world's page


def test_review_page__owner_not_approver__sees_why_not_and_waits_for_approvals(desk):
    desk.upload()

    text = _text(_page(desk.olga, 1))

    assert "Reviewing policies needs the policies.approve_worldpolicy permission" in text
    assert "Version 1 has 0 of 1 approvals needed." in text
    assert 'value="Approve"' not in text


def test_review_page__operator__reads_but_may_not_decide(desk):
    desk.upload()

    text = _text(_page(desk.otto, 1))

    assert "sharpe &gt;= 0.5" in text
    assert "Reviewing policies needs the policies.approve_worldpolicy permission" in text
    assert "needs the owner role on world &#x27;desk&#x27;; you are operator." in text


def test_review_page__auditor__refused_as_an_admin_page(desk):
    desk.upload()

    page = _page(desk.aude, 1)

    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")
    assert "need the policies.view_worldpolicy permission" in _text(page)


def test_review_page__plain_staff__refused_and_anonymous_sent_to_login(desk):
    from django.test import Client

    desk.upload()

    assert _page(desk.pat, 1).status_code == 403
    anonymous = Client().get("/admin/policies/worldpolicy/desk/v1/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_review_page__reader_of_another_world__world_not_found(desk):
    from tests.admin.conftest import person
    from worldservice.staff_groups import OPERATORS

    desk.upload()
    stranger = person("stan", OPERATORS)  # may read versions, but holds no role on desk

    page = _page(stranger, 1)

    assert page.status_code == 404
    assert "World &#x27;desk&#x27; does not exist." in _text(page)


def test_review_page__unknown_version__readable_404(desk):
    page = _page(desk.rex, 7)

    assert page.status_code == 404
    assert "has no policy version 7" in _text(page)


def test_changelist__rows_link_to_review_pages_and_no_bulk_actions(desk):
    desk.upload()

    page = desk.rex.get("admin:policies_worldpolicy_changelist")

    text = _text(page)
    assert page.status_code == 200
    assert 'href="/admin/policies/worldpolicy/desk/v1/"' in text
    assert "0 of 1" in text
    assert 'name="action"' not in text  # no bulk approve / reject / make default


def test_changelist__old_change_url__leads_to_the_review_page(desk):
    policy = desk.upload()

    response = desk.rex.client.get(f"/admin/policies/worldpolicy/{policy.pk}/change/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/policies/worldpolicy/desk/v1/"


# --- Approve and Reject ---------------------------------------------------------------------


def test_approve__with_comment__stored_audited_and_shown_in_history(desk):
    desk.upload()

    response = desk.rex.post(
        APPROVE, "desk", 1, data={"approve-comment": "gates match the memo"}, follow=True
    )

    review = PolicyApproval.objects.get()
    assert (review.user, review.decision, review.comment) == (
        desk.rex.user,
        "approve",
        "gates match the memo",
    )
    audit = WorldAuditLog.objects.get(event="policy_approved")
    assert audit.actor == "rex" and audit.request["comment"] == "gates match the memo"
    text = _text(response)
    assert "You approved version 1 of desk." in _messages(response)
    assert "gates match the memo" in text  # the review history
    assert "You already reviewed version 1." in text  # and the buttons are gone


def test_reject__with_comment__stored_and_blocks_the_default(desk):
    desk.upload()

    desk.rex.post(REJECT, "desk", 1, data={"reject-comment": "drawdown gate missing"})

    assert PolicyApproval.objects.get().decision == "reject"
    assert WorldAuditLog.objects.filter(event="policy_rejected", actor="rex").exists()
    text = _text(_page(desk.olga, 1))
    assert "drawdown gate missing" in text
    assert "Version 1 has 0 of 1 approvals needed and was rejected." in text


def test_approve__by_the_author__refused_with_reason_and_nothing_stored(desk):
    desk.upload()
    audit_rows = WorldAuditLog.objects.count()

    response = desk.rita.post(APPROVE, "desk", 1, data={"approve-comment": "mine"}, follow=True)

    assert "You wrote this version; another approver must review it." in _messages(response)
    assert not PolicyApproval.objects.exists()
    assert WorldAuditLog.objects.count() == audit_rows


def test_approve__twice__refused_and_one_review_kept(desk):
    desk.upload()
    desk.rex.post(APPROVE, "desk", 1, data={"approve-comment": "first"})

    response = desk.rex.post(REJECT, "desk", 1, data={"reject-comment": "second"}, follow=True)

    assert "You already reviewed version 1." in _messages(response)
    assert list(PolicyApproval.objects.values_list("comment", flat=True)) == ["first"]


@pytest.mark.parametrize("who", ["olga", "otto", "aude", "pat"])
def test_approve__without_the_approver_permission__refused_and_nothing_stored(desk, who):
    desk.upload()

    response = getattr(desk, who).post(APPROVE, "desk", 1, data={"approve-comment": "x"})

    assert response.status_code in (302, 403)
    assert not PolicyApproval.objects.exists()
    assert not WorldAuditLog.objects.filter(event="policy_approved").exists()


def test_approve__comment_too_long__form_error_and_nothing_stored(desk):
    desk.upload()

    response = desk.rex.post(APPROVE, "desk", 1, data={"approve-comment": "x" * 10_001})

    assert response.status_code == 400
    assert "Ensure this value has at most 10000 characters" in _text(response)
    assert not PolicyApproval.objects.exists()


def test_approve__get__changes_nothing(desk):
    desk.upload()

    response = _page(desk.rex, 1, name=APPROVE)

    assert response.status_code == 302
    assert not PolicyApproval.objects.exists()


# --- Set as default and Roll back to this version ------------------------------------------


def test_set_as_default__confirmation_page_then_confirm__default_moves(desk):
    first = desk.upload()
    desk.approve(first)

    confirmation = _page(desk.olga, 1, name=SET_DEFAULT)
    text = _text(confirmation)
    assert confirmation.status_code == 200
    assert "Set as default" in text and 'value="Confirm"' in text
    assert "(no default yet)" in text  # the diff's left side
    assert desk.refresh().default_policy_version is None  # the page alone changes nothing

    response = desk.olga.post(
        SET_DEFAULT, "desk", 1, data={"etag": confirmation.context["etag"]}, follow=True
    )

    assert "World desk now runs version 1." in _messages(response)
    assert desk.refresh().default_policy_version == 1
    assert WorldAuditLog.objects.filter(event="policy_default_set", actor="olga").exists()
    assert WorldEvent.objects.filter(type="policy_updated").count() == 1


def test_roll_back__older_version__labelled_and_confirmed(desk):
    first, second = desk.upload(), desk.upload(YAML.replace("0.5", "0.8"))
    for policy in (first, second):
        desk.approve(policy)
        desk.make_default(policy)

    review = _text(_page(desk.olga, 1))
    assert "Roll back to this version" in review
    confirmation = _page(desk.olga, 1, name=SET_DEFAULT)
    assert "from v2 to v1" in _text(confirmation)

    response = desk.olga.post(
        SET_DEFAULT, "desk", 1, data={"etag": confirmation.context["etag"]}, follow=True
    )

    assert "World desk rolled back to version 1." in _messages(response)
    assert desk.refresh().default_policy_version == 1
    assert WorldPolicy.objects.get(world_id="desk", version=2).status == "DEPRECATED"
    audit = WorldAuditLog.objects.filter(event="policy_default_set").last()
    assert audit.result["rollback"] is True


def test_set_as_default__stale_confirmation__refused_and_default_unchanged(desk):
    first, second = desk.upload(), desk.upload(YAML.replace("0.5", "0.8"))
    desk.approve(first)
    desk.approve(second)
    stale = _page(desk.olga, 2, name=SET_DEFAULT).context["etag"]
    desk.make_default(first)  # someone else changed the world after the page was shown

    response = desk.olga.post(SET_DEFAULT, "desk", 2, data={"etag": stale}, follow=True)

    assert "changed since this page was shown" in " ".join(_messages(response))
    assert desk.refresh().default_policy_version == 1


def test_set_as_default__approver_without_role__told_why_not_never_world_missing(desk):
    policy = desk.upload()
    desk.approve(policy)

    confirmation = _page(desk.rex, 1, name=SET_DEFAULT)
    text = _text(confirmation)
    response = desk.rex.post(SET_DEFAULT, "desk", 1, data={"etag": desk.world.etag}, follow=True)

    assert confirmation.status_code == 200
    assert "does not exist" not in text
    assert "needs the owner role on world &#x27;desk&#x27;; you hold no role on it." in text
    assert 'value="Confirm"' not in text
    assert any("you hold no role on it" in message for message in _messages(response))
    assert desk.refresh().default_policy_version is None


def test_set_as_default__operator__refused_and_nothing_changes(desk):
    policy = desk.upload()
    desk.approve(policy)
    audit_rows = WorldAuditLog.objects.count()

    response = desk.otto.post(SET_DEFAULT, "desk", 1, data={"etag": desk.world.etag}, follow=True)

    assert any("you are operator" in message for message in _messages(response))
    assert desk.refresh().default_policy_version is None
    assert WorldAuditLog.objects.count() == audit_rows


def test_set_as_default__unapproved__owner_told_and_nothing_changes(desk):
    desk.upload()

    confirmation = _page(desk.olga, 1, name=SET_DEFAULT)
    response = desk.olga.post(SET_DEFAULT, "desk", 1, data={"etag": desk.world.etag}, follow=True)

    assert "Version 1 has 0 of 1 approvals needed." in _text(confirmation)
    assert "Version 1 has 0 of 1 approvals needed." in _messages(response)
    assert desk.refresh().default_policy_version is None
    assert not WorldAuditLog.objects.filter(event="policy_default_set").exists()


# --- the whole four-eyes flow, through the pages only ---------------------------------------


def test_four_eyes_flow__write_approve_default_then_roll_back__all_through_pages(desk):
    new = "admin:policies_worldpolicy_new"
    for threshold in ("0.5", "0.9"):
        desk.rita.post(new, "desk", data={"yaml": YAML.replace("0.5", threshold)})
        version = WorldPolicy.objects.filter(world_id="desk").count()
        desk.rita.post(APPROVE, "desk", version, data={"approve-comment": "mine"})  # refused
        desk.rex.post(APPROVE, "desk", version, data={"approve-comment": f"ok v{version}"})
        etag = _page(desk.olga, version, name=SET_DEFAULT).context["etag"]
        desk.olga.post(SET_DEFAULT, "desk", version, data={"etag": etag})
        assert desk.refresh().default_policy_version == version

    etag = _page(desk.olga, 1, name=SET_DEFAULT).context["etag"]
    desk.olga.post(SET_DEFAULT, "desk", 1, data={"etag": etag})

    assert desk.refresh().default_policy_version == 1
    reviews = PolicyApproval.objects.order_by("id")
    assert [(r.user.username, r.comment) for r in reviews] == [("rex", "ok v1"), ("rex", "ok v2")]
    events = list(
        WorldAuditLog.objects.filter(world_id="desk")
        .exclude(event__in=["world_created", "member_changed"])
        .values_list("event", "actor")
    )
    assert events == [
        ("policy_added", "rita"),
        ("policy_approved", "rex"),
        ("policy_default_set", "olga"),
        ("policy_added", "rita"),
        ("policy_approved", "rex"),
        ("policy_default_set", "olga"),
        ("policy_default_set", "olga"),
    ]

"""The admin home: the way in, and "Awaiting my review" from every registered review source."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from policies.models import PolicyStatus
from policies.services.uploads import PolicySource, upload_policy
from tests.admin.conftest import YAML, person
from tests.factories import make_world
from worlds.models import WorldUserObjectPermission
from worldservice.review_queue import ReviewItem, review_sources
from worldservice.staff_groups import RISK_STAFF

pytestmark = pytest.mark.django_db

HOME = "admin:index"
AWAITING = "admin:awaiting_review"


def _titles(response) -> list[str]:
    return [item.title for item in response.context["review_items"]]


def test_home__approver__sees_others_drafts_oldest_first_with_links(desk):
    desk.upload()
    desk.upload(YAML.replace("0.5", "0.6"), by=desk.olga)

    page = desk.rex.get(HOME)

    text = page.content.decode()
    assert page.status_code == 200
    assert _titles(page) == ["desk v1", "desk v2"]
    assert "Awaiting my review" in text
    assert 'href="/admin/policies/worldpolicy/desk/v1/"' in text
    assert "rita" in text and "olga" in text  # who asked


def test_home__own_decided_and_non_draft_versions__not_listed(desk):
    first = desk.upload()
    second = desk.upload(YAML.replace("0.5", "0.6"))
    desk.upload(YAML.replace("0.5", "0.7"), by=desk.rex)  # rex's own
    desk.approve(first)
    desk.make_default(first)  # v1: decided by rex, and no longer a draft

    assert _titles(desk.rex.get(HOME)) == ["desk v2"]
    assert second.status == PolicyStatus.DRAFT
    # rita (Risk staff, an approver too) wrote v1 and v2: only rex's draft awaits her
    assert _titles(desk.rita.get(HOME)) == ["desk v3"]


@pytest.mark.parametrize("who", ["olga", "otto", "aude", "pat"])
def test_home__not_an_approver__nothing_awaits(desk, who):
    desk.upload()

    page = getattr(desk, who).get(HOME)

    assert page.status_code == 200
    assert page.context["review_items"] == []
    assert "Nothing awaits your review." in page.content.decode()


def test_home__approver_on_one_world_only__sees_that_world(desk):
    make_world(owner=desk.olga.user, world_id="elsewhere")
    desk.upload()
    upload_policy(actor=desk.olga.user, world_id="elsewhere", source=PolicySource(text=YAML))
    local = person("lena", RISK_STAFF)
    local.user.groups.clear()  # not a global approver: approves on "elsewhere" only
    local.user.user_permissions.add(
        Permission.objects.get(content_type__app_label="policies", codename="view_worldpolicy")
    )
    WorldUserObjectPermission.objects.create(
        user=local.user,
        content_object_id="elsewhere",
        permission=Permission.objects.get(
            content_type__app_label="worlds", codename="approve_policies"
        ),
    )

    assert _titles(local.get(HOME)) == ["elsewhere v1"]


def test_home__links_the_world_list_the_audit_log_and_the_review_list(desk):
    risk = desk.rex.get(HOME).content.decode()
    audit = desk.aude.get(HOME).content.decode()

    assert 'href="/admin/worlds/world/"' in risk
    assert 'href="/admin/worlds/worldauditlog/"' not in risk
    assert 'href="/admin/worlds/worldauditlog/"' in audit
    assert 'href="/admin/worlds/world/"' not in audit
    assert 'href="/admin/awaiting-review/"' in risk and 'href="/admin/awaiting-review/"' in audit


def test_home__many_items__first_ten_then_a_link_to_all(desk):
    for number in range(12):
        desk.upload(YAML.replace("0.5", f"0.{number + 10}"))

    home = desk.rex.get(HOME)
    everything = desk.rex.get(AWAITING)

    assert len(home.context["review_items"]) == 10
    assert "All 12 awaiting my review" in home.content.decode()
    assert everything.status_code == 200
    assert _titles(everything) == [f"desk v{n}" for n in range(1, 13)]


@pytest.fixture
def world_change_source():
    """A second source, registered the way the world changes will be (one line)."""
    moment = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def world_changes(user):
        return [ReviewItem("world change", "desk", "desk: allow_live on", "olga", moment, "/x")]

    review_sources.register(world_changes)
    yield
    review_sources.unregister(world_changes)


def test_home__another_registered_source__merged_oldest_first(desk, world_change_source):
    desk.upload()

    page = desk.rex.get(HOME)

    assert [(i.kind, i.title) for i in page.context["review_items"]] == [
        ("world change", "desk: allow_live on"),
        ("policy version", "desk v1"),
    ]


def test_review_sources__registering_twice__listed_once(desk, world_change_source):
    from policies.admin import policy_versions_awaiting

    review_sources.register(policy_versions_awaiting)
    desk.upload()

    assert _titles(desk.rex.get(HOME)) == ["desk: allow_live on", "desk v1"]


def test_home__pending_world_change__awaits_other_approvers_with_a_link(desk):
    from worlds.services.worlds import update_world

    outcome = update_world(
        actor=desk.rita.user, world_id=desk.world.id, changes={"approvals_required": 0}
    )
    change = outcome.pending
    assert change is not None

    page = desk.rex.get(HOME)

    assert _titles(page) == [f"desk change #{change.pk}: approvals_required"]
    assert f'href="/admin/worlds/worldchange/{change.pk}/change/"' in page.content.decode()
    assert desk.rex.get("admin:worlds_worldchange_change", change.pk).status_code == 200
    # the requester is never asked to review their own change
    assert _titles(desk.rita.get(HOME)) == []
